# zstack-mock in a slim image: the wheel that `pip wheel .` builds, installed in a virtual environment,
# run as a non-root user (uid 10001), the database on the /data volume.
#
# The base is pinned to CPython 3.11 on Debian 12 (bookworm). For builds that never change under you,
# pin its digest too, as the registry reports it today:
#   docker buildx imagetools inspect python:3.11-slim-bookworm
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest> -t zstack-mock .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the wheel, and a virtual environment with it and its dependencies ---
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY fixtures ./fixtures
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/zstack-mock \
    && /opt/zstack-mock/bin/python -m pip install /wheels/zstack_mock-*.whl

# --- run: the environment only; no compiler, no source tree, no pip cache ---
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/zstack-mock/bin:$PATH \
    ZSTACK_MOCK_HOST=0.0.0.0 \
    ZSTACK_MOCK_PORT=8080 \
    ZSTACK_MOCK_DATABASE_URL=sqlite:////data/zstack-mock.db

RUN groupadd --system --gid 10001 zstack \
    && useradd --system --uid 10001 --gid zstack --home-dir /data --no-create-home --shell /usr/sbin/nologin zstack \
    && mkdir -p /data \
    && chown zstack:zstack /data

COPY --from=build /opt/zstack-mock /opt/zstack-mock

# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_mock/health' % os.environ.get('ZSTACK_MOCK_PORT', '8080'), timeout=2)"

CMD ["zstack-mock", "serve"]
