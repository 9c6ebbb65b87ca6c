"""System tags a real management node would recognise on an image-creating call.

ZStack's ``TagManagerImpl`` rejects a create request whose ``systemTags`` hold a tag that matches
no registered pattern (SYS.1007 ``no system tag matches <tag>``). It skips the check only when every
tag is ephemeral (``ephemeral::...``). A real node registers hundreds of patterns across all
resource types; this list holds the image patterns (``ImageSystemTags``) and the generic ones a
client of this endpoint plausibly sends. ``{placeholder}`` matches any non-empty text without ``::``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PATTERNS: tuple[str, ...] = (
    "qemuga",
    "qemuga::{qemuga}",
    "remote",
    "packer",
    "CreatedBySystem",
    "image::cert::{imageCert}",
    "sourceType::{sourceType}",
    "bootMode::{bootMode}",
    "GuestTools::{guestToolsVersion}",
    "buildapp::{buildapp}",
    "imageName::{imageName}::primaryStorageUuid::{primaryStorageUuid}",
    "driver::{driver}",
    "resourceConfig::{category}::{name}::{value}",
)

EPHEMERAL_PREFIX = "ephemeral::"


def _compile(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", pattern)
    regex = "".join("(?:(?!::).)+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex)


_COMPILED = tuple(_compile(p) for p in PATTERNS)


def unmatched_system_tag(tags: Iterable[str]) -> str | None:
    """The first tag no pattern matches, or None; None too when every tag is ephemeral."""
    unique = list(dict.fromkeys(tags))
    if all(tag.startswith(EPHEMERAL_PREFIX) for tag in unique):
        return None
    for tag in unique:
        if not any(p.fullmatch(tag) for p in _COMPILED):
            return tag
    return None
