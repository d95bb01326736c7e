#!/usr/bin/env bash
# Runs every test: unit and handler tests, the template lint, the system
# tests and the web app's browser tests (headless Chromium), against a local
# cloud of its own (other ports than infra/up.sh, so both can run at once).
#
#   infra/test.sh                      everything
#   infra/test.sh -p system-tests --test scope   only those cargo tests
#   infra/test.sh --web                only the browser tests
#   infra/test.sh --localstack [...]   the same, on LocalStack in moto's place
#                                      (installed first: infra/install.sh --localstack)
#   infra/test.sh --localstack-url URL [...]   the same, on a LocalStack already
#                                      running at URL (e.g. http://localhost:4566)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
backend=()
install=()
case "${1:-}" in
  --localstack) backend=(--localstack); install=(--localstack); shift ;;
  --localstack-url)
    [[ $# -ge 2 ]] || { echo "usage: infra/test.sh --localstack-url URL [...]" >&2; exit 2; }
    backend=(--localstack-url "$2"); shift 2 ;;
esac
infra/install.sh "${install[@]}"
echo "==> building"
cargo build --workspace --all-targets

state=.local/run/test-cloud.json
log=.local/logs/test-cloud.log
mkdir -p .local/run .local/logs
rm -f "$state"
export LOCAL_CLOUD_API_PORT=${LOCAL_CLOUD_API_PORT:-3100}
export LOCAL_CLOUD_ADMIN_PORT=${LOCAL_CLOUD_ADMIN_PORT:-3101}
export LOCAL_CLOUD_DYNAMODB_PORT=${LOCAL_CLOUD_DYNAMODB_PORT:-8100}
export LOCAL_CLOUD_MOTO_PORT=${LOCAL_CLOUD_MOTO_PORT:-5100}
export LOCAL_CLOUD_GATEWAY_PORT=${LOCAL_CLOUD_GATEWAY_PORT:-3102}
export LOCAL_CLOUD_LOCALSTACK_PORT=${LOCAL_CLOUD_LOCALSTACK_PORT:-4666}
echo "==> starting a local cloud for the tests (log: $log)"
# A staff change reaches a token's requests within AuthorizerCacheSeconds
# (300 on AWS); 10 here, so the test of that bound takes seconds.
target/debug/local-cloud --state-file "$state" --visibility-timeout 2 \
    --parameter AuthorizerCacheSeconds=10 "${backend[@]}" >"$log" 2>&1 &
cloud=$!
stop() {
  kill "$cloud" 2>/dev/null || true
  wait "$cloud" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 1 240); do
  [[ -s "$state" ]] && break
  if ! kill -0 "$cloud" 2>/dev/null; then
    echo "the local cloud did not start:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  sleep 0.5
done
[[ -s "$state" ]] || { echo "the local cloud was not ready in 120s" >&2; tail -n 40 "$log" >&2; exit 1; }

status=0
web=all
if [[ "${1:-}" == "--web" ]]; then web=only; shift; elif [[ $# -gt 0 ]]; then web=none; fi
if [[ $web != only ]]; then
  echo "==> running the tests"
  LOCAL_CLOUD_STATE="$root/$state" cargo test --workspace --no-fail-fast "$@" || status=$?
fi
if [[ $web != none ]]; then
  echo "==> running the browser tests (screenshots: .local/screenshots)"
  # shellcheck disable=SC1091
  source .local/paths.env
  LOCAL_CLOUD_STATE="$root/$state" WEB_TEST_MODULES="$WEB_TEST_MODULES" CHROMIUM="$CHROMIUM" \
    node --test --test-reporter=spec tests/web/app.test.mjs || status=$?
fi
if [[ $status -ne 0 ]]; then
  echo "==> last lines of the local cloud's log ($log):" >&2
  tail -n 60 "$log" >&2
fi
exit $status
