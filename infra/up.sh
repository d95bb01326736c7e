#!/usr/bin/env bash
# Starts the whole platform locally: installs the emulators if needed, builds
# every function, provisions template.yaml and serves the HTTP API.
# Extra arguments go to the local cloud (see: target/debug/local-cloud --help).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
infra/install.sh
echo "==> building the functions and the local cloud"
cargo build --workspace --bins
exec target/debug/local-cloud --state-file .local/run/local-cloud.json "$@"
