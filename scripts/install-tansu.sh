#!/usr/bin/env bash
# Installs the tansu broker (a Kafka-compatible broker written in Rust, from
# crates.io) that tests/harness.rs and the producer's end-to-end tests run
# against. It is built once into a tools cache outside the clone, so CI runs on
# the same machine reuse it and a fresh machine rebuilds it:
#
#   $KAFKA_PRODUCER_TOOLS (default: $HOME/.cargo/kafka-producer-tools)/bin/tansu
#
# The tests find it there (or at $TANSU_BIN). Running this again is a no-op
# once the pinned version is installed.
set -euo pipefail

# Pinned: the broker tests were checked against this version (memory storage
# needs the dynostore feature).
TANSU_VERSION="0.6.0"
TANSU_FEATURES="dynostore"
ROOT="${KAFKA_PRODUCER_TOOLS:-$HOME/.cargo/kafka-producer-tools}"
BIN="$ROOT/bin/tansu"

# `cargo install --list` reads the cache's own record of what it installed,
# so a stale or foreign binary at the same path is not mistaken for ours.
installed="$(cargo install --list --root "$ROOT" 2>/dev/null || true)"
if [ -x "$BIN" ] && grep -q "^tansu v${TANSU_VERSION}:" <<<"$installed"; then
    echo "tansu ${TANSU_VERSION} already installed: $BIN"
    exit 0
fi

echo "installing tansu ${TANSU_VERSION} (features: ${TANSU_FEATURES}) into $ROOT"
start=$(date +%s)
# --locked: build with the dependency versions tansu was released with.
# --force: replace an older pinned version left in the cache.
cargo install --locked --force --root "$ROOT" \
    --version "=${TANSU_VERSION}" --features "${TANSU_FEATURES}" tansu
end=$(date +%s)
echo "tansu ${TANSU_VERSION} installed in $((end - start)) s: $BIN"
