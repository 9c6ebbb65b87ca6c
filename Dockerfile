# zstack-mock: the same install and start as `make run`, in a slim image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ZSTACK_MOCK_HOST=0.0.0.0 \
    ZSTACK_MOCK_PORT=8080 \
    ZSTACK_MOCK_DATABASE_URL=sqlite:////data/zstack-mock.db

RUN groupadd --system zstack && useradd --system --gid zstack --home-dir /app --shell /usr/sbin/nologin zstack

WORKDIR /app
COPY pyproject.toml README.md ./
COPY app ./app
COPY fixtures ./fixtures
RUN python -m venv /app/.venv \
    && /app/.venv/bin/python -m pip install --quiet --upgrade pip \
    && /app/.venv/bin/python -m pip install --quiet . \
    && mkdir -p /data && chown zstack:zstack /data

ENV PATH=/app/.venv/bin:$PATH
USER zstack
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_mock/health' % os.environ.get('ZSTACK_MOCK_PORT', '8080'), timeout=2)"

CMD ["zstack-mock", "serve"]
