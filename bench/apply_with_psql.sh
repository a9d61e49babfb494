#!/usr/bin/env bash
# apply_with_psql.sh DATABASE_URL DIR
#
# The floor for migration benchmarks: applies every up migration in DIR
# (<version>_<description>.up.sql and <version>_<description>.sql, never
# .down.sql) in version order, in ONE psql session, each file in its own
# transaction. No history table, no checksums, no locks: whatever a
# migration tool spends beyond this is its own overhead.
#
# Exits non-zero as soon as a statement fails (that file's transaction is
# rolled back; earlier files stay applied). Prints the number of files and
# the elapsed time on stderr.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 DATABASE_URL DIR" >&2
    exit 2
fi
url=$1
dir=$2
if [[ ! -d $dir ]]; then
    echo "$0: not a directory: $dir" >&2
    exit 2
fi
dir=$(cd "$dir" && pwd -P)

# Up files, sorted by their numeric version.
mapfile -t files < <(
    cd "$dir" &&
    find . -maxdepth 1 -type f -name '*.sql' ! -name '*.down.sql' -printf '%f\n' |
    grep -E '^[0-9]+_[^/]*\.sql$' |
    LC_ALL=C sort -t_ -k1,1n -k1,1
)
if [[ ${#files[@]} -eq 0 ]]; then
    echo "$0: no migrations in $dir" >&2
    exit 2
fi
dups=$(printf '%s\n' "${files[@]}" | cut -d_ -f1 | sed 's/^0*//' | LC_ALL=C sort | uniq -d)
if [[ -n $dups ]]; then
    echo "$0: more than one file for version(s): $(tr "\n" " " <<<"$dups")" >&2
    exit 2
fi

driver=$(mktemp "${TMPDIR:-/tmp}/apply_with_psql.XXXXXX")
trap 'rm -f "$driver"' EXIT

# In a psql meta-command argument quoted with '...', a quote is written ''
# and a backslash \\.
quote() {
    local s=${1//\\/\\\\}
    printf "'%s'" "${s//\'/\'\'}"
}

{
    echo '\set ON_ERROR_STOP on'
    echo '\set QUIET on'
    for f in "${files[@]}"; do
        echo 'BEGIN;'
        echo "\\i $(quote "$dir/$f")"
        echo 'COMMIT;'
    done
} >"$driver"

start=$(date +%s%N)
PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" \
    psql --no-psqlrc --quiet --dbname="$url" --file="$driver" >/dev/null
end=$(date +%s%N)
echo "applied ${#files[@]} migrations in $(((end - start) / 1000000)) ms" >&2
