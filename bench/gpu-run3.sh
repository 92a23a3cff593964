#!/usr/bin/env bash
# Run 9 of the GPU benchmark: the current kernel (specialised, paired stores) against the
# previous store path, BF16 and F16 at 1 GiB in the GPU profile (16 KiB chunks, 32 lanes), with and without
# fastDecode, end to end after the planning fix; then the default containers. Same conventions as gpu-run.sh.
set -uo pipefail
OUT=${OUT:-bench/out}; mkdir -p "$OUT"
BYTES=${BYTES:-1073741824}; RUN=${RUN:-run9}; W=${WORK:-/tmp/wb}; REPS=${REPS:-10}
DT=${DT:-BF16,F16}
LOG="$OUT/$RUN-log.txt"
B=(node dist/bench/gpu.js --bytes "$BYTES" --work "$W" --reps "$REPS")
G=(--chunk-bytes 16384 --lanes 32)
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" | tee -a "$LOG"; }
command -v nvidia-smi >/dev/null && { nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,utilization.gpu,power.draw --format=csv -l 1 > "$OUT/$RUN-nvidia-smi.csv" 2>/dev/null & smi=$!; }
stamp generate
pids=(); for d in ${DT//,/ }; do "${B[@]}" --prepare-only --dtypes "$d" >>"$LOG" 2>&1 & pids+=($!); done; wait "${pids[@]}"
stamp compress
pids=()
"${B[@]}" --prepare-only --dtypes "$DT" "${G[@]}" >>"$LOG" 2>&1 & pids+=($!)
"${B[@]}" --prepare-only --dtypes "$DT" "${G[@]}" --fast-decode >>"$LOG" 2>&1 & pids+=($!)
wait "${pids[@]}"
stamp "b: GPU profile"
timeout "${TB:-60}" "${B[@]}" --ceiling-bytes 0 --dtypes "$DT" "${G[@]}" --e2e staging:gpu,staging:false \
  --variants "subgroup:8,subgroup:8:gatherstore" --out "$OUT/$RUN-b-16k.json" 2>&1 | tee -a "$LOG"
stamp "c: GPU profile + fastDecode"
timeout "${TC:-40}" "${B[@]}" --ceiling-bytes 0 --dtypes "$DT" "${G[@]}" --fast-decode --e2e staging:gpu \
  --variants "subgroup:8" --out "$OUT/$RUN-c-16k-fast.json" 2>&1 | tee -a "$LOG"
stamp "a: default containers"
timeout "${TA:-25}" "${B[@]}" --kernels-only --dtypes "$DT" --variants subgroup:8 --out "$OUT/$RUN-a-default.json" 2>&1 | tee -a "$LOG"
stamp done
[ -n "${smi:-}" ] && kill "$smi" 2>/dev/null
grep -E "kernel |end-to-end|uncompressed|copy ceiling|FAILED|Error|^\[" "$LOG" | cut -c1-200
