"""The convention the docs' examples follow: which blocks run, and how their answers are read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.shell_examples import answer_matches, blocks, documents

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = """\
Some prose.

```sh
# a comment before the command
curl -s localhost:8080/a \\
  -d '{"x":1}'
# → {"inventory":{"uuid":…,
#     "name":"n"}}
curl -s localhost:8080/b   # → {"count":3}
echo done
```

```sh norun: needs Docker
docker build .
```

```
zstack-mock serve
```
"""


def test_sh_blocks_are_split_into_commands_and_their_answers() -> None:
    runs, norun = blocks(SAMPLE)
    assert runs.runs and not norun.runs and norun.reason == "needs Docker"
    first, second, last = runs.steps
    assert first.shell[1:] == ["curl -s localhost:8080/a \\", "  -d '{\"x\":1}'"]
    assert first.answer is not None and "\"name\":\"n\"" in first.answer
    assert (second.shell, second.answer) == (["curl -s localhost:8080/b  "], ' {"count":3}')
    assert (last.shell, last.answer) == (["echo done"], None)


def test_an_answer_with_no_command_before_it_is_refused() -> None:
    with pytest.raises(ValueError, match="line 2"):
        blocks("```sh\n# → {}\n```\n")


@pytest.mark.parametrize(
    ("expected", "output", "matches"),
    [
        ('{"count":3}', '{"count":3}\n', True),
        ('{"count":3}', '{"count":4}', False),
        ('{"inventory":{"uuid":"<session uuid>",…}} 200', '{"inventory":{"uuid":"ab","name":"x"}} 200', True),
        ('{"inventory":{"uuid":"<session uuid>",…}} 200', '{"inventory":{"uuid":"ab","name":"x"}} 503', False),
        ('{"a":1,…"b":2}', '{"b":2,"a":1}', False),  # the pieces in order
        ('Failed to download\n  image[name:t]', "Failed to download image[name:t]", True),
        ('{"x":...}', '{"x":[1, 2]}', True),
    ],
)
def test_answers_are_fragments_in_order(expected: str, output: str, matches: bool) -> None:
    assert answer_matches(expected, output) is matches


def test_every_norun_block_says_why_and_the_readme_checks_its_answers() -> None:
    for path in documents(ROOT):
        for block in blocks(path.read_text()):
            assert block.runs or block.reason, f"{path.name}:{block.line}: a norun block needs a reason"
    readme = [step for block in blocks((ROOT / "README.md").read_text()) if block.runs for step in block.steps]
    assert sum(step.answer is not None for step in readme) >= 40


def test_no_example_touches_the_database_make_run_serves() -> None:
    """A second server or a generated cloud must not rewrite ./zstack-mock.db under ``make run``'s server."""
    for path in documents(ROOT):
        for block in blocks(path.read_text()):
            commands = [line for step in block.steps for line in step.shell if block.runs]
            for line in commands:
                if re.search(r"zstack-mock (serve|generate)\b", line) and "--output" not in line:
                    database = re.search(r"--database-url (\S+)", line)
                    assert database and "zstack-mock.db" not in database[1], f"{path.name}: {line}"
