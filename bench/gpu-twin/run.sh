#!/usr/bin/env bash
# The CUDA twin of the WGSL chunk decoder (decode-twin.cu) on the GPU machine: dumps each container's decode plan
# (dump-plan.ts), builds the twin once with every specialised class those plans use, prints its register report,
# then decodes and times each container, and with OUT set writes the logs, the JSON lines and the SASS there.
# Run from anywhere after npm run build (dist/ must hold dump-plan.js), with node and nvcc on the PATH.
# Usage: bench/gpu-twin/run.sh CONTAINER.wcodec...
# Environment: REPS (10) passes per timed batch; CHUNKS_PER_WORKGROUP (8) and CHUNKS_PER_GROUP (1) as decodeToGPU's
#   options of those names (bash keeps GROUPS for itself); WORK (/tmp/gpu-twin) where the plans go; BIN
#   (/tmp/decode-twin); ARCH (sm_90); OUT: a folder for twin.jsonl, ptxas.txt, decode-twin.sass, sass-counts.txt;
#   LEAN=1 plans as decodeToGPU does by default (the lean kernel where it fits), else every class by decode.wgsl's twin.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bench/gpu-twin/run.sh CONTAINER.wcodec..." >&2; exit 1; }
containers=(); for c in "$@"; do containers+=("$(realpath "$c")"); done
REPS=${REPS:-10}; G=${CHUNKS_PER_WORKGROUP:-8}; C=${CHUNKS_PER_GROUP:-1}
WORK=$(realpath -m "${WORK:-/tmp/gpu-twin}"); BIN=$(realpath -m "${BIN:-/tmp/decode-twin}"); ARCH=${ARCH:-sm_90}
[ -z "${OUT:-}" ] || OUT=$(realpath -m "$OUT")
LOGS=${OUT:-$WORK}
cd "$(dirname "$0")/../.."
mkdir -p "$WORK" "$LOGS"
[ -f dist/bench/gpu-twin/dump-plan.js ] || { echo "dist/bench/gpu-twin/dump-plan.js is missing: run npm run build first" >&2; exit 1; }

# 1. The plans first: their specialised classes all go into one specs.inc, so that one build serves every container.
dirs=()
for c in "${containers[@]}"; do
  d="$WORK/${#dirs[@]}-$(basename "$c" .wcodec)"
  node dist/bench/gpu-twin/dump-plan.js "$c" "$d" --groups "$G" --chunks-per-group "$C" ${LEAN:+--lean}
  dirs+=("$d")
done
cat "${dirs[@]/%//specs.inc}" | sort -u > "$WORK/specs.inc"

# 2. One build; ptxas reports registers, stack and spills per kernel class.
nvcc --version | tail -1
nvcc -O3 -arch="$ARCH" -lineinfo -Xptxas -v -DTWIN_GROUPS="$G" -DTWIN_CHUNKS_PER_GROUP="$C" -DTWIN_SPECS="\"$WORK/specs.inc\"" \
  -o "$BIN" bench/gpu-twin/decode-twin.cu 2> "$LOGS/ptxas.txt"
grep -E "Compiling entry|registers|spill" "$LOGS/ptxas.txt" | sed -e 's/ptxas info *: //'

# 3. Decode, check and time each container: one JSON line each (exit status 2 when a decode is not exact).
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader
status=0
for d in "${dirs[@]}"; do
  "$BIN" "$d" "$REPS" | tee -a "$LOGS/twin.jsonl" || status=$?
done

# 4. The SASS of every kernel class, and its instruction count per kernel (with OUT only).
if [ -n "${OUT:-}" ]; then
  dump=$(command -v cuobjdump || echo "$(dirname "$(command -v nvcc)")/cuobjdump")
  if [ -x "$dump" ]; then
    "$dump" --dump-sass "$BIN" > "$OUT/decode-twin.sass"
    awk '/Function :/ { name = $3 } /^ +\/\*[0-9a-f]+\*\// { n[name]++ } END { for (k in n) print n[k], k }' "$OUT/decode-twin.sass" | sort -k2 > "$OUT/sass-counts.txt"
    cat "$OUT/sass-counts.txt"
  else
    echo "no cuobjdump next to nvcc: SASS not dumped" >&2
  fi
fi
exit "$status"
