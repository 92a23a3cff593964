// Where the native decoding experiment keeps its containers and chunk descriptions (git-ignored with bench/out).

import { join } from 'node:path';
import { REPO_ROOT } from '../inputs.js';

/** bench/out/native: DTYPE.wcodec and DTYPE.chunks, written by dump-chunks.ts. */
export const NATIVE_DIR = join(REPO_ROOT, 'bench', 'out', 'native');

/** MiB of synthetic tensor data per dtype unless --mib says otherwise (the size the 1.5x target is stated for). */
export const DEFAULT_MIB = 256;
