#!/usr/bin/env bash
# Run 11 of the GPU benchmark (H200): where the lean WGSL kernel loses against its CUDA twin on GPU-profile
# containers (16 KiB chunks, 32 lanes; full occupancy). BF16/F16/F32 at 1 GiB: the lean kernel with Dawn's
# robustness on (default) and off (a Dawn toggle for benchmarking); the lean CUDA twin on the same containers, and
# the twin's hardware counters (ncu) on BF16; the GPU tests on this GPU; end to end for BF16. Carry .gpu and dist:
# `source .gpu/env.sh && bash bench/gpu-run5.sh` (QUICK=1: kernels, twin and counters only). Every step has its own
# time limit.
set -uo pipefail
OUT=${OUT:-bench/out}; mkdir -p "$OUT"
BYTES=${BYTES:-1073741824}; RUN=${RUN:-run11}; W=${WORK:-/tmp/wb}; REPS=${REPS:-10}
DT=${DT:-BF16,F16,F32}
LOG="$OUT/$RUN-log.txt"
B=(node dist/bench/gpu.js --bytes "$BYTES" --work "$W" --reps "$REPS")
G=(--chunk-bytes 16384 --lanes 32)
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" | tee -a "$LOG"; }
smi=""
command -v nvidia-smi >/dev/null && { nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,utilization.gpu,power.draw --format=csv -l 1 > "/tmp/$RUN-nvidia-smi.csv" 2>/dev/null & smi=$!; }
stamp "generate+compress (GPU profile)"
pids=(); for d in ${DT//,/ }; do (timeout 150 "${B[@]}" --prepare-only --dtypes "$d" "${G[@]}"; [ "$d" = BF16 ] && timeout 60 "${B[@]}" --prepare-only --dtypes "$d") >>"$LOG" 2>&1 & pids+=($!); done
wait "${pids[@]}"
stamp "a: lean kernel, robustness on"
timeout 100 "${B[@]}" --kernels-only --ceiling-bytes 0 --dtypes "$DT" "${G[@]}" --variants "subgroup:8,subgroup:8:nostore" --out "$OUT/$RUN-a-robust.json" 2>&1 | tee -a "$LOG"
stamp "b: lean kernel, robustness off"
WCODEC_DAWN_FLAGS="disable-dawn-features=timestamp_quantization enable-dawn-features=disable_robustness" timeout 100 "${B[@]}" --kernels-only --ceiling-bytes 0 --dtypes "$DT" "${G[@]}" --variants "subgroup:8,subgroup:8:nostore" --out "$OUT/$RUN-b-norobust.json" 2>&1 | tee -a "$LOG"
if command -v nvcc >/dev/null; then
  stamp "c: lean CUDA twin, GPU profile"
  cs=(); for d in ${DT//,/ }; do cs+=("$W/synthetic-$d-$BYTES.safetensors.chunk16384.lanes32.wcodec"); done
  LEAN=1 OUT="/tmp/$RUN-twin" WORK=/tmp/gpu-twin timeout 200 bash bench/gpu-twin/run.sh "${cs[@]}" 2>&1 | grep -v "^Compiling\|bytes stack\|^Used" | tail -n 30 | tee -a "$LOG"
  if command -v ncu >/dev/null; then
    for k in 0; do
      dir=$(ls -d /tmp/gpu-twin/$k-* | head -n 1)
      stamp "d: ncu, lean twin on $(basename "$dir")"
      timeout 90 ncu --clock-control none --section SpeedOfLight --section Occupancy --section SchedulerStats --section WarpStateStats --section InstructionStats --section MemoryWorkloadAnalysis -k regex:lean_chunks -c 1 /tmp/decode-twin "$dir" 1 > "$OUT/$RUN-ncu.txt" 2>&1
      grep -E "lean_chunks|Duration|Issued Ipc|Issue Slots Busy|No Eligible|Warp Cycles Per Issued|Achieved Occupancy|Registers Per|Memory Throughput|Compute \(SM\)|Eligible Warps|Active Warps|Executed Instructions |Stall" "$OUT/$RUN-ncu.txt" | cut -c1-160 | tee -a "$LOG"
    done
  fi
fi
if [ -z "${QUICK:-}" ]; then
stamp "f: the GPU tests (test/gpu, written for lavapipe) on this GPU"
timeout 120 node --test --test-concurrency=8 $(ls dist/test/gpu/*.test.js | sort) > "$OUT/$RUN-f-tests.txt" 2>&1; echo "tests exit $?" | tee -a "$LOG"
grep -E "^# (tests|pass|fail)|^not ok" "$OUT/$RUN-f-tests.txt" | head -n 20 | tee -a "$LOG"
stamp "e: end to end (BF16, GPU profile)"
timeout 60 "${B[@]}" --ceiling-bytes 0 --dtypes BF16 "${G[@]}" --variants "subgroup:8" --e2e staging:false --out "$OUT/$RUN-e-e2e.json" 2>&1 | tee -a "$LOG"
stamp "e2: end to end (BF16, default containers)"
timeout 60 "${B[@]}" --ceiling-bytes 0 --dtypes BF16 --variants "subgroup:8" --e2e staging:false --out "$OUT/$RUN-e2-e2e-default.json" 2>&1 | tee -a "$LOG"
fi
stamp done
[ -n "$smi" ] && kill "$smi" 2>/dev/null
grep -E "kernel |end-to-end|uncompressed|FAILED|Error|error|\"kernel\":\"twin\"|^\[" "$LOG" | cut -c1-220
