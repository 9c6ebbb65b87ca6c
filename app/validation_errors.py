"""Pydantic validation errors as the one-line messages clients and operators read."""

from __future__ import annotations

from pydantic import ValidationError


def validation_problems(exc: ValidationError) -> str:
    """``field.path: message; ...`` for every problem (``body`` for the object as a whole)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}" for error in exc.errors()
    )
