#!/bin/sh
# Entrypoint of Dockerfile.kong: Kong's environment from what `agora export kong` wrote, then Kong's own
# entrypoint. Compose's env_file cannot do this: it is read on the host before the export has run.
#
# - $AGORA_KONG_ENV (kong.env beside kong.yaml): KONG_PLUGINS and KONG_PLUGINSERVER_* for exactly the
#   agora-* plugins the exported file uses.
# - $AGORA_INGEST_TOKEN_FILE (a compose secret): a usage-ingest admin token. kong.yaml names it as
#   {vault://env/agora-ingest-token}, the whole Authorization value of the metering posts, which Kong's
#   env vault reads from AGORA_INGEST_TOKEN; the token never appears in kong.yaml.
set -eu
env_file="${AGORA_KONG_ENV:-/kong/kong.env}"
if [ ! -r "$env_file" ]; then
  echo "agora-kong-entrypoint: $env_file is missing: run \`agora export kong -o $(dirname "$env_file")/kong.yaml\`" >&2
  exit 1
fi
set -a
. "$env_file"
set +a
token_file="${AGORA_INGEST_TOKEN_FILE:-/run/secrets/agora-ingest-token}"
if [ -r "$token_file" ]; then
  AGORA_INGEST_TOKEN="Bearer $(tr -d '[:space:]' < "$token_file")"
  export AGORA_INGEST_TOKEN
fi
# The stock image's entrypoint (KONG_ENTRYPOINT only for tests of this script).
exec "${KONG_ENTRYPOINT:-/docker-entrypoint.sh}" "$@"
