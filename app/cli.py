"""The ``zstack-mock`` command line: ``serve`` and ``openapi``."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import __version__, environment
from .admin_token import OPEN_CALLS
from .limits import LIMITS

_SERVE_EXAMPLES = """\
examples:
  zstack-mock serve                                   # http://127.0.0.1:8080, ./zstack-mock.db
  zstack-mock serve --port 9000 --reset               # fresh copy of the default fixtures
  zstack-mock serve --database-url sqlite://          # in memory, gone at exit
  zstack-mock serve --fixtures my-cloud.yaml --reset  # your own inventory
  ZSTACK_MOCK_SESSION_TIMEOUT=60 zstack-mock serve    # sessions expire after a minute idle
  zstack-mock serve --api-mode async --job-duration 2 # 202 + api-jobs, each job takes 2 s
  zstack-mock serve --seed 7 --database-url sqlite://  # the same UUIDs every run
  ZSTACK_MOCK_ADMIN_TOKEN=s3cret zstack-mock serve    # /_mock needs 'Authorization: Bearer s3cret'
  zstack-mock serve --sandbox --host 0.0.0.0          # a shared "Try It Out" backend: one fake cloud per session
  zstack-mock serve --port 0 --port-file port.txt     # a free port, written to port.txt once listening
  zstack-mock serve --workers auto                    # one process per core, one port, one shared state

"""

_OPENAPI_EXAMPLES = """\
examples:
  zstack-mock openapi                          # print the OpenAPI document
  zstack-mock openapi --output openapi/openapi.json
"""

_GENERATE_EXAMPLES = """\
examples:
  zstack-mock generate --output my-cloud.yaml                   # 3 accounts, 3 storages, 100 backups, 100 images
  zstack-mock generate --images 1000 --backups 1000 --seed 7 --output big.yaml
  zstack-mock serve --fixtures big.yaml --reset                 # serve it
  zstack-mock generate --images 100000 --backups 100000 --seed 1 --database-url sqlite:///./zstack-mock.db
  zstack-mock serve                                             # serve what was loaded
  zstack-mock generate --accounts 20 --backup-storages 8 --include-defaults --output big.json

The same seed gives the same data byte for byte, and resource i depends only on the seed, i and
the numbers of accounts and backup storages: --images 1000 is the first 1000 of --images 100000.
Account 0 is always admin (password "password"); account i > 0 has password "password-<i>".
--include-defaults adds the default fixtures' alice ("alice-password") and bob ("bob-password"),
who own nothing generated. --database-url replaces the whole inventory of that database.
"""

_MAIN_EXAMPLES = """\
examples:
  zstack-mock serve --reset
  curl -X PUT http://127.0.0.1:8080/zstack/v1/accounts/login \\
       -d '{"logInByAccount":{"accountName":"admin","password":"<sha512 of password>"}}'
  zstack-mock serve --help
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zstack-mock",
        description="A stateful simulator of the ZStack cloud REST API.",
        epilog=_MAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"zstack-mock {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the simulator",
        description="Serve the ZStack REST API over the inventory in the database, loading the fixtures "
        "into an empty database first.",
        epilog=_SERVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (default 8080; 0 picks a free port)")
    serve.add_argument(
        "--port-file", type=Path, metavar="PATH",
        help="write the port to PATH once listening (atomically; removed at exit); standard output also says "
        "'zstack-mock: serving on http://HOST:PORT' then",
    )
    serve.add_argument(
        "--workers", metavar="N",
        help="processes serving the port over one database: 1 (default) to 64, or auto (one per core)",
    )
    serve.add_argument("--database-url", help="sqlite:///PATH or sqlite:// (default sqlite:///./zstack-mock.db)")
    serve.add_argument("--max-body-bytes", type=int, metavar="N", help="largest request body accepted (default 1048576)")
    serve.add_argument("--fixtures", type=Path, help="fixtures file (default: the packaged fixtures/default.yaml)")
    serve.add_argument("--reset", action="store_true", default=None, help="wipe the database and reload the fixtures")
    serve.add_argument("--session-timeout", type=int, help="seconds a session lives after its last use (default 7200)")
    serve.add_argument("--max-sessions-per-account", type=int, help="live sessions per account, 0 = no limit (default 500)")
    serve.add_argument("--log-level", help="critical, error, warning, info (default), debug, trace")
    serve.add_argument(
        "--log-format", choices=["text", "json"], help="request lines on stdout as text (default) or JSON lines"
    )
    serve.add_argument("--quiet", action="store_true", default=None, help="no request lines")
    serve.add_argument(
        "--metrics", action=argparse.BooleanOptionalAction, default=None,
        help="Prometheus metrics at /metrics (default: on; guarded by --admin-token when set)",
    )
    serve.add_argument(
        "--api-mode", choices=["sync", "async"],
        help="answer the create API with 200 (sync, default) or 202 and a job (async, as real ZStack)",
    )
    serve.add_argument("--public-url", help="base URL for job locations (default: the URL each request came in on)")
    serve.add_argument("--job-duration", help="seconds an async job takes: N or MIN-MAX (default 0.2-1)")
    serve.add_argument("--job-retention", type=int, help="seconds a finished job stays pollable (default 10800)")
    serve.add_argument("--webhook-attempts", type=int, help="tries per webhook POST (default 15)")
    serve.add_argument("--webhook-interval", type=float, help="seconds between webhook tries (default 2)")
    serve.add_argument(
        "--journal-size", type=int, help="requests kept in /_mock/requests, 0 = no journal (default 10000)"
    )
    serve.add_argument(
        "--cors-origins", metavar="ORIGINS",
        help="origins browsers may call from: '*' (default), a comma-separated list, or '' for none",
    )
    serve.add_argument("--faults", metavar="FILE", help="YAML or JSON fault rules to install at start-up")
    serve.add_argument("--scenarios", metavar="FILE", help="scenario catalogue (default: fixtures/scenarios.yaml)")
    serve.add_argument(
        "--no-fault-injection", dest="fault_injection", action="store_const", const=False,
        help="take the fault layer out (rules and X-Mock-Scenario are ignored)",
    )
    serve.add_argument(
        "--admin-token", metavar="TOKEN",
        help=f"require 'Authorization: Bearer TOKEN' on /_mock, except {_open_calls()} (and, under --sandbox, a "
        "visitor's calls on its own tenant with X-Mock-Session); the environment variable ZSTACK_MOCK_ADMIN_TOKEN "
        "keeps it out of the process list",
    )
    serve.add_argument(
        "--sandbox", action="store_true", default=None,
        help="give every session a private copy of the fixtures (many visitors, one server)",
    )
    serve.add_argument("--sandbox-idle", type=int, metavar="SECONDS", help="idle seconds before a tenant goes (default 3600)")
    serve.add_argument(
        "--sandbox-max-tenants", type=int, metavar="N",
        help="tenants kept; when full, a login evicts the least recently used if idle for --sandbox-evict-after, "
        "else gets 503 (default 1000)",
    )
    serve.add_argument(
        "--sandbox-evict-after", type=float, metavar="SECONDS",
        help="seconds without a request before a tenant may make way for a login when the sandbox is full, "
        "0 = any (default 300 in the public profile, 0 otherwise)",
    )
    serve.add_argument(
        "--sandbox-rate-limit", type=float, metavar="PER_SECOND", help="requests per second per tenant, 0 = none (default 20)"
    )
    serve.add_argument(
        "--seed", type=int, help="fix generated UUIDs, job durations and fault draws (with PUT /_mock/clock: "
        "byte-identical answers)",
    )
    serve.add_argument(
        "--public-profile", action=argparse.BooleanOptionalAction, default=None,
        help="tight limits and outbound rules for anonymous visitors (default: on with --sandbox); see "
        "docs/security.md",
    )
    serve.add_argument(
        "--webhook-allow", metavar="HOSTS",
        help="public profile: hosts, addresses and CIDR networks webhooks may go to, comma-separated (default: none)",
    )
    serve.add_argument(
        "--forwarded-allow-ips", metavar="IPS",
        help="proxies trusted to set X-Forwarded-For, comma-separated or '*' (default 127.0.0.1)",
    )
    limits = serve.add_argument_group("limits", "each defaults to its profile's value (local / public)")
    for limit in LIMITS:
        limits.add_argument(
            "--" + limit.name.replace("_", "-"), type=int if limit.integer else float, metavar="N",
            help=f"{limit.help} (default {_number(limit.local)} / {_number(limit.public)})",
        )

    serve.epilog = _SERVE_EXAMPLES + environment.help_section(serve_flags(serve))

    generate = commands.add_parser(
        "generate",
        help="generate a realistic inventory of any size",
        description="Generate accounts, ImageStore backup storages, volume backups, tags and images, "
        "reproducibly from a seed, and write them as a fixtures file or load them into a database.",
        epilog=_GENERATE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    generate.add_argument("--accounts", type=int, default=3, help="accounts, admin included (default 3)")
    generate.add_argument("--backup-storages", type=int, default=3, help="ImageStore backup storages (default 3)")
    generate.add_argument("--backups", type=int, default=100, help="volume backups (default 100)")
    generate.add_argument("--images", type=int, default=100, help="images (default 100)")
    generate.add_argument("--tags", type=int, default=5, help="tags (default 5)")
    generate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    generate.add_argument(
        "--include-defaults", action="store_true", help="also add the default fixtures' accounts alice and bob"
    )
    generate.add_argument("--output", type=Path, help="write a fixtures file (YAML; JSON if it ends in .json)")
    generate.add_argument("--database-url", help="replace the inventory of this database (sqlite:///PATH)")

    openapi = commands.add_parser(
        "openapi",
        help="print or write the OpenAPI document",
        description="Generate the OpenAPI document from the application.",
        epilog=_OPENAPI_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    openapi.add_argument("--output", type=Path, help="write to this file instead of standard output")
    return parser


def serve_flags(serve: argparse.ArgumentParser) -> dict[str, str]:
    """Setting name to ``serve``'s flag for it (the long form)."""
    return {action.dest: action.option_strings[0] for action in serve._actions
            if action.option_strings and action.dest != "help"}


def _open_calls() -> str:
    return " and ".join(sorted({f"{method} {path}" for method, path in OPEN_CALLS if method == "GET"}))


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "openapi":
        return _openapi(args)
    if args.command == "generate":
        return _generate(args)
    parser.print_help()
    return 2


def _settings(overrides: dict[str, Any]) -> Any:
    from .settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for problem in exc.errors():
            field = ".".join(str(p) for p in problem["loc"])
            print(f"zstack-mock: invalid setting {field}: {problem['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


def _serve(args: argparse.Namespace) -> int:
    from .faults.files import FaultFileError
    from .main import create_app
    from .seeding.fixtures import FixtureError
    from .serving.config import serve
    from .serving.several import serve_workers, workers_problem
    from .store.sql import StoreError
    from .store.urls import display_url
    from .writable import write_problem

    settings = _settings(
        {
            "host": args.host,
            "port": args.port,
            "port_file": args.port_file,
            "database_url": args.database_url,
            "workers": args.workers,
            "max_body_bytes": args.max_body_bytes,
            "fixtures": args.fixtures,
            "reset": args.reset,
            "session_timeout": args.session_timeout,
            "max_sessions_per_account": args.max_sessions_per_account,
            "log_level": args.log_level,
            "log_format": args.log_format,
            "quiet": args.quiet,
            "metrics": args.metrics,
            "api_mode": args.api_mode,
            "public_url": args.public_url,
            "job_duration": args.job_duration,
            "job_retention": args.job_retention,
            "webhook_attempts": args.webhook_attempts,
            "webhook_interval": args.webhook_interval,
            "journal_size": args.journal_size,
            "faults": args.faults,
            "cors_origins": args.cors_origins,
            "scenarios": args.scenarios,
            "fault_injection": args.fault_injection,
            "admin_token": args.admin_token,
            "seed": args.seed,
            "sandbox": args.sandbox,
            "sandbox_idle": args.sandbox_idle,
            "sandbox_max_tenants": args.sandbox_max_tenants,
            "sandbox_rate_limit": args.sandbox_rate_limit,
            "sandbox_evict_after": args.sandbox_evict_after,
            "public_profile": args.public_profile,
            "webhook_allow": args.webhook_allow,
            "forwarded_allow_ips": args.forwarded_allow_ips,
            **{limit.name: getattr(args, limit.name) for limit in LIMITS},
        }
    )
    if settings.port_file is not None and (problem := write_problem(settings.port_file)) is not None:
        print(f"zstack-mock: cannot start: cannot write the port file {settings.port_file}: {problem}", file=sys.stderr)
        return 1
    if (problem := workers_problem(settings)) is not None:
        print(f"zstack-mock: cannot start: {problem}", file=sys.stderr)
        return 1
    try:
        app = create_app(settings)
    except (FixtureError, StoreError, FaultFileError) as exc:
        print(f"zstack-mock: cannot start: {exc}", file=sys.stderr)
        return 1
    print(
        f"zstack-mock {__version__}: inventory in {display_url(settings.database_url)} "
        f"({app.state.server.fixtures_status}); API under /zstack/v1, console at /, OpenAPI docs at /docs; "
        "log in as admin / password",
        file=sys.stderr,
        flush=True,
    )
    if settings.worker_count > 1:
        # The parent's app did the one-time start-up; each worker builds its own over the same database.
        app.state.server.close()
        del app
        return serve_workers(settings)
    # Start-up objects live as long as the server: keep the collector from rescanning them.
    gc.collect()
    gc.freeze()
    serve(app, settings)
    return 0


def _generate(args: argparse.Namespace) -> int:
    """Exactly one target; any problem is one line on stderr and exit code 2."""
    import time

    from .progress import Progress
    from .seeding.fixtures import FixtureError, apply_fixtures
    from .seeding.generate import GenerateSpec, generate_records, write_generated
    from .seeding.startup import open_store
    from .store.sql import StoreError
    from .store.sqlite import sqlite_path
    from .store.urls import database_errors, display_url, is_postgres_url

    def fail(message: str) -> int:
        print(f"zstack-mock generate: {message}", file=sys.stderr)
        return 2

    if (args.output is None) == (args.database_url is None):
        return fail("give exactly one of --output FILE and --database-url URL")
    spec = GenerateSpec(
        accounts=args.accounts, backup_storages=args.backup_storages, backups=args.backups,
        images=args.images, tags=args.tags, seed=args.seed, include_defaults=args.include_defaults,
    )
    target = str(args.output) if args.output is not None else args.database_url
    shown = display_url(target)
    started = time.perf_counter()
    what = f"{spec.images} images and {spec.backups} volume backups"
    try:
        spec.check()
        if args.output is not None:
            with Progress("zstack-mock generate", 2) as progress:
                counts = write_generated(spec, args.output, on_stage=lambda stage: progress.stage(f"{stage} {what}"))
            done = f"wrote {_counts(counts)} to {shown}"
        else:
            if not is_postgres_url(target) and sqlite_path(target) == ":memory:":
                return fail(f"{shown} is an in-memory database, gone at exit: give sqlite:///PATH")
            open_store(target, reset=True).close()  # a bad path fails now, not after generating
            with Progress("zstack-mock generate", 2) as progress:
                progress.stage(f"generating and checking {what}")
                records = generate_records(spec)
                progress.stage(f"loading them into {shown}")
                store = open_store(target, reset=True)
                try:
                    apply_fixtures(store, records, source=f"generated (seed {spec.seed})")
                finally:
                    store.close()
            done = f"loaded {_counts(_record_counts(records))} into {shown}"
    except ValueError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write {shown}: {exc.strerror or exc}")
    except Exception as exc:
        if not isinstance(exc, (FixtureError, StoreError, *database_errors())):
            raise
        return fail(f"cannot fill {shown}: {exc}")
    print(f"{done} in {time.perf_counter() - started:.1f} s (seed {spec.seed})")
    return 0


def _record_counts(records: list[Any]) -> dict[str, int]:
    from .store.records import Account, BackupStorage, Image, TagPattern, VolumeBackup

    kinds: dict[type[Any], str] = {
        Account: "accounts", BackupStorage: "backupStorages", VolumeBackup: "volumeBackups", TagPattern: "tags",
        Image: "images",
    }
    counts = dict.fromkeys(kinds.values(), 0)
    for record in records:
        kind = kinds.get(type(record))
        if kind is not None:
            counts[kind] += 1
    return counts


def _counts(counts: dict[str, int]) -> str:
    return (
        f"{counts['accounts']} accounts, {counts['backupStorages']} backup storages, "
        f"{counts['volumeBackups']} volume backups, {counts['tags']} tags and {counts['images']} images"
    )


def _openapi(args: argparse.Namespace) -> int:
    from .openapi_doc import openapi_text

    text = openapi_text()
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
