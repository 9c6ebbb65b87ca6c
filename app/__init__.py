"""zstack-mock: a stateful simulator of the ZStack cloud REST API.

``MockServer`` and ``Control`` are imported when first used, so that importing the package (the pytest plugin
does, in every test run) loads nothing heavy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .control_client import Control, ControlError
    from .embedded import MockServer, MockServerError

__all__ = ["Control", "ControlError", "MockServer", "MockServerError", "__version__"]

_LAZY = {"MockServer": "embedded", "MockServerError": "embedded", "Control": "control_client",
         "ControlError": "control_client"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
