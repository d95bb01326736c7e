#!/usr/bin/env bash
# Starts the whole platform locally: installs the emulators if needed, builds
# every function, provisions template.yaml, serves the HTTP API (and the web
# app on it, /app/index.html) and loads the demo catalog. Extra arguments go to the local cloud
# (see: target/debug/local-cloud --help); `--localstack` serves the AWS
# services with LocalStack in moto's place (installed first). Ctrl-C stops
# everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
install=()
for arg in "$@"; do
  [[ "$arg" == --localstack ]] && install=(--localstack)
done
infra/install.sh "${install[@]}"
echo "==> building the functions and the local cloud"
cargo build --workspace --bins
state=.local/run/local-cloud.json
rm -f "$state"
target/debug/local-cloud --state-file "$state" "$@" &
cloud=$!
trap 'kill -TERM "$cloud" 2>/dev/null || true; wait "$cloud" 2>/dev/null || true; exit 130' INT TERM
# The state file appears once every function is ready.
until [ -f "$state" ]; do
  if ! kill -0 "$cloud" 2>/dev/null; then
    wait "$cloud"
    exit 1
  fi
  sleep 0.2
done
target/debug/platform-admin seed-demo --state-file "$state" || echo "warning: the demo catalog could not be loaded" >&2
api="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api"])' "$state")"
echo "  Web app:  $api/app/index.html   (customers and operators; infra/promote-admin.sh <email> makes an operator)"
wait "$cloud"
