#!/usr/bin/env bash
# Run 10 of the GPU benchmark (H200): the lean kernel (decode-lean.wgsl) against decode.wgsl ('old') on format
# version 4 containers, default and GPU profile, BF16/F16/F32 at 1 GiB; bisection variants of the lean kernel on
# BF16; the CUDA twins of the lean kernel and of decode.wgsl (bench/gpu-twin/run.sh); the fused decode +
# matrix-vector product (bench/gpu-matvec.ts); end to end for BF16 (chunk digests checked
# on the GPU); and, when present, an anchor built from another
# project's source in the git-ignored .anchor/ (not part of this repository). Carry .gpu and dist (and .anchor):
# `source .gpu/env.sh && bash bench/gpu-run4.sh`. Every step has its own time limit; background jobs are waited for
# by their pids (a bare `wait` would wait for the nvidia-smi logger forever).
set -uo pipefail
OUT=${OUT:-bench/out}; mkdir -p "$OUT"
BYTES=${BYTES:-1073741824}; RUN=${RUN:-run10}; W=${WORK:-/tmp/wb}; REPS=${REPS:-10}
DT=${DT:-BF16,F16,F32}
LOG="$OUT/$RUN-log.txt"
B=(node dist/bench/gpu.js --bytes "$BYTES" --work "$W" --reps "$REPS")
G=(--chunk-bytes 16384 --lanes 32)
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" | tee -a "$LOG"; }
smi=""
command -v nvidia-smi >/dev/null && { nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,utilization.gpu,power.draw --format=csv -l 1 > "$OUT/$RUN-nvidia-smi.csv" 2>/dev/null & smi=$!; }
build=""
if [ -x .anchor/build.sh ]; then (cd .anchor && timeout 150 ./build.sh > /tmp/anchor-build.txt 2>&1; echo "anchor build exit $?" >> /tmp/anchor-build.txt) & build=$!; fi
stamp generate+compress
pids=(); for d in ${DT//,/ }; do (timeout 150 "${B[@]}" --prepare-only --dtypes "$d" && timeout 60 "${B[@]}" --prepare-only --dtypes "$d" "${G[@]}") >>"$LOG" 2>&1 & pids+=($!); done
wait "${pids[@]}"
stamp "a: default containers"
timeout 100 "${B[@]}" --kernels-only --ceiling-bytes "$BYTES" --dtypes "$DT" --variants "subgroup:8,subgroup:8:old" --out "$OUT/$RUN-a-default.json" 2>&1 | tee -a "$LOG"
stamp "b: GPU profile"
timeout 100 "${B[@]}" --kernels-only --ceiling-bytes 0 --dtypes "$DT" "${G[@]}" --variants "subgroup:8,subgroup:8:old" --out "$OUT/$RUN-b-16k.json" 2>&1 | tee -a "$LOG"
if [ -n "$build" ]; then wait "$build"; tail -n 5 /tmp/anchor-build.txt >> "$LOG"; fi
if [ -x .anchor/anchor ]; then
  stamp "d: anchor"
  for d in ${DT//,/ }; do timeout 30 .anchor/anchor "$W/synthetic-$d-$BYTES.safetensors" "$d" 10 2>&1 | tee -a "$LOG" "$OUT/$RUN-d-anchor.jsonl"; done
fi
if command -v nvcc >/dev/null; then
  stamp "e: CUDA twins (lean, then decode.wgsl's), BF16 default and GPU profile"
  for lean in 1 ""; do
    LEAN=$lean OUT="$OUT/$RUN-twin${lean:+-lean}" WORK=/tmp/gpu-twin timeout 150 bash bench/gpu-twin/run.sh "$W/synthetic-BF16-$BYTES.safetensors.wcodec" "$W/synthetic-BF16-$BYTES.safetensors.chunk16384.lanes32.wcodec" 2>&1 | tail -n 30 | tee -a "$LOG"
    if [ -n "$lean" ] && command -v ncu >/dev/null; then
      # Hardware counters of the lean twin's first two launches (default container): issue rate, stall reasons, occupancy.
      timeout 120 ncu --clock-control none --section SpeedOfLight --section Occupancy --section SchedulerStats --section WarpStateStats --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis -k regex:decode -c 2 /tmp/decode-twin "$(ls -d /tmp/gpu-twin/0-* | head -n 1)" 1 > "$OUT/$RUN-ncu-lean.txt" 2>&1
      grep -E "decode_chunks|Duration|Issued Ipc|Issue Slots Busy|No Eligible|Warp Cycles Per Issued|Achieved Occupancy|Registers Per|Memory Throughput|Compute \(SM\)|Stall|Eligible Warps|Active Warps" "$OUT/$RUN-ncu-lean.txt" | cut -c1-160 | tee -a "$LOG"
    fi
    rm -rf /tmp/gpu-twin
  done
fi
stamp "c: bisection (BF16, default containers)"
timeout 60 "${B[@]}" --kernels-only --ceiling-bytes 0 --dtypes BF16 --variants "subgroup:8:leanplain,subgroup:8:nostore,subgroup:8:leannoraw,subgroup:8:leannoword,subgroup:4" --out "$OUT/$RUN-c-bisect.json" 2>&1 | tee -a "$LOG"
stamp "g: fused decode + matrix-vector product"
timeout 40 node dist/bench/gpu-matvec.js --shapes 256x256,256x768,768x256,4096x4096 --chunks gpu,default --variants auto,auto:nodigest --reps 50 --out "$OUT/$RUN-g-matvec.json" 2>&1 | tee -a "$LOG"
stamp "f: end to end (BF16 default)"
timeout 45 "${B[@]}" --ceiling-bytes 0 --dtypes BF16 --variants "subgroup:8" --e2e staging:false --out "$OUT/$RUN-f-e2e.json" 2>&1 | tee -a "$LOG"
stamp done
[ -n "$smi" ] && kill "$smi" 2>/dev/null
grep -E "kernel |end-to-end|uncompressed|copy ceiling|FAILED|Error|error|dietgpu|fused|^\||^\[" "$LOG" | cut -c1-200
