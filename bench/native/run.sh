#!/bin/sh
# The native decoding experiment (bench/native/RESULTS.md): builds the TypeScript and the C decoder, writes the
# containers and chunk descriptions once, then runs the native decoder (with zstd -3 in the same program) and the
# WebAssembly decode (with zstd-napi in the same process) for BF16 and F32, alternately, ROUNDS times. Not part of
# npm test. Usage: bench/native/run.sh   (ROUNDS=3 RUNS=7 by default; output also in bench/out/native/run-*.txt)
set -eu
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
RUNS=${RUNS:-7}
OUT=bench/out/native
mkdir -p "$OUT"
LOG="$OUT/run-$(date -u +%Y%m%dT%H%M%SZ).txt"
npm run build --silent
if [ ! -f "$OUT/BF16.chunks" ] || [ ! -f "$OUT/F32.chunks" ]; then node dist/bench/native/dump-chunks.js; fi
gcc -O3 -march=native -Wall -o "$OUT/decode-v4" bench/native/decode-v4.c -l:libzstd.so.1
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- bench/native || echo ' (bench/native modified)')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
  echo "node $(node --version), $(gcc --version | head -1), load: $(cut -d' ' -f1-3 /proc/loadavg)"
  for r in $(seq "$ROUNDS"); do
    for d in BF16 F32; do
      echo "=== round $r, $d, native (load $(cut -d' ' -f1-3 /proc/loadavg))"
      "$OUT/decode-v4" "$OUT/$d.chunks" "$RUNS"
      echo "=== round $r, $d, WebAssembly (load $(cut -d' ' -f1-3 /proc/loadavg))"
      node --expose-gc dist/bench/native/wasm-decode.js --runs "$RUNS" "$d"
    done
  done
} 2>&1 | tee "$LOG"
echo "wrote $LOG"
