#!/usr/bin/env bash
# Run 8 of the GPU benchmark: specialised vs generic kernels, chunks per group, bisection at
# full occupancy, Dawn robustness off; 1 GiB BF16 and F32. Same conventions as bench/gpu-run.sh.
set -uo pipefail
OUT=${OUT:-bench/out}; mkdir -p "$OUT"
BYTES=${BYTES:-1073741824}; RUN=${RUN:-run8}; W=${WORK:-/tmp/wb}; REPS=${REPS:-10}
DT=${DT:-BF16,F32}
LOG="$OUT/$RUN-log.txt"
B=(node dist/bench/gpu.js --bytes "$BYTES" --work "$W" --reps "$REPS")
G=(--chunk-bytes 16384 --lanes 32)
E2E=${E2E:-staging:gpu,staging:false,mapped:gpu}
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" | tee -a "$LOG"; }
command -v nvidia-smi >/dev/null && { nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee -a "$LOG";
  nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,utilization.gpu,power.draw --format=csv -l 1 > "$OUT/$RUN-nvidia-smi.csv" 2>/dev/null & smi=$!; }
stamp generate
pids=(); for d in ${DT//,/ }; do "${B[@]}" --prepare-only --dtypes "$d" >>"$LOG" 2>&1 & pids+=($!); done; wait "${pids[@]}"
stamp compress
pids=()
"${B[@]}" --prepare-only --dtypes "$DT" "${G[@]}" >>"$LOG" 2>&1 & pids+=($!)
"${B[@]}" --prepare-only --dtypes "$DT" "${G[@]}" --fast-decode >>"$LOG" 2>&1 & pids+=($!)
wait "${pids[@]}"
stamp "a: default containers, BF16, specialised vs generic, + copy ceiling"
timeout "${TA:-60}" "${B[@]}" --kernels-only --dtypes BF16 --variants subgroup:8,subgroup:8:generic --out "$OUT/$RUN-a-default.json" 2>&1 | tee -a "$LOG"
stamp "b: 16 KiB / 32 lanes: variants, bisection, end to end"
timeout "${TB:-150}" "${B[@]}" --ceiling-bytes 0 --dtypes "$DT" "${G[@]}" --e2e "$E2E" \
  --variants "subgroup:8,subgroup:8:generic,subgroup:8:c4,subgroup:4,subgroup:8:nostore,subgroup:8:nostore:noplane" --out "$OUT/$RUN-b-16k.json" 2>&1 | tee -a "$LOG"
stamp "c: + fastDecode"
timeout "${TC:-90}" "${B[@]}" --ceiling-bytes 0 --dtypes "$DT" "${G[@]}" --fast-decode --e2e "$E2E" \
  --variants "subgroup:8,subgroup:8:generic" --out "$OUT/$RUN-c-16k-fast.json" 2>&1 | tee -a "$LOG"
stamp "d: Dawn robustness off (16 KiB BF16)"
WCODEC_DAWN_FLAGS="disable-dawn-features=timestamp_quantization enable-dawn-features=disable_robustness" timeout "${TD:-45}" "${B[@]}" --kernels-only --ceiling-bytes 0 --dtypes BF16 "${G[@]}" \
  --variants "subgroup:8,subgroup:8:generic" --out "$OUT/$RUN-d-norobust.json" 2>&1 | tee -a "$LOG"
stamp done
[ -n "${smi:-}" ] && kill "$smi" 2>/dev/null
grep -E "kernel |end-to-end|uncompressed|copy ceiling|FAILED|Error|^\[" "$LOG" | cut -c1-200
