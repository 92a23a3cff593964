// The jobs of the chunk digest check on the GPU (chunk-digest.wgsl; FORMAT.md §7.5): per version 4 chunk, where its
// decoded bytes lie in its decode dispatch's output window and the WD64 they must have. Pure, like the decode plan.

import { JOB_DIGEST, JOB_WORDS, type JobTable } from './job-table.js';

/** u32 words per digest job (chunk-digest.wgsl: two vec4). */
export const DIGEST_JOB_WORDS = 8;

/** One digest dispatch: jobs [jobStart, jobStart + jobCount) over one window of one output buffer. */
export interface DigestDispatch {
  /** The input slab whose decode writes these chunks (the pass runs after that slab's decode pass). */
  slab: number;
  output: number;
  windowOffset: number;
  windowBytes: number;
  jobStart: number;
  jobCount: number;
}

/**
 * The words of one digest job: its output's byte offset in the dispatch's window, its byte count, its status index
 * and the WD64 its bytes must have (the record's digest XOR the chunk's binding, FORMAT.md §7.5).
 */
export function digestJobWords(windowAt: number, bytes: number, status: number, expected: bigint): number[] {
  return [windowAt, bytes, status, 0, Number(expected & 0xffffffffn), Number(expected >> 32n), 0, 0];
}

/**
 * The digest jobs of the decode dispatches `dispatches` over the jobs `order` (indices into `table`, in dispatch
 * order): one digest dispatch per run of decode dispatches on the same slab and output window, holding those of their
 * jobs that carry a digest, each as digestJobWords lays it out (the window offset and status index are its decode
 * job's words 4 and 5).
 * @returns the jobs (DIGEST_JOB_WORDS u32 each, at least one job's words) and the dispatches that have any
 */
export function planDigestJobs(
  dispatches: { slab: number; output: number; windowOffset: number; windowBytes: number; jobStart: number; jobCount: number }[],
  order: Uint32Array,
  table: JobTable,
): { digestJobs: Uint32Array; digestDispatches: DigestDispatch[] } {
  let count = 0;
  for (const d of dispatches) for (let k = d.jobStart; k < d.jobStart + d.jobCount; k++) if (table.flags[order[k]] & JOB_DIGEST) count++;
  const digestJobs = new Uint32Array(Math.max(1, count) * DIGEST_JOB_WORDS);
  const digestDispatches: DigestDispatch[] = [];
  let at = 0;
  let open: DigestDispatch | undefined;
  for (const d of dispatches) {
    if (!open || open.slab !== d.slab || open.output !== d.output || open.windowOffset !== d.windowOffset) {
      open = { slab: d.slab, output: d.output, windowOffset: d.windowOffset, windowBytes: d.windowBytes, jobStart: at, jobCount: 0 };
      digestDispatches.push(open);
    }
    for (let k = d.jobStart; k < d.jobStart + d.jobCount; k++) {
      const j = order[k];
      if (!(table.flags[j] & JOB_DIGEST)) continue;
      const o = at * DIGEST_JOB_WORDS;
      digestJobs[o] = table.words[j * JOB_WORDS + 4];
      digestJobs[o + 1] = table.digestBytes[j];
      digestJobs[o + 2] = table.words[j * JOB_WORDS + 5];
      digestJobs[o + 4] = table.digestLo[j];
      digestJobs[o + 5] = table.digestHi[j];
      at++;
      open.jobCount++;
    }
  }
  return { digestJobs, digestDispatches: digestDispatches.filter((d) => d.jobCount > 0) };
}
