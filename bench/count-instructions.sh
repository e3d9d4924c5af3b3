#!/usr/bin/env bash
# Instructions per request of each server, counted by callgrind, which does
# not depend on the machine's load as times do: see BENCHMARKS.md, "What
# closed the gap".
#
#   bench/count-instructions.sh sqlite|postgres [FW] [BASELINE] [WARM] [COUNTED]
#
# FW and BASELINE default to target/release/server-fw and server-baseline
# (`cargo bench -p fw-bench --bench servers --no-run` builds both), WARM to
# 1500 requests, COUNTED to 1000. A fresh database is seeded by fw's
# `serve --migrate` (the example's migrations and sample data), with a user
# of the example's `support` role and an API token from `createtoken`. Each
# server then runs alone under callgrind, once per scenario: one keep-alive
# connection (curl, sending the benchmark client's headers and the token),
# WARM requests, the counters zeroed, COUNTED requests, a dump. The
# scenarios are `GET /dividends/1` (retrieve) and the demo account's
# `GET /accounts/{id}/upcoming-dividends?from=2026-03-26` (upcoming, 4
# payments). It prints each total over COUNTED, in thousands, and keeps the
# callgrind files for `callgrind_annotate --inclusive=yes` in a directory
# it names. PostgreSQL is the server at FW_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/postgres), where this user may create
# databases. The servers run as the benchmark runs them (see
# bench/src/server.rs): the access log on, as JSON, rate limits off.
set -euo pipefail

db=$1
fw=${2:-target/release/server-fw}
baseline=${3:-target/release/server-baseline}
warm=${4:-1500}
counted=${5:-1000}
admin_url=${FW_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export PGOPTIONS="-c client_min_messages=warning"
out=$(mktemp -d)
database=fw_count_instructions_$$
case $db in
  sqlite) url="sqlite://$out/app.db" ;;
  postgres)
    psql "$admin_url" -qc "CREATE DATABASE $database"
    trap 'psql "$admin_url" -qc "DROP DATABASE IF EXISTS $database"' EXIT
    url="${admin_url%/*}/$database" ;;
  *) echo "usage: $0 sqlite|postgres [FW] [BASELINE] [WARM] [COUNTED]" >&2; exit 2 ;;
esac
export DATABASE_URL=$url FW_SECRET_KEYS="test:dGVzdCBrZXk6IHB1YmxpYywgbmV2ZXIgZm9yIGRhdGE=" \
  FW_LOG=info FW_LOG_FORMAT=json FW_RATE_LIMIT=off
port=$((20000 + RANDOM % 20000))
export FW_LISTEN=127.0.0.1:$port

# Waits until the server listens (valgrind starts an executable slowly).
listening() {
  for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.5
  done
  echo "nothing listens on $port" >&2
  return 1
}

"$fw" serve --migrate >/dev/null 2>&1 &
seed=$!
listening
kill $seed
wait $seed || true
"$fw" createuser counter --role support --no-password >/dev/null
token=$("$fw" createtoken counter --name count-instructions | grep -o 'fw_[A-Za-z0-9_-]*' | head -1)
case $db in
  sqlite)
    account=$(sqlite3 "$out/app.db" "SELECT lower(hex(id)) FROM account WHERE number = 'DEMO-0001'" |
      sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/') ;;
  postgres) account=$(psql "$url" -Atc "SELECT id FROM account WHERE number = 'DEMO-0001'") ;;
esac

# curl's configuration for $2 requests of scenario $1, every body discarded.
requests() {
  local path
  case $1 in
    retrieve) path=/dividends/1 ;;
    upcoming) path="/accounts/$account/upcoming-dividends?from=2026-03-26" ;;
  esac
  for _ in $(seq 1 "$2"); do
    printf 'url = "http://127.0.0.1:%s%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$port" "$path"
  done
}

# Sends the requests of configuration $1 on one connection; fails unless
# every answer is a 200.
send() {
  local statuses
  statuses=$(curl -s -H "Authorization: Bearer $token" -H 'Accept: application/json' \
    -H 'User-Agent:' -K "$1" | sort | uniq -c)
  [[ $statuses =~ ^\ *[0-9]+\ 200$ ]] || { echo "not all 200: $statuses" >&2; return 1; }
}

for scenario in retrieve upcoming; do
  requests $scenario "$warm" > "$out/$scenario.warm"
  requests $scenario "$counted" > "$out/$scenario.counted"
done
for server in fw baseline; do
  executable=$fw
  [ $server = baseline ] && executable=$baseline
  for scenario in retrieve upcoming; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$server-$scenario.%p" \
      "$executable" serve >/dev/null 2>&1 &
    pid=$!
    listening
    send "$out/$scenario.warm"
    callgrind_control --zero $pid >/dev/null 2>&1
    send "$out/$scenario.counted"
    callgrind_control --dump $pid >/dev/null 2>&1
    kill $pid
    wait $pid || true
    total=$(grep -h '^summary:' "$out/$server-$scenario.$pid.1" | awk '{print $2}')
    printf '%s %s %s: %.1f thousand instructions per request\n' \
      "$db" "$scenario" "$server" "$(echo "$total / $counted / 1000" | bc -l)"
  done
done
echo "callgrind files: $out"
