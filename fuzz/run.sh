#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 120) and prints the result.
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain,
# RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its sanitizer flags.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-120}
export RUSTC_BOOTSTRAP=1
mkdir -p corpus/decode
# Seed the decoder with the real pages (small ones) and tiny images.
for f in ../../shared/corpus/*.{png,jpg,tif}; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 400000 ] && cp "$f" corpus/decode/ || true
done
for t in decode config book_id; do
    echo "== $t for ${secs}s"
    cargo fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=1000000 2>&1 | grep -E "^(#[0-9]+ *DONE|Done|==[0-9]+==|SUMMARY|thread .* panicked)" || true
    echo "== $t exit ${PIPESTATUS[0]}"
done
