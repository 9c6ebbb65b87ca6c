"""The console page at ``/``: a self-contained form for the emulated operation, and buttons for the created
image's lifecycle, served by the app.

``index.html``, ``console.js`` and ``console.css`` are package files (they ship in the wheel); the
page reads the operation, its field descriptions and examples from ``/openapi.json`` at run time,
so nothing in it is a copy of the documentation that could drift. ``router`` serves them.
"""

from .routes import router

__all__ = ["router"]
