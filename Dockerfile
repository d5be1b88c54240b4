# syntax=docker/dockerfile:1
# pmo-api: build a virtualenv with the service in one stage, run it slim and non-root.
#   docker build -t pmo-api .
#   docker run -p 8000:8000 -v pmo-data:/data pmo-api          (SQLite in /data)
#   docker run -e PMO_DATABASE_URL=postgresql://... pmo-api migrate

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
RUN python -m venv /opt/pmo-api
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p src/pmo_api && touch src/pmo_api/__init__.py \
    && /opt/pmo-api/bin/pip install . \
    && /opt/pmo-api/bin/pip uninstall --yes pmo-api \
    && rm -rf build src
# Then the service itself, as a wheel (migrations ship inside the package).
COPY src ./src
RUN /opt/pmo-api/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/pmo-api/bin/pip install --no-deps /wheels/pmo_api-*.whl \
    && /opt/pmo-api/bin/python -m compileall -q /opt/pmo-api

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/pmo-api/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# PMO_DATABASE_URL is left unset: the SQLite file pmo.db lands in the working
# directory /data (mount a volume there), or point it at PostgreSQL.
RUN groupadd --system --gid 10001 pmo \
    && useradd --system --uid 10001 --gid pmo --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin pmo \
    && mkdir -p /data && chown pmo:pmo /data
COPY --from=builder /opt/pmo-api /opt/pmo-api
WORKDIR /data
VOLUME ["/data"]
USER pmo:pmo
EXPOSE 8000
# No curl in the slim image: Python checks liveness itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# uvicorn drains in-flight requests on SIGTERM (serve --graceful-timeout, 20 s):
# stop with a longer timeout, e.g. docker stop -t 30.
STOPSIGNAL SIGTERM
ENTRYPOINT ["pmo-api"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
