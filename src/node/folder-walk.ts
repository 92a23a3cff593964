// Lists a Hugging Face model folder (Node only): every regular file below it, as '/'-separated relative paths in
// a fixed order (UTF-16 code unit order of the path), so the same folder always gives the same container.

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IoError } from '../errors.js';

/** Relative paths of all regular files under `root`, sorted. Symbolic links are followed; other entries are refused. */
export async function listFolder(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const dir = rel === '' ? root : join(root, rel);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      throw new IoError('IO_ERROR', `cannot list folder: ${(e as Error).message}`, { file: dir, cause: e });
    }
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = await stat(join(root, r));
      if (st.isDirectory()) await walk(r);
      else if (st.isFile()) out.push(r);
      else throw new IoError('IO_ERROR', 'not a regular file or folder', { file: join(root, r) });
    }
  };
  await walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
