"""The request journal: every call to the ZStack API, what it was answered and what fault fired.

``middleware.JournalMiddleware`` (the outermost layer for ``/zstack/``) captures each exchange,
``recorder.Journal`` buffers and writes them to the store in batches, ``exchange`` turns one into an
entry (operation, redaction, verdict), ``queries`` reads them back for ``/_mock/requests``.
"""
