"""Server settings: one typed object, read from ZSTACK_MOCK_* environment variables and CLI flags.

Built by the CLI or by whoever calls ``create_app``; never at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.fixture_files import default_fixtures_path


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZSTACK_MOCK_", extra="ignore")

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(8080, ge=0, le=65535, description="TCP port to listen on (0 picks a free one).")
    database_url: str = Field(
        "sqlite:///./zstack-mock.db",
        description="Where the inventory lives: sqlite:///PATH for a file, sqlite:// for memory.",
    )
    fixtures: Path = Field(
        default_factory=default_fixtures_path,
        description="Fixtures file loaded into an empty database (or on --reset).",
    )
    reset: bool = Field(False, description="Wipe the database and reload the fixtures at start-up.")
    session_timeout: int = Field(
        7200, ge=1, description="Seconds a session lives after its last use (identity.session.timeout)."
    )
    max_sessions_per_account: int = Field(
        500, ge=0, description="Concurrent live sessions per account before ID.1006; 0 means no limit."
    )
    max_body_bytes: int = Field(1024 * 1024, ge=1, description="Largest request body accepted.")
    log_level: str = Field("info", description="uvicorn log level.")

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith("sqlite:"):
            raise ValueError(f"unsupported database URL {value!r}: only sqlite:///PATH and sqlite:// are supported")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        allowed = {"critical", "error", "warning", "info", "debug", "trace"}
        if value.lower() not in allowed:
            raise ValueError(f"log level must be one of {sorted(allowed)}")
        return value.lower()
