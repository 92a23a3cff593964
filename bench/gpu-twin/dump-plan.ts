// Writes the inputs of the CUDA twin of the WGSL chunk decoder (decode-twin.cu; FORMAT.md §5.3, §6): the decode
// plan decodeToGPU would build for every tensor of a container, as raw little-endian files, and the output the kernel
// must produce. Usage (after npm run build):
//   node dist/bench/gpu-twin/dump-plan.js CONTAINER.wcodec OUTDIR [--groups 8] [--chunks-per-group 1]
//        [--workgroup-storage 49152] [--generic] [--lean]
// --lean plans as decodeToGPU does by default: the segments that fit the lean kernel (decode-lean.wgsl) go to it.
//
// The plan is planDecode's with the limits the H200 reports through Dawn (largest binding 2147483644 bytes,
// workgroup storage --workgroup-storage bytes, 65535 workgroups per dimension), the subgroup lane variant and, as
// bench/gpu.ts's kernel timing does, input slabs and output buffers as large as one binding. Tensors that the GPU
// kernel cannot decode (transformed segments, and Huffman-coded planes, which decodeToGPU transcodes first with
// huffman.wgsl and the twin does not) are left out and listed in plan.json.
//
// OUTDIR receives:
//   input.bin     the input slabs, one after another (each a multiple of 4 bytes; slab k at slab_offsets[k])
//   entries.bin   plan.entries (2 u32 per slot), descs.bin plan.meta, jobs.bin plan.jobs (JOB_WORDS u32 per job)
//   expected.bin  the output buffers, one after another (buffer k at output_offsets[k]), as a correct decode leaves
//                 them after poisoning with 0xA5: each tensor's bytes at its planned offset, 0xA5 everywhere else
//   plan.json     the plan: sizes, offsets, tensors, dispatches with their kernel class (KernelSpec)
//   plan.txt      the same dispatches as lines of integers, for decode-twin.cu (format below)
//   specs.inc     one TWIN_SPEC(...) line per specialised kernel class, for decode-twin.cu's -DTWIN_SPECS
//
// plan.txt: a line 'twin-plan 1', then 'key value...' lines: groups, chunks_per_group, table_words, status_words,
// input_bytes, output_bytes, entries_words, descs_words, jobs_words, original_bytes, dtypes (comma-separated),
// dispatches D; then D lines 'dispatch' followed by: job_base job_count groups_x groups_y input_offset output_offset
// window_bytes generic W planes K coded plane0 plane1 plane2 plane3, each planeP packed as in specs.inc (0: absent);
// generic is 0 for a specialised class, 1 for the generic kernel, 2 for a lean class (planes packed by packLean).

import '../../src/io/node-sha256.js';
import { mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { openCheckpoint } from '../../src/node.js';
import type { TensorInfo } from '../../src/api/checkpoint.js';
import { cpuOnlyReason, JOB_WORDS, planDecode, type DecodePlan } from '../../src/gpu/decode-plan.js';
import { isHuffman } from '../../src/entropy/chunk-codec.js';
import { chunksPerGroupOf, groupsPerWorkgroup, type KernelSpec, type LeanSpec } from '../../src/gpu/kernels.js';

/** Largest storage binding the H200 reports through Dawn (bench/results/gpu-h200: maxStorageBufferBindingSize). */
const MAX_BINDING_BYTES = 2147483644;
/** Largest buffer (Dawn on the H200 reports 1 TiB; a binding is the tighter limit). */
const MAX_BUFFER_BYTES = 2 ** 40;
/** Workgroups per dispatch dimension (WebGPU's maxComputeWorkgroupsPerDimension). */
const MAX_WORKGROUPS_PER_DIMENSION = 65535;
/** Largest workgroup table, as decode-job.ts: 48 KiB, less 512 bytes for the lane primitives. */
const MAX_TABLE_WORDS = 12 * 1024;
/** Bytes read from the container per read call: bounds the memory held at once. */
const PIECE_BYTES = 16 * 1024 * 1024;
/** What an unwritten output byte holds (decode-twin.cu poisons the output with it). */
const POISON = 0xa5;

interface Args {
  container: string;
  outDir: string;
  groups: number;
  chunksPerGroup: number;
  workgroupStorage: number;
  generic: boolean;
  lean: boolean;
}

function parseArgs(argv: string[]): Args {
  const pos: string[] = [];
  const a = { groups: 8, chunksPerGroup: 1, workgroupStorage: 49152, generic: false, lean: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--groups': a.groups = Number(v); i++; break;
      case '--chunks-per-group': a.chunksPerGroup = Number(v); i++; break;
      case '--workgroup-storage': a.workgroupStorage = Number(v); i++; break;
      case '--generic': a.generic = true; break;
      case '--lean': a.lean = true; break;
      default:
        if (argv[i].startsWith('--')) throw new RangeError(`unknown option ${argv[i]}`);
        pos.push(argv[i]);
    }
  }
  if (pos.length !== 2) throw new RangeError('usage: dump-plan.js CONTAINER.wcodec OUTDIR [--groups 8] [--chunks-per-group 1] [--workgroup-storage 49152] [--generic]');
  if (!Number.isInteger(a.workgroupStorage) || a.workgroupStorage < 512) throw new RangeError(`--workgroup-storage ${a.workgroupStorage} is not an integer >= 512`);
  return { container: pos[0], outDir: pos[1], groups: groupsPerWorkgroup('subgroup', a.groups), chunksPerGroup: chunksPerGroupOf(a.chunksPerGroup), workgroupStorage: a.workgroupStorage, generic: a.generic, lean: a.lean };
}

/**
 * A specialised class as decode-twin.cu's template arguments: per plane, flags | (rawIndex + 1) << 8 |
 * (rawBits + 1) << 16 | (byteIndex + 1) << 24, each +1 field 0 where KernelSpec leaves it undefined; 0 past the
 * last plane.
 */
function packPlanes(spec: KernelSpec): number[] {
  const field = (v: number | undefined, shift: number): number => (v === undefined ? 0 : (v + 1) << shift);
  const planes: number[] = [];
  for (let p = 0; p < 4; p++) {
    planes.push(p < spec.planes ? (spec.flags[p] | field(spec.rawIndex[p], 8) | field(spec.rawBits[p], 16) | field(spec.byteIndex[p], 24)) >>> 0 : 0);
  }
  return planes;
}

/**
 * A lean class as decode-twin.cu's LEAN_SPEC arguments: pb | sb << 8 | fb << 16 | rawBits << 24, the coded plane's
 * (lo1, w1, lo2, w2) a byte each, the raw plane's, then byte planes | byte0 << 8 | byte1 << 16.
 */
function packLean(lean: LeanSpec): number[] {
  const four = (a: number[]): number => (a[0] | (a[1] << 8) | (a[2] << 16) | (a[3] << 24)) >>> 0;
  return [four([lean.pb, lean.sb, lean.fb, lean.rawBits]), four(lean.coded), four(lean.raw), (lean.bytes.length | ((lean.bytes[0] ?? 0) << 8) | ((lean.bytes[1] ?? 0) << 16)) >>> 0];
}

/** Writes `bytes` at `position` of `fh`, all of them. */
async function writeAt(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += (await fh.write(bytes, done, bytes.length - done, position + done)).bytesWritten;
}

/** Fills [from, to) of `fh` with POISON. */
async function poisonRange(fh: FileHandle, from: number, to: number): Promise<void> {
  const block = new Uint8Array(Math.min(PIECE_BYTES, Math.max(0, to - from))).fill(POISON);
  for (let o = from; o < to; o += block.length) await writeAt(fh, block.subarray(0, Math.min(block.length, to - o)), o);
}

const offsetsOf = (sizes: number[]): number[] => {
  const out: number[] = [];
  let at = 0;
  for (const s of sizes) {
    out.push(at);
    at += s;
  }
  return out;
};

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await mkdir(args.outDir, { recursive: true });
  const cp = await openCheckpoint(args.container);
  try {
    const skipReason = (i: TensorInfo): string | undefined => cpuOnlyReason(cp.segmentOf(i)) ?? (cp.segmentOf(i).coding.tables.some(isHuffman) ? 'Huffman-coded planes' : undefined);
    const skipped = cp.tensors.filter((i) => skipReason(i)).map((i) => ({ name: i.name, reason: skipReason(i) }));
    const infos = cp.tensors.filter((i) => !skipReason(i));
    const tableLimit = Math.max(0, Math.min(MAX_TABLE_WORDS, Math.floor((args.workgroupStorage - 512) / 4)));
    const jobsPerWorkgroup = args.groups * args.chunksPerGroup;
    const plan: DecodePlan = planDecode(
      infos.map((info) => ({ name: info.name, seg: cp.segmentOf(info) })),
      { maxBinding: MAX_BINDING_BYTES, maxBuffer: MAX_BUFFER_BYTES, inputSlabBytes: MAX_BINDING_BYTES, outputSlabBytes: MAX_BINDING_BYTES, tableWords: tableLimit, groups: jobsPerWorkgroup, specialize: !args.generic, lean: args.lean },
      args.container,
    );
    // The kernel's table size as decode-job.ts rounds it: up to 1 Ki words, at most the device's.
    const tableWords = Math.max(1, Math.min(Math.ceil(plan.tableWords / 1024) * 1024, tableLimit));
    const slabOffsets = offsetsOf(plan.slabSizes);
    const outputOffsets = offsetsOf(plan.outputSizes);
    const inputBytes = plan.slabSizes.reduce((a, b) => a + b, 0);
    const outputBytes = plan.outputSizes.reduce((a, b) => a + b, 0);

    // input.bin: every upload run at its slab offset (the bytes between runs and the slabs' padding stay zero).
    const input = await open(join(args.outDir, 'input.bin'), 'w');
    try {
      await input.truncate(inputBytes);
      for (const r of plan.runs) {
        for (let o = 0; o < r.bytes; o += PIECE_BYTES) {
          const len = Math.min(PIECE_BYTES, r.bytes - o);
          await writeAt(input, await cp.reader.source.read(r.fileOffset + o, len), slabOffsets[r.slab] + r.slabOffset + o);
        }
      }
    } finally {
      await input.close();
    }

    // expected.bin: each tensor as the CPU reader decodes it (its SHA-256 checked there), POISON between them.
    const expected = await open(join(args.outDir, 'expected.bin'), 'w');
    try {
      const placed = plan.tensors.map((t) => ({ t, at: outputOffsets[t.output] + t.offset })).sort((a, b) => a.at - b.at);
      let at = 0;
      for (const { t, at: start } of placed) {
        await poisonRange(expected, at, start);
        // By its record, not its name (a folder may hold a name twice); readSegment checks the SHA-256.
        const bytes = await cp.reader.readSegment(t.seg);
        if (bytes.length !== t.byteLength) throw new Error(`tensor '${t.name}' decodes to ${bytes.length} bytes, planned ${t.byteLength}`);
        await writeAt(expected, bytes, start);
        at = start + t.byteLength;
      }
      await poisonRange(expected, at, outputBytes);
    } finally {
      await expected.close();
    }

    const bytesOf = (a: Uint32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    await writeFile(join(args.outDir, 'entries.bin'), bytesOf(plan.entries));
    await writeFile(join(args.outDir, 'descs.bin'), bytesOf(plan.meta));
    await writeFile(join(args.outDir, 'jobs.bin'), bytesOf(plan.jobs));

    const originalBytes = plan.tensors.reduce((a, t) => a + t.byteLength, 0);
    const dtypes = [...new Set(infos.map((i) => i.dtype))].sort();
    const dispatches = plan.dispatches.map((d) => {
      const workgroups = Math.ceil(d.jobCount / jobsPerWorkgroup);
      const groupsX = Math.min(workgroups, MAX_WORKGROUPS_PER_DIMENSION);
      const spec = plan.kernels[d.kernel];
      return {
        jobBase: d.jobStart,
        jobCount: d.jobCount,
        groupsX,
        groupsY: groupsX === 0 ? 0 : Math.ceil(workgroups / groupsX),
        inputOffset: slabOffsets[d.slab],
        outputOffset: outputOffsets[d.output] + d.windowOffset,
        windowBytes: d.windowBytes,
        spec,
        planes: spec?.lean ? packLean(spec.lean) : spec ? packPlanes(spec) : [0, 0, 0, 0],
      };
    });
    const hex = (p: number): string => `0x${p.toString(16)}u`;
    const specLines = [...new Set(dispatches.filter((d) => d.spec).map((d) => (d.spec!.lean ? `LEAN_SPEC(${d.spec!.W}, ${d.planes.map(hex).join(', ')})` : `TWIN_SPEC(${d.spec!.W}, ${d.spec!.planes}, ${d.spec!.K}, ${d.spec!.coded ? 1 : 0}, ${d.planes.map(hex).join(', ')})`)))];
    await writeFile(join(args.outDir, 'specs.inc'), specLines.map((l) => `${l}\n`).join(''));

    const txt = [
      'twin-plan 1',
      `groups ${args.groups}`,
      `chunks_per_group ${args.chunksPerGroup}`,
      `table_words ${tableWords}`,
      `status_words ${plan.origins.length}`,
      `input_bytes ${inputBytes}`,
      `output_bytes ${outputBytes}`,
      `entries_words ${plan.entries.length}`,
      `descs_words ${plan.meta.length}`,
      `jobs_words ${plan.jobs.length}`,
      `original_bytes ${originalBytes}`,
      `dtypes ${dtypes.join(',') || '-'}`,
      `dispatches ${dispatches.length}`,
      ...dispatches.map((d) => {
        const s = d.spec;
        return ['dispatch', d.jobBase, d.jobCount, d.groupsX, d.groupsY, d.inputOffset, d.outputOffset, d.windowBytes, s?.lean ? 2 : s ? 0 : 1, s?.W ?? 0, s?.planes ?? 0, s?.K ?? 0, s?.coded ? 1 : 0, ...d.planes].join(' ');
      }),
    ];
    await writeFile(join(args.outDir, 'plan.txt'), txt.join('\n') + '\n');

    const json = {
      container: args.container,
      lanes: 'subgroup',
      groups: args.groups,
      chunksPerGroup: args.chunksPerGroup,
      jobsPerWorkgroup,
      jobWords: JOB_WORDS,
      tableWords,
      planTableWords: plan.tableWords,
      statusWords: plan.origins.length,
      inputBytes,
      compressedBytes: plan.inputBytes,
      slabOffsets,
      outputBytes,
      outputOffsets,
      originalBytes,
      dtypes,
      tensors: plan.tensors.map((t) => ({ name: t.name, dtype: t.seg.dtype, at: outputOffsets[t.output] + t.offset, bytes: t.byteLength })),
      skipped,
      dispatches: dispatches.map((d) => ({ job_base: d.jobBase, job_count: d.jobCount, groups_x: d.groupsX, groups_y: d.groupsY, input_offset: d.inputOffset, output_offset: d.outputOffset, window_bytes: d.windowBytes, table_words: tableWords, kernel: d.spec ?? 'generic' })),
    };
    await writeFile(join(args.outDir, 'plan.json'), JSON.stringify(json, null, 1) + '\n');
    console.log(`${args.container}: ${plan.tensors.length} tensors (${skipped.length} left out), ${plan.origins.length} chunks, ${dispatches.length} dispatch(es), ${plan.kernels.length} kernel class(es), input ${inputBytes} bytes, output ${outputBytes} bytes -> ${args.outDir}`);
  } finally {
    await cp.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
