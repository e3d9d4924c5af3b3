#!/usr/bin/env bash
# The release profile a `fw new` app gets, measured (issue 18): for fat LTO
# with one codegen unit (fw's choice until now), thin LTO, and no LTO (both with
# cargo's default 16 codegen units), the clean release build of the starter
# template and its rebuild after a one-file edit (a resource's doc comment),
# each as wall time and as CPU time (user + system). CPU time is the figure to
# compare on a shared machine: wall time grows with whatever else runs, CPU
# time much less.
#
# It works on a snapshot of the committed tree (`git archive HEAD`), one target
# directory per profile, so nothing is shared between them and the checkout is
# never touched. Expect 30-40 minutes on 2 idle cores.
#
#   bash bench/release-profiles.sh            # prints a table; nothing is written
#   PROFILES="thin off" bash bench/release-profiles.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/fw-release-profiles.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
commit=$(git -C "$repo" rev-parse --short HEAD)
git -C "$repo" archive "$commit" | tar -x -C "$work/src"
export CARGO_TERM_COLOR=never
cd "$work/src"

edited=starter-template/src/resources.rs
from='/// A short note.'
grep -qF -- "$from" "$edited" || { echo "'$from' is not in $edited; update this script" >&2; exit 1; }

# timed LABEL COMMAND...: runs COMMAND and prints LABEL, wall and CPU seconds.
timed() {
    local label=$1
    shift
    if ! /usr/bin/time -o "$work/time" -f '%e %U %S' "$@" >"$work/last.log" 2>&1; then
        echo "failed: $*" >&2
        tail -40 "$work/last.log" >&2
        exit 1
    fi
    read -r wall user system <"$work/time"
    printf '%-34s %8.1f %8.1f   load %s\n' "$label" "$wall" "$(echo "$user + $system" | bc)" \
        "$(cut -d' ' -f1 /proc/loadavg)"
}

printf '%-34s %8s %8s\n' "build" "wall s" "CPU s"
for profile in ${PROFILES:-fat thin off}; do
    case $profile in
        fat) lto=fat units=1 ;;
        thin) lto=thin units=16 ;;
        off) lto=false units=16 ;;
        *) echo "unknown profile $profile (fat, thin, off)" >&2; exit 1 ;;
    esac
    export CARGO_TARGET_DIR="$work/target-$profile"
    export CARGO_PROFILE_RELEASE_LTO=$lto CARGO_PROFILE_RELEASE_CODEGEN_UNITS=$units
    timed "$profile: clean release build" cargo build --release -p fw-starter
    FROM=$from perl -0pi -e 's/\Q$ENV{FROM}\E/\/\/\/ A short note (edited)./' "$edited"
    timed "$profile: one-file release rebuild" cargo build --release -p fw-starter
    FROM='/// A short note (edited).' TO=$from perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$edited"
    ls -l "$CARGO_TARGET_DIR/release/fw-starter" | awk -v p="$profile" '{ printf "%-34s %8.1f MiB executable\n", p ": size", $5 / 1048576 }'
    rm -rf "$CARGO_TARGET_DIR"
done
echo "on $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), snapshot of commit $commit"
