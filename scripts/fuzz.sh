#!/usr/bin/env bash
# Run every cargo-fuzz target of fuzz/ for a bounded time, starting from its committed seed corpus
# (fuzz/corpus/<target>), and fail on any crash: a panic, an input slower than the per-input
# timeout (super-linear behaviour) or one that needs more memory than the limit. A failing input
# is printed and kept in fuzz/artifacts/<target>/ to reproduce with
# `cd fuzz && cargo fuzz run --sanitizer none <target> artifacts/<target>/<file>`.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (default: CB_FUZZ_SECONDS or 20 s, every target)
#
# scripts/test.sh runs it after the test suite. The targets run side by side, one process each,
# and what they discover goes to a scratch folder: the committed seeds stay small and reviewed.
# No sanitizer: the code under test is safe Rust, where panics, timeouts and memory are the
# findings, and without one the fuzz build needs no nightly toolchain (the machine's only
# toolchain is stable). `cargo +nightly fuzz run <target>` adds AddressSanitizer locally.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

say() { printf '\033[1m[fuzz]\033[0m %s\n' "$*" >&2; }

seconds=${CB_FUZZ_SECONDS:-20}
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi

ensure_cargo_fuzz
cd fuzz
# Instrumented artifacts share nothing with the workspace's: keep them in fuzz/target even when
# CARGO_TARGET_DIR points the workspace build elsewhere.
export CARGO_TARGET_DIR="$PWD/target"
# `cargo fuzz` has no --locked: check here that fuzz/Cargo.lock is current, as CI does elsewhere.
cargo metadata --locked --format-version 1 >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

# The same flags for `build` and `run` (others would rebuild). 16 codegen units instead of
# cargo-fuzz's 1 let the largest crates (the generated code, syn) compile on both cores.
flags=(--sanitizer none --codegen-units 16)
build_started=$SECONDS
say "building fuzz targets: ${targets[*]}"
cargo fuzz build "${flags[@]}"
say "built in $((SECONDS - build_started)) s; fuzzing each target for $seconds s"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
declare -A pids
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target"
  # -timeout: seconds one input may take; -rss_limit_mb also caps any single allocation.
  cargo fuzz run "${flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$scratch/$target.log" 2>&1 &
  pids[$target]=$!
done

passed=0
failed=0
for target in "${targets[@]}"; do
  if wait "${pids[$target]}"; then
    passed=$((passed + 1))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$target.log")
    seeds=$(find "corpus/$target" -type f | wc -l)
    found=$(find "$scratch/$target" -type f | wc -l)
    say "$target: ok, ${runs:-?} inputs in $seconds s ($seeds seeds, $found new corpus entries found and discarded)"
  else
    failed=$((failed + 1))
    say "$target: FAILED"
    # What went wrong: the panic, or libFuzzer's timeout / out-of-memory report.
    grep -m 3 -A 12 -e 'panicked at' -e 'ALARM:' -e 'ERROR: libFuzzer' "$scratch/$target.log" >&2 \
      || tail -n 40 "$scratch/$target.log" >&2
    for artifact in $(sed -n 's/.*Test unit written to //p' "$scratch/$target.log"); do
      say "failing input $artifact (hex):"
      od -A d -t x1z -v "$artifact" | head -n 40 >&2
    done
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
