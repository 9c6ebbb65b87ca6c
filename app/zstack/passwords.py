"""Passwords as ZStack has them: clients send, and the management node stores, the SHA-512 hex digest."""

from __future__ import annotations

import hashlib


def hash_password(plain: str) -> str:
    return hashlib.sha512(plain.encode()).hexdigest()
