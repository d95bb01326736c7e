#!/usr/bin/env bash
# Prints the release size of every function binary (or of those named), each
# built on its own as a deployment builds it: `cargo build --release -p <fn>`
# enables only the shared features that function asks for, so the figure is
# what the function really links.
#
#   infra/release-sizes.sh                       # every function under functions/
#   infra/release-sizes.sh catalog-list-venues auth-login
#
# Environment: TARGET (a target triple, default the host's), TARGET_DIR
# (default target/), LIMIT_MIB (the goal each binary is compared with, 8).
# Slow on a small machine: each function is linked with fat LTO (about a
# minute each on 2 cores, after the first build of the dependencies).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

limit_mib="${LIMIT_MIB:-8}"
target_dir="${TARGET_DIR:-target}"
target_args=()
out_dir="$target_dir/release"
if [[ -n "${TARGET:-}" ]]; then
  target_args=(--target "$TARGET")
  out_dir="$target_dir/$TARGET/release"
fi

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

rows=()
over=0
for fn in "${functions[@]}"; do
  echo "==> building $fn" >&2
  cargo build --release --locked -q -p "$fn" --target-dir "$target_dir" "${target_args[@]}" >&2
  bytes=$(stat -c %s "$out_dir/$fn")
  mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
  verdict=ok
  if awk -v b="$bytes" -v l="$limit_mib" 'BEGIN { exit !(b > l * 1048576) }'; then
    verdict="over ${limit_mib} MiB"
    over=$((over + 1))
  fi
  rows+=("$(printf '%-26s %10s %6s MiB  %-22s %s' "$fn" "$bytes" "$mib" "$(features_of "$fn")" "$verdict")")
done

printf '%-26s %10s %10s  %-22s %s\n' function bytes size "shared features" goal
for row in "${rows[@]}"; do echo "$row"; done
echo "${#rows[@]} functions, $over over ${limit_mib} MiB (target: ${TARGET:-host})"
