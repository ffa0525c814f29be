#!/usr/bin/env bash
# Runs every fuzz target for a while (not part of CI): the coverage-guided
# libFuzzer binaries of fuzz/, built on the stable toolchain with
# sanitizer-coverage flags (no cargo-fuzz or nightly needed), seeded with
# the Java vectors.
#
#   scripts/fuzz.sh            # every target, 60 s each
#   SECONDS_PER_TARGET=600 scripts/fuzz.sh produce_response record_batch
#
# Exits non-zero if any target finds a crash; crashes are left in
# fuzz/artifacts/<target>/ for replay (./fuzz/target/.../<target> <file>).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs="${SECONDS_PER_TARGET:-60}"
triple="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing \
 -Cdebug-assertions -Coverflow-checks"
cargo build --release --target "$triple" --bins
python3 seed_corpus.py >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(sed -n 's/^name = "\(.*\)"/\1/p' Cargo.toml | grep -v -e "^kafka-producer-fuzz$" -e "^kafka_producer_fuzz$")
fi

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "== $t (${secs}s)"
    if ! "./target/$triple/release/$t" "corpus/$t" -max_total_time="$secs" \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 2>"artifacts/$t.log"; then
        failed+=("$t")
        tail -20 "artifacts/$t.log"
    else
        grep -E "stat::number_of_executed_units|Done" "artifacts/$t.log" | tail -2
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "crashes in: ${failed[*]}"
    exit 1
fi
echo "no crashes in ${#targets[@]} targets (${secs}s each)"
