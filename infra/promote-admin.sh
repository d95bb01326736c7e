#!/usr/bin/env bash
# Makes an existing account an ADMIN. The account signs up first, like any
# other; no admin or password is ever seeded.
#
#   infra/promote-admin.sh alice@example.com                 # the running local cloud
#   infra/promote-admin.sh --table <TableName> alice@example.com   # on AWS (AWS credentials)
#   infra/promote-admin.sh --demote alice@example.com        # back to USER
set -euo pipefail
cd "$(dirname "$0")/.."
command=promote
args=()
for arg in "$@"; do
  case "$arg" in
    --demote) command=demote ;;
    *) args+=("$arg") ;;
  esac
done
if [ ${#args[@]} -eq 0 ]; then
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
exec cargo run --quiet -p platform-admin -- "$command" "${args[@]}"
