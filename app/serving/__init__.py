"""The HTTP server: uvicorn, configured from the settings, with the bounds uvicorn does not enforce itself.

``config.server_config`` is the one place that turns settings into a ``uvicorn.Config``; ``config.serve``
runs it (``zstack-mock serve``). ``protocol.BoundedHttpProtocol`` is the connection protocol it uses.
"""
