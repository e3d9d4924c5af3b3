#!/usr/bin/env bash
# Build-feedback figures (issue 6): for examples/dividends, the clean build time,
# the incremental rebuild after editing a model, a resource and a plain handler,
# and the time of `cargo test -p example-dividends` once built; the equivalent
# edits in the hand-written baseline (bench/src/baseline.rs) for comparison; and
# the same for a `fw new` app (the starter template, built in a target directory
# of its own as a new user's first build is).
#
# It works on a snapshot of the committed tree (`git archive HEAD`) with target
# directories of its own, so it never touches the checkout or its target/, and
# "clean" builds really start from nothing (crates come from the local registry).
# Each incremental figure is the median of ROUNDS rebuilds, the edit applied and
# reverted in turn. Expect about ten minutes on 2 cores.
#
#   bash bench/build-times.sh            # prints a table; nothing is written
#   ROUNDS=5 bash bench/build-times.sh   # more rebuilds per incremental figure
#   KEEP=1 bash bench/build-times.sh     # keeps the snapshot for inspection
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/fw-build-times.XXXXXX")
if [[ -z "${KEEP:-}" ]]; then
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/src"
git -C "$repo" archive HEAD | tar -x -C "$work/src"
export CARGO_TARGET_DIR="$work/target"
export CARGO_TERM_COLOR=never
cd "$work/src"

results=()

record() {
    results+=("$(printf '%-62s %8s s' "$1" "$2")")
    printf '%-62s %8s s\n' "$1" "$2" >&2
}

# elapsed COMMAND...: runs COMMAND quietly and prints its wall time in seconds;
# a failing command ends the script with its output.
elapsed() {
    local start end
    start=$(date +%s%N)
    if ! "$@" >"$work/last.log" 2>&1; then
        echo "failed: $*" >&2
        tail -40 "$work/last.log" >&2
        exit 1
    fi
    end=$(date +%s%N)
    awk -v ns=$((end - start)) 'BEGIN { printf "%.1f", ns / 1e9 }'
}

# measure LABEL COMMAND...: records COMMAND's wall time.
measure() {
    local label=$1 seconds
    shift
    seconds=$(elapsed "$@") || exit 1
    record "$label" "$seconds"
}

# rebuilds LABEL FILE FROM TO COMMAND...: the median time of COMMAND after
# replacing the first FROM with TO in FILE, over $rounds rebuilds that apply
# and revert the edit in turn (so each rebuild sees a real change). FILE is
# left as it was.
rebuilds() {
    local label=$1 file=$2 from=$3 to=$4 seconds times=()
    shift 4
    if ! grep -qF -- "$from" "$file"; then
        echo "'$from' is not in $file; update this script" >&2
        exit 1
    fi
    cp "$file" "$work/original"
    for ((round = 0; round < rounds; round++)); do
        if ((round % 2 == 0)); then
            FROM=$from TO=$to perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$file"
        else
            cp "$work/original" "$file"
        fi
        seconds=$(elapsed "$@") || exit 1
        times+=("$seconds")
    done
    cp "$work/original" "$file"
    elapsed "$@" >/dev/null || exit 1
    record "$label" "$(printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')"
}

dividends=(cargo build -p example-dividends)
measure "dividends: clean build" "${dividends[@]}"
measure "dividends: no-op rebuild" "${dividends[@]}"
rebuilds "dividends: rebuild after a model edit (a max_length)" \
    examples/dividends/src/models.rs 'max_length = 200' 'max_length = 201' "${dividends[@]}"
rebuilds "dividends: rebuild after a resource edit (a doc comment)" \
    examples/dividends/src/api.rs '/// A listed security.' '/// A listed security (edited).' "${dividends[@]}"
rebuilds "dividends: rebuild after a plain handler edit" \
    examples/dividends/src/upcoming.rs 'unknown query parameter' 'unknown query parameter!' "${dividends[@]}"
measure "dividends: cargo test (builds the tests, runs them)" cargo test -p example-dividends
measure "dividends: cargo test again (runs only)" cargo test -p example-dividends

# The baseline: the equivalent hand-written edits in bench/src/baseline.rs, built
# as its server binary (fw-bench's library also holds the load generator, so its
# crate is the larger one).
baseline=(cargo build -p fw-bench --bin server-baseline)
measure "baseline: build of server-baseline (dependencies built)" "${baseline[@]}"
rebuilds "baseline: rebuild after the model edit's equivalent (a limit)" \
    bench/src/baseline.rs 'announcement_id.chars().count() > 20' \
    'announcement_id.chars().count() > 21' "${baseline[@]}"
rebuilds "baseline: rebuild after a plain handler edit" \
    bench/src/baseline.rs '"no resource at this address"' '"no resource at this address."' \
    "${baseline[@]}"

# A `fw new` app: the starter template is what `fw new` copies; a new user's
# first build starts with an empty target directory.
export CARGO_TARGET_DIR="$work/target-new-app"
app=(cargo build -p fw-starter)
measure "fw new app: clean build" "${app[@]}"
rebuilds "fw new app: rebuild after a model edit (a max_length)" \
    starter-template/src/models.rs 'max_length = 200' 'max_length = 201' "${app[@]}"
rebuilds "fw new app: rebuild after a resource edit (a doc comment)" \
    starter-template/src/resources.rs '/// A short note.' '/// A short note (edited).' "${app[@]}"
measure "fw new app: cargo test (builds the tests, runs them)" cargo test -p fw-starter

echo
echo "build times on $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$repo" rev-parse --short HEAD), median of $rounds rebuilds per incremental figure"
printf '%s\n' "${results[@]}"
