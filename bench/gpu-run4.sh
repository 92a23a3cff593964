#!/usr/bin/env bash
# Run 10 of the GPU benchmark (H200): the lean kernel (decode-lean.wgsl) against decode.wgsl ('old') on format
# version 4 containers, default and GPU profile, BF16/F16/F32 at 1 GiB; bisection variants of the lean kernel; end
# to end for BF16; and, when present, the CUDA twin (bench/gpu-twin) and an anchor built from another project's
# source in the git-ignored .anchor/ (not part of this repository). Same conventions as gpu-run.sh: carry .gpu and
# dist (and .anchor), `source .gpu/env.sh && bash bench/gpu-run4.sh`.
set -uo pipefail
OUT=${OUT:-bench/out}; mkdir -p "$OUT"
BYTES=${BYTES:-1073741824}; RUN=${RUN:-run10}; W=${WORK:-/tmp/wb}; REPS=${REPS:-10}
DT=${DT:-BF16,F16,F32}
LOG="$OUT/$RUN-log.txt"
B=(node dist/bench/gpu.js --bytes "$BYTES" --work "$W" --reps "$REPS")
G=(--chunk-bytes 16384 --lanes 32)
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" | tee -a "$LOG"; }
command -v nvidia-smi >/dev/null && { nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,utilization.gpu,power.draw --format=csv -l 1 > "$OUT/$RUN-nvidia-smi.csv" 2>/dev/null & smi=$!; }
if [ -x .anchor/build.sh ]; then (cd .anchor && ./build.sh > /tmp/anchor-build.txt 2>&1; echo "anchor build exit $?" >> /tmp/anchor-build.txt) & fi
if [ -f bench/gpu-twin/decode-twin.cu ]; then (nvcc -O3 -arch=sm_90 -lineinfo -Xptxas -v -o /tmp/decode-twin bench/gpu-twin/decode-twin.cu > /tmp/twin-build.txt 2>&1; echo "twin build exit $?" >> /tmp/twin-build.txt) & fi
stamp generate
pids=(); for d in ${DT//,/ }; do "${B[@]}" --prepare-only --dtypes "$d" >>"$LOG" 2>&1 & pids+=($!); done; wait "${pids[@]}"
stamp compress
pids=(); for d in ${DT//,/ }; do "${B[@]}" --prepare-only --dtypes "$d" "${G[@]}" >>"$LOG" 2>&1 & pids+=($!); done; wait "${pids[@]}"
wait
cat /tmp/anchor-build.txt /tmp/twin-build.txt 2>/dev/null | tail -n 40 >> "$LOG"
stamp "a: default containers"
timeout "${TA:-150}" "${B[@]}" --kernels-only --ceiling-bytes "$BYTES" --dtypes "$DT" --variants "subgroup:8,subgroup:8:old" --out "$OUT/$RUN-a-default.json" 2>&1 | tee -a "$LOG"
stamp "b: GPU profile"
timeout "${TB:-150}" "${B[@]}" --kernels-only --ceiling-bytes 0 --dtypes "$DT" "${G[@]}" --variants "subgroup:8,subgroup:8:old" --out "$OUT/$RUN-b-16k.json" 2>&1 | tee -a "$LOG"
stamp "c: bisection (BF16)"
timeout "${TC:-60}" "${B[@]}" --kernels-only --ceiling-bytes 0 --dtypes BF16 --variants "subgroup:8:leanplain,subgroup:8:nostore,subgroup:8:leannoraw,subgroup:8:leannoword,subgroup:4,subgroup:8:c4" --out "$OUT/$RUN-c-bisect.json" 2>&1 | tee -a "$LOG"
timeout "${TC:-60}" "${B[@]}" --kernels-only --ceiling-bytes 0 --dtypes BF16 "${G[@]}" --variants "subgroup:8:leanplain,subgroup:8:nostore,subgroup:8:leannoraw,subgroup:8:leannoword,subgroup:4,subgroup:8:c4" --out "$OUT/$RUN-c-bisect-16k.json" 2>&1 | tee -a "$LOG"
if [ -x .anchor/anchor ]; then
  stamp "d: anchor"
  for d in ${DT//,/ }; do timeout 60 .anchor/anchor "$W/synthetic-$d-$BYTES.safetensors" "$d" 10 2>&1 | tee -a "$LOG" "$OUT/$RUN-d-anchor.jsonl"; done
fi
if [ -x /tmp/decode-twin ]; then
  stamp "e: CUDA twin"
  for f in "$W"/synthetic-BF16-$BYTES.safetensors.wcodec "$W"/synthetic-BF16-$BYTES.safetensors.chunk16384.lanes32.wcodec; do
    rm -rf /tmp/twin && node dist/bench/gpu-twin/dump-plan.js "$f" /tmp/twin >>"$LOG" 2>&1 && timeout 60 /tmp/decode-twin /tmp/twin 10 2>&1 | tee -a "$LOG" "$OUT/$RUN-e-twin.jsonl"
  done
  command -v cuobjdump >/dev/null && cuobjdump --dump-sass /tmp/decode-twin > "$OUT/$RUN-twin-sass.txt" 2>/dev/null
fi
stamp "f: end to end (BF16 default)"
timeout "${TF:-90}" "${B[@]}" --ceiling-bytes 0 --dtypes BF16 --variants "subgroup:8" --e2e staging:false --out "$OUT/$RUN-f-e2e.json" 2>&1 | tee -a "$LOG"
stamp done
[ -n "${smi:-}" ] && kill "$smi" 2>/dev/null
grep -E "kernel |end-to-end|uncompressed|copy ceiling|FAILED|Error|error|dietgpu|twin|^\[" "$LOG" | cut -c1-220
