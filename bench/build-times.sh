#!/usr/bin/env bash
# Build-feedback figures (issue 6): for examples/dividends, the clean build time,
# the incremental rebuild after editing a model, a resource and a plain handler,
# and the time of `cargo test -p example-dividends` once built; the same edits in
# the hand-written baseline (bench/src/baseline.rs) for comparison; and the
# starter template (what `fw new` writes) when the checkout has one.
#
# It works on a snapshot of the committed tree (`git archive HEAD`) with a target
# directory of its own, so it never touches the checkout or its target/, and the
# "clean" build really starts from nothing. Expect several minutes on 2 cores.
#
#   bash bench/build-times.sh            # prints a table; nothing is written
#   KEEP=1 bash bench/build-times.sh     # keeps the snapshot for inspection
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
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

# seconds COMMAND...: runs COMMAND quietly and prints its wall time in seconds.
seconds() {
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

record() {
    results+=("$(printf '%-58s %8s s' "$1" "$2")")
    printf '%-58s %8s s\n' "$1" "$2" >&2
}

# edit FILE SED-EXPRESSION: applies a one-line edit, failing if nothing changed.
edit() {
    local before
    before=$(cksum <"$1")
    sed -i "$2" "$1"
    if [[ "$(cksum <"$1")" == "$before" ]]; then
        echo "the edit '$2' changed nothing in $1; update this script" >&2
        exit 1
    fi
}

# A change of generated code: a model field's constraint.
models=examples/dividends/src/models.rs
# A plain handler or resource, when the example has an API module.
api=examples/dividends/src/api.rs

record "dividends: clean build (cargo build -p example-dividends)" \
    "$(seconds cargo build -p example-dividends)"
record "dividends: no-op rebuild" "$(seconds cargo build -p example-dividends)"

edit "$models" '0,/max_length = 200/s//max_length = 201/'
record "dividends: rebuild after a model edit (max_length)" \
    "$(seconds cargo build -p example-dividends)"

if [[ -f "$api" ]] && grep -q 'fw::resource' "$api"; then
    # The first resource's doc comment: its OpenAPI description changes.
    edit "$api" '0,/#\[fw::resource(/s//\/\/\/ Edited to time a rebuild.\n#[fw::resource(/'
    record "dividends: rebuild after a resource edit (doc comment)" \
        "$(seconds cargo build -p example-dividends)"
    # A plain function body: no macro input changes.
    printf '\n#[doc(hidden)]\npub fn __build_timing() -> u32 {\n    1\n}\n' >>"$api"
    record "dividends: rebuild after a plain handler edit" \
        "$(seconds cargo build -p example-dividends)"
else
    record "dividends: rebuild after a resource edit" "n/a (no api.rs)"
    record "dividends: rebuild after a plain handler edit" "n/a (no api.rs)"
fi

record "dividends: cargo test (builds the tests, runs them)" \
    "$(seconds cargo test -p example-dividends)"
record "dividends: cargo test again (runs only)" \
    "$(seconds cargo test -p example-dividends)"

# The baseline: the same kinds of edit in bench/src/baseline.rs.
baseline=bench/src/baseline.rs
record "baseline: build of fw-bench (deps already built)" \
    "$(seconds cargo build -p fw-bench)"
edit "$baseline" 's/announcement_id.chars().count() > 20/announcement_id.chars().count() > 21/'
record "baseline: rebuild after the equivalent model edit (a limit)" \
    "$(seconds cargo build -p fw-bench)"
edit "$baseline" 's/"no resource at this address"/"no resource at this address."/'
record "baseline: rebuild after a plain handler edit" \
    "$(seconds cargo build -p fw-bench)"

if [[ -d starter-template ]]; then
    record "fw new app (starter-template): build" \
        "$(seconds cargo build -p "$(awk -F'"' '/^name/ { print $2; exit }' starter-template/Cargo.toml)")"
    template_models=starter-template/src/models.rs
    if grep -q 'max_length = ' "$template_models"; then
        edit "$template_models" '0,/max_length = \([0-9]*\)/s//max_length = 1\1/'
        record "fw new app: rebuild after a model edit" \
            "$(seconds cargo build -p "$(awk -F'"' '/^name/ { print $2; exit }' starter-template/Cargo.toml)")"
    fi
fi

echo
echo "build times on $(nproc) cores, $(date -u +%Y-%m-%d), commit $(git -C "$repo" rev-parse --short HEAD)"
printf '%s\n' "${results[@]}"
