#!/usr/bin/env bash
# Peak memory of `import-dividends` (the example's own command) per record, on
# SQLite and PostgreSQL: see BENCHMARKS.md, "The import's memory".
#
#   bench/import-memory.sh [EXECUTABLE] [RECORDS]
#
# EXECUTABLE defaults to target/release/example-dividends (build it with
# `cargo build --release -p example-dividends -p fw-bench`), RECORDS to
# 1000000. Each database gets a small file (10,000 records) and the large one,
# in fresh databases; bytes per record is the difference of the two peaks (the
# process's `Maximum resident set size`, from /usr/bin/time) over the
# difference of the records, so the executable and the fixed buffers cancel
# out. PostgreSQL is the server at FW_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/postgres), where this user may create
# databases.
set -euo pipefail

executable=${1:-target/release/example-dividends}
records=${2:-1000000}
small=10000
generator=$(dirname "$executable")/divann-file
admin_url=${FW_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export PGOPTIONS="-c client_min_messages=warning"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$generator" "$small" > "$work/small.txt"
"$generator" "$records" > "$work/large.txt"

# Prints the peak resident set size in KiB of importing $2 into $1.
peak_kib() {
    DATABASE_URL=$1 "$executable" migrate > /dev/null
    DATABASE_URL=$1 "$executable" createuser importer --no-password --role operations > /dev/null
    DATABASE_URL=$1 /usr/bin/time -v "$executable" import-dividends "$2" --operator importer \
        2> "$work/time.txt" > /dev/null
    awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt"
}

for database in sqlite postgres; do
    peaks=()
    for file in small large; do
        case $database in
            sqlite) url="sqlite://$work/$file.db" ;;
            postgres)
                name="fw_import_memory_$$_$file"
                psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
                url="${admin_url%/*}/$name"
                ;;
        esac
        peaks+=("$(peak_kib "$url" "$work/$file.txt")")
        if [ "$database" = postgres ]; then
            psql -q "$admin_url" -c "DROP DATABASE $name WITH (FORCE)"
        fi
    done
    per_record=$(( (peaks[1] - peaks[0]) * 1024 / (records - small) ))
    echo "$database: peak RSS ${peaks[0]} KiB at $small records, ${peaks[1]} KiB at $records records: $per_record bytes per record"
done
