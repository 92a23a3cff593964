"""Decode speed of one BF16 tensor: writes a safetensors file of normally distributed BF16 weights (seed 1),
compresses it with the TypeScript CLI (dist/, after `npm run build`), then times `get_tensor` (median of
`--runs`, after one warm-up) and checks its bytes; then the TypeScript reader's `Checkpoint.read` of the same tensor
from the same container on one thread, the same way, for comparison. MB = 10^6 bytes of decoded tensor. Reports wall
time and the process's CPU time (on a machine shared with other work, CPU time is the steadier figure of one core's
speed).

    taskset -c 0 python3 python/bench_decode.py --mb 256
"""

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wcodec import safe_open  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The TypeScript reader on one thread: Checkpoint.read of tensor 'w', one warm-up, then the median of N reads (wall and
# this process's CPU seconds), with the default checks (every chunk's digest), as the Python reader's get_tensor.
TS_READER = f"""
import {{ openCheckpoint }} from {json.dumps('file://' + os.path.join(REPO, 'dist', 'src', 'node.js'))};
const [path, runs] = process.argv.slice(1);
const ckpt = await openCheckpoint(path);
const wall = [], cpu = [];
for (let i = 0; i <= Number(runs); i++) {{
  const t = performance.now(), c = process.cpuUsage();
  const got = await ckpt.read('w', {{ threads: 1 }});
  const u = process.cpuUsage(c);
  if (i > 0) {{ wall.push((performance.now() - t) / 1000); cpu.push((u.user + u.system) / 1e6); }}
  if (got.bytes.length === 0) throw new Error('empty');
}}
await ckpt.close();
const med = (x) => x.sort((a, b) => a - b)[x.length >> 1];
console.log(JSON.stringify({{ seconds: med(wall), cpuSeconds: med(cpu) }}));
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mb', type=int, default=256, help='tensor size in MB (10^6 bytes)')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--options', default='', help='extra compress options, e.g. "--huffman"')
    a = ap.parse_args()
    n = a.mb * 1_000_000 // 2
    rng = np.random.default_rng(1)
    w = (rng.standard_normal(n, dtype=np.float32) * np.float32(0.02)).view(np.uint32)
    data = (w >> 16).astype('<u2').tobytes()
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, 'w.safetensors')
        header = json.dumps({'w': {'dtype': 'BF16', 'shape': [n], 'data_offsets': [0, len(data)]}}).encode()
        header += b' ' * (-len(header) % 8)
        with open(src, 'wb') as f:
            f.write(struct.pack('<Q', len(header)) + header + data)
        out = os.path.join(d, 'w.wcodec')
        subprocess.run(['node', os.path.join(REPO, 'dist', 'src', 'cli', 'main.js'), 'compress', '-q', '-o', out,
                        *a.options.split(), src], check=True)
        times, cpu = [], []
        for i in range(a.runs + 1):
            with safe_open(out) as f:
                t, c = time.perf_counter(), time.process_time()
                got = f.get_tensor('w')
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            assert got.tobytes() == data, 'decoded bytes differ'
            del got
        med, med_cpu = statistics.median(times[1:]), statistics.median(cpu[1:])
        ts = json.loads(subprocess.run(['node', '--input-type=module', '-e', TS_READER, out, str(a.runs)], check=True,
                                       capture_output=True, text=True).stdout)
        print(json.dumps({'tensorMB': len(data) / 1e6, 'containerMB': os.path.getsize(out) / 1e6,
                          'options': a.options, 'runs': a.runs, 'seconds': round(med, 3),
                          'MBps': round(len(data) / 1e6 / med, 1), 'cpuSeconds': round(med_cpu, 3),
                          'cpuMBps': round(len(data) / 1e6 / med_cpu, 1), 'loadAverage': os.getloadavg()[0],
                          'typescript': {'seconds': round(ts['seconds'], 4), 'MBps': round(len(data) / 1e6 / ts['seconds'], 1),
                                         'cpuSeconds': round(ts['cpuSeconds'], 4),
                                         'cpuMBps': round(len(data) / 1e6 / ts['cpuSeconds'], 1)},
                          'numpy': np.__version__, 'python': sys.version.split()[0]}))


if __name__ == '__main__':
    main()
