# AI Provider Hub add-on image.
# The default is the multi-arch manifest of Home Assistant's Python 3.13 base image, so a plain
# `docker build` and Supervisors that no longer pass BUILD_FROM pick the right architecture;
# build.yaml names the per-arch images for Supervisors that still read it.
ARG BUILD_FROM=ghcr.io/home-assistant/base-python:3.13-alpine3.23
FROM ${BUILD_FROM}

ARG BUILD_ARCH=amd64
ARG BUILD_VERSION=0.1.0

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Pinned dependencies first: a code change does not reinstall them.
COPY requirements.txt /tmp/hub/requirements.txt
RUN pip install --no-cache-dir -r /tmp/hub/requirements.txt

# The gateway itself, installed into site-packages; the sources are not kept in the image.
COPY pyproject.toml /tmp/hub/pyproject.toml
COPY addon /tmp/hub/addon
RUN pip install --no-cache-dir --no-deps /tmp/hub \
    && rm -rf /tmp/hub

COPY run.sh /run.sh
RUN chmod a+x /run.sh

# Any HTTP answer means the server is alive: no --fail, because a degraded /health (a cloud
# provider down) must not get the add-on restarted.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD curl --silent --output /dev/null --max-time 8 http://127.0.0.1:8099/health || exit 1

LABEL \
    io.hass.name="AI Provider Hub" \
    io.hass.description="One AI gateway for the whole home" \
    io.hass.arch="${BUILD_ARCH}" \
    io.hass.type="addon" \
    io.hass.version="${BUILD_VERSION}" \
    org.opencontainers.image.title="AI Provider Hub" \
    org.opencontainers.image.source="https://github.com/ai-provider-hub/ai-provider-hub" \
    org.opencontainers.image.licenses="MIT"

CMD ["/run.sh"]
