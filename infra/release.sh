#!/usr/bin/env bash
# Builds the deploy artifact: every function (or those named) in release mode
# for Lambda's provided.al2023 runtime on arm64, with cargo-lambda and its zig
# linker, as `sam build` does (BuildMethod: rust-cargolambda), and prints each
# function's binary size and zipped size against the goal. Each function is
# built on its own, as a deployment builds it: `-p <fn>` enables only the
# shared features that function asks for, so the figure is what it links.
#
#   infra/release.sh                        # every function under functions/
#   infra/release.sh catalog-list-venues auth-login
#
# Installs what it needs first (`infra/install.sh --deploy`: cargo-lambda and
# zig from PyPI into .local/deploy, the aarch64 Rust target). Output:
# target/lambda/<function>/bootstrap.zip, the zip Lambda runs.
# Environment: ARCH (arm64, the template's; x86_64 to compare), LIMIT_MIB
# (the goal each binary is compared with, 8). Not part of the test command:
# slow on a small machine, each function is linked with fat LTO on its own
# (a minute or more each on 2 cores, after the dependencies' first build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

limit_mib="${LIMIT_MIB:-8}"
arch="${ARCH:-arm64}"
case "$arch" in
  arm64) arch_flag=--arm64 ;;
  x86_64) arch_flag=--x86-64 ;;
  *) echo "ARCH must be arm64 or x86_64" >&2; exit 2 ;;
esac

infra/install.sh --deploy >&2
export PATH="$PWD/.local/deploy/bin:$PATH"

if (($#)); then
  functions=("$@")
else
  functions=()
  for dir in functions/*/; do functions+=("$(basename "$dir")"); done
fi

features_of() {
  # The features a function's Cargo.toml asks of shared, or "-".
  local line
  line=$(awk '/^\[dev-dependencies\]/ { exit } /^shared = \{.*features/ { print; exit }' \
    "functions/$1/Cargo.toml")
  if [[ -z "$line" ]]; then echo "-"; return; fi
  echo "$line" | sed -E 's/.*features = \[([^]]*)\].*/\1/; s/"//g; s/, /,/g'
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

rows=()
over=0
for fn in "${functions[@]}"; do
  echo "==> building $fn ($arch)" >&2
  cargo lambda build --release --locked "$arch_flag" --output-format zip -p "$fn" >&2
  zip_file="target/lambda/$fn/bootstrap.zip"
  zipped=$(stat -c %s "$zip_file")
  # The binary's size as Lambda unpacks it, read from the zip itself.
  bytes=$(python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).getinfo("bootstrap").file_size)' "$zip_file")
  verdict=ok
  if awk -v b="$bytes" -v l="$limit_mib" 'BEGIN { exit !(b > l * 1048576) }'; then
    verdict="over ${limit_mib} MiB"
    over=$((over + 1))
  fi
  rows+=("$(printf '%-26s %10s %6s MiB %10s %6s MiB  %-22s %s' "$fn" "$bytes" "$(mib "$bytes")" \
    "$zipped" "$(mib "$zipped")" "$(features_of "$fn")" "$verdict")")
done

printf '%-26s %21s %21s  %-22s %s\n' function binary zipped "shared features" goal
for row in "${rows[@]}"; do echo "$row"; done
echo "${#rows[@]} functions, $over over ${limit_mib} MiB (provided.al2023, $arch)"
