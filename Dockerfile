# One image for every Agora role (admin, gateway, portal, migrate); the command picks the role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY agora ./agora
COPY registry ./registry
COPY gateway ./gateway
COPY plugins ./plugins
COPY devportal ./devportal
COPY examples ./examples
RUN pip install . && useradd --system --uid 10001 agora && mkdir -p /var/lib/agora && chown agora /var/lib/agora
USER agora
ENV AGORA_STATE_DIR=/var/lib/agora
ENTRYPOINT ["agora"]
