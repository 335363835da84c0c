# syntax=docker/dockerfile:1
# LDN CDS Hooks service, production image.
#   docker build -t ldn-cds .
#   docker run -p 8000:8000 -p 127.0.0.1:9464:9464 -e CDS_PUBLIC_BASE_URL=https://cds.example.org \
#     -v /srv/ldn-cds/trusted-issuers.json:/etc/ldn-cds/trusted-issuers.json:ro \
#     -v ldn-cds-data:/var/lib/ldn-cds ldn-cds
# Configuration is only through the environment (CDS_*, PORT, WEB_CONCURRENCY): see
# docs/deployment.md. No secret is baked into the image.
#
# The base is pinned to an exact Python release; pin a digest too (python:…@sha256:…) where
# your registry can be reached to check it. `make image-check` builds this file unchanged on a
# stand-in base made from Debian packages (PYTHON_IMAGE=…), since no registry is reachable here.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
# Pinned dependencies with their hashes, in a layer of their own: a code change does not
# reinstall them. setuptools comes from the lock too (the project is built without isolation).
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY app ./app
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation . \
 && /opt/venv/bin/pip check

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CDS_ENV=production \
    CDS_CARDS_DIR=/opt/ldn-cds/cards \
    CDS_TRUSTED_ISSUERS_FILE=/etc/ldn-cds/trusted-issuers.json \
    CDS_DATABASE_URL=sqlite:////var/lib/ldn-cds/ldn-cds.db \
    CDS_ADMIN_PORT=9464 \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/ldn-cds-metrics
RUN groupadd --system --gid 10001 ldncds \
 && useradd --system --uid 10001 --gid ldncds --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin ldncds \
 && mkdir -p /var/lib/ldn-cds /etc/ldn-cds \
 && chown ldncds:ldncds /var/lib/ldn-cds
COPY --from=build /opt/venv /opt/venv
COPY cards /opt/ldn-cds/cards
USER 10001:10001
WORKDIR /var/lib/ldn-cds
VOLUME ["/var/lib/ldn-cds"]
# 8000: the CDS Hooks API (public); 9464: /metrics, /healthz, /readyz (admin, keep it internal).
EXPOSE 8000 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["ldn-cds", "healthcheck"]
CMD ["ldn-cds", "serve"]
