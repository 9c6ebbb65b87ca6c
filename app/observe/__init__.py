"""Watching the server from outside: Prometheus metrics at ``/metrics`` and one log line per request.

``middleware`` is the pure-ASGI layer that sees every request (outermost, so it times and counts what
the client got from all the other layers); ``metrics`` holds a server's own registry; ``request_log``
the ``zstack_mock.requests`` logger and its text and JSON formats. Routes never see any of it.
"""
