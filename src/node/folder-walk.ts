// Lists a Hugging Face model folder (Node only): every regular file below it, as '/'-separated relative paths in
// a fixed order (UTF-16 code unit order of the path), so the same folder always gives the same container.
// Symbolic links are followed (a Hugging Face cache snapshot is made of them), but each real folder is walked
// once: a link back to an ancestor (a loop) or a second way into the same folder would otherwise make the walk
// endless or exponential (two links to '..' double the paths at every level).

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IoError, LimitError } from '../errors.js';
import { MAX_MEMBERS } from '../format/constants.js';

/**
 * Relative paths of all regular files under `root`, sorted.
 * @throws IO_ERROR for an unreadable entry, a dangling link, an entry that is neither file nor folder, or a folder
 *   reached twice (a link loop or a second link into it); LIMIT_EXCEEDED above MAX_MEMBERS files
 */
export async function listFolder(root: string): Promise<string[]> {
  const out: string[] = [];
  const seen = new Map<string, string>(); // "dev:ino" of each folder walked -> its relative path
  const statOf = async (path: string): Promise<Awaited<ReturnType<typeof stat>>> => {
    try {
      return await stat(path, { bigint: true });
    } catch (e) {
      throw new IoError('IO_ERROR', `cannot read: ${(e as Error).message}`, { file: path, cause: e });
    }
  };
  const walk = async (rel: string, st: Awaited<ReturnType<typeof stat>>): Promise<void> => {
    const dir = rel === '' ? root : join(root, rel);
    const id = `${st.dev}:${st.ino}`;
    const before = seen.get(id);
    if (before !== undefined) {
      throw new IoError('IO_ERROR', `folder reached twice through symbolic links (also as '${before || '.'}'): a loop or a duplicate`, { file: dir });
    }
    seen.set(id, rel);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      throw new IoError('IO_ERROR', `cannot list folder: ${(e as Error).message}`, { file: dir, cause: e });
    }
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const child = await statOf(join(root, r));
      if (child.isDirectory()) await walk(r, child);
      else if (child.isFile()) {
        if (out.length >= MAX_MEMBERS) throw new LimitError('LIMIT_EXCEEDED', `more than ${MAX_MEMBERS} files`, { file: root });
        out.push(r);
      } else throw new IoError('IO_ERROR', 'not a regular file or folder', { file: join(root, r) });
    }
  };
  await walk('', await statOf(root));
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
