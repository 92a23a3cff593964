#!/usr/bin/env bash
# The GPU benchmark (run 7): container variants of the same synthetic weights, each timed
# kernel-only in one dispatch over the whole payload and end to end (file -> GPU buffers), beside the WGSL copy
# ceiling. Run on the GPU machine from the repository root after `source .gpu/env.sh` (see docs/BENCHMARKS.md,
# GPU section). Writes logs and JSON under $OUT (or bench/out). Environment:
#   BYTES     payload per dtype (default 1 GiB)        RUN   run name prefix (default run7)
#   PHASES    which of a b c d to run (default "a b c")  VARS_B / VARS_C  kernel variants of runs b, c
#   DTYPES_B  dtypes of runs b and c (default BF16,F16,F32)   TA / TB / TC  time limits of runs a, b, c (s)
set -uo pipefail
OUT=${OUT:-bench/out}; mkdir -p "$OUT"
BYTES=${BYTES:-1073741824}; RUN=${RUN:-run7}; W=${WORK:-/tmp/wb}
PHASES=${PHASES:-a b c}; DTYPES_B=${DTYPES_B:-BF16,F16,F32}
VARS_A=${VARS_A:-subgroup:8}
VARS_B=${VARS_B:-subgroup:8:c4,subgroup:8,subgroup:4:c4}
VARS_C=${VARS_C:-subgroup:8:c4}
REPS=${REPS:-10}
LOG="$OUT/$RUN-log.txt"
B=(node dist/bench/gpu.js --bytes "$BYTES" --work "$W" --reps "$REPS")
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" | tee -a "$LOG"; }
command -v nvidia-smi >/dev/null && { nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,clocks.max.sm --format=csv | tee -a "$LOG";
  nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,utilization.gpu,power.draw --format=csv -l 1 > "$OUT/$RUN-nvidia-smi.csv" 2>/dev/null & smi=$!; }
stamp "generate (one process per dtype)"
# wait on these jobs only (never on the nvidia-smi logger, which runs until killed)
pids=(); for d in ${DTYPES_B//,/ }; do "${B[@]}" --prepare-only --dtypes "$d" >>"$LOG" 2>&1 & pids+=($!); done; wait "${pids[@]}"
stamp "compress the GPU-profile containers"
pids=()
[[ " $PHASES " == *" b "* ]] && { "${B[@]}" --prepare-only --dtypes "$DTYPES_B" --chunk-bytes 16384 --lanes 32 >>"$LOG" 2>&1 & pids+=($!); }
[[ " $PHASES " == *" c "* ]] && { "${B[@]}" --prepare-only --dtypes "$DTYPES_B" --chunk-bytes 16384 --lanes 32 --fast-decode >>"$LOG" 2>&1 & pids+=($!); }
[ ${#pids[@]} -gt 0 ] && wait "${pids[@]}"
ls -la "$W" >>"$LOG"
if [[ " $PHASES " == *" a "* ]]; then
  stamp "a: default containers (256 KiB chunks), BF16 kernels + copy ceiling"
  timeout "${TA:-60}" "${B[@]}" --kernels-only --dtypes BF16 --variants "$VARS_A" --out "$OUT/$RUN-a-default.json" 2>&1 | tee -a "$LOG"
fi
if [[ " $PHASES " == *" b "* ]]; then
  stamp "b: --chunk-bytes 16384 --lanes 32, kernels + end to end"
  timeout "${TB:-200}" "${B[@]}" --ceiling-bytes 0 --dtypes "$DTYPES_B" --chunk-bytes 16384 --lanes 32 --variants "$VARS_B" --out "$OUT/$RUN-b-16k.json" 2>&1 | tee -a "$LOG"
fi
if [[ " $PHASES " == *" c "* ]]; then
  stamp "c: --chunk-bytes 16384 --lanes 32 --fast-decode, kernels + end to end"
  timeout "${TC:-110}" "${B[@]}" --ceiling-bytes 0 --dtypes "$DTYPES_B" --chunk-bytes 16384 --lanes 32 --fast-decode --variants "$VARS_C" --out "$OUT/$RUN-c-16k-fast.json" 2>&1 | tee -a "$LOG"
fi
stamp done
[ -n "${smi:-}" ] && kill "$smi" 2>/dev/null
grep -E "kernel |end-to-end|uncompressed|copy ceiling|FAILED|Error" "$LOG" | cut -c1-220
