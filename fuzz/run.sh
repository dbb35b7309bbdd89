#!/usr/bin/env bash
# Runs the libFuzzer targets in fuzz/fuzz_targets/, installing cargo-fuzz first if needed.
#
#   fuzz/run.sh                      every target, 60 seconds each
#   fuzz/run.sh smtp_reply 300       one target for 5 minutes
#   fuzz/run.sh all 300              every target, 5 minutes each, one after the other
#   fuzz/run.sh cmin smtp_reply      rebuild the small committed corpus from it and new finds
#
# Only a stable toolchain is needed: RUSTC_BOOTSTRAP=1 lets it take the nightly-only flags that
# cargo-fuzz passes (-Zsanitizer=...). Everything is built in fuzz/target, never in ../target.
# New inputs go to fuzz/target/corpus/TARGET; the committed fuzz/corpus/TARGET is only read
# (`cmin` picks from both the few inputs worth committing). Crashes land in
# fuzz/artifacts/TARGET; replay one, in fuzz/, with the same build:
# `RUSTC_BOOTSTRAP=1 cargo fuzz run -a TARGET artifacts/TARGET/crash-...`.
#
# Environment: FUZZ_SANITIZER (default `address`; `none` runs faster but rebuilds everything),
# FUZZ_JOBS (parallel fuzzing processes per target, default 1), FUZZ_CORPUS_ADD (most inputs
# `cmin` adds to the hand-named seeds, default 30).
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
TARGETS=(smtp_reply cert_details csv_import normalize_domain mta_sts_policy sts_record tls_rpt_record)

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$fuzz_dir/target"
sanitizer="${FUZZ_SANITIZER:-address}"
jobs="${FUZZ_JOBS:-1}"

install_cargo_fuzz() {
    if cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
        return
    fi
    echo "installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
    cargo install cargo-fuzz --version "=$CARGO_FUZZ_VERSION" --locked
}

targets_for() {
    if [[ "$1" == all ]]; then
        printf '%s\n' "${TARGETS[@]}"
        return
    fi
    local target
    for target in "${TARGETS[@]}"; do
        if [[ "$target" == "$1" ]]; then
            echo "$1"
            return
        fi
    done
    echo "unknown target '$1' (targets: ${TARGETS[*]}, or all)" >&2
    exit 2
}

fuzz_one() {
    local target="$1" seconds="$2"
    local work="$CARGO_TARGET_DIR/corpus/$target"
    mkdir -p "$work" "corpus/$target"
    echo "== $target: $seconds s, sanitizer $sanitizer" >&2
    local parallel=()
    if ((jobs > 1)); then
        # libFuzzer then writes each process's output to fuzz-N.log in fuzz/.
        parallel=(--jobs "$jobs")
    fi
    cargo fuzz run --sanitizer "$sanitizer" --debug-assertions "${parallel[@]}" "$target" \
        "$work" "corpus/$target" -- -max_total_time="$seconds" -print_final_stats=1
}

# Rebuilds the committed corpus fuzz/corpus/TARGET from itself and the inputs earlier runs found
# (fuzz/target/corpus/TARGET): the hand-named seeds stay, then pick_corpus.awk adds, by greedy
# set cover over code edges, at most FUZZ_CORPUS_ADD (default 30) inputs, so it stays small.
minimize_one() {
    local target="$1"
    local scratch="$CARGO_TARGET_DIR/cmin/$target"
    local control="$CARGO_TARGET_DIR/cmin/$target.control"
    rm -rf "$scratch" "$control" "$scratch.picked"
    mkdir -p "$scratch" "$scratch.picked" "corpus/$target" "$CARGO_TARGET_DIR/corpus/$target"
    cargo fuzz build --sanitizer "$sanitizer" --debug-assertions "$target"
    # Only for the control file: which edges each input reaches (-use_counters=0: not how often).
    "$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/$target" -merge=1 -use_counters=0 \
        -merge_control_file="$control" "$scratch" \
        "corpus/$target" "$CARGO_TARGET_DIR/corpus/$target" 2>/dev/null
    awk -v limit="${FUZZ_CORPUS_ADD:-30}" -f pick_corpus.awk "$control" |
        while IFS= read -r input; do cp "$input" "$scratch.picked/"; done
    rm -rf "corpus/$target"
    mv "$scratch.picked" "corpus/$target"
    echo "$target: $(find "corpus/$target" -type f | wc -l) files," \
        "$(cat "corpus/$target"/* 2>/dev/null | wc -c) bytes" >&2
}

install_cargo_fuzz
if [[ "${1:-}" == cmin ]]; then
    for target in $(targets_for "${2:-all}"); do
        minimize_one "$target"
    done
    exit 0
fi
seconds="${2:-60}"
failed=()
for target in $(targets_for "${1:-all}"); do
    # A finding stops that target only; the others still run.
    fuzz_one "$target" "$seconds" || failed+=("$target")
done
if ((${#failed[@]} > 0)); then
    echo "findings in: ${failed[*]} (see fuzz/artifacts/)" >&2
    exit 1
fi
