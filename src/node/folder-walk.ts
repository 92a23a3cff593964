// Lists a Hugging Face model folder (Node only): every regular file below it (listFolder), or every file, in-folder
// link and empty folder with modes and times (walkFolder, FORMAT.md §3.2), as '/'-separated relative paths in a fixed
// order (UTF-16 code unit order of the path), so the same folder always gives the same container.
// Symbolic links are followed (a Hugging Face cache snapshot is made of them), but each real folder is walked
// once: a link back to an ancestor (a loop) or a second way into the same folder would otherwise make the walk
// endless or exponential (two links to '..' double the paths at every level).

import type { BigIntStats } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IoError, LimitError } from '../errors.js';
import { MAX_MEMBERS } from '../format/constants.js';
import { displayPath, strictUtf8, unsafeLinkTargetReason, type MemberType } from '../pipeline/index-codec.js';

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

/** One entry of a folder to compress (FORMAT.md §3.2 member types): a regular file, a symbolic link kept as a link, or an empty folder. */
export interface FolderEntry {
  /** '/'-separated path inside the folder, as shown (bytes that are not UTF-8 as \xNN). */
  path: string;
  /** The path's bytes, when they are not valid UTF-8. */
  pathBytes?: Uint8Array;
  /** The entry on disk: the root and the relative path joined, as bytes (names need not be UTF-8). */
  fsPath: Buffer;
  type: MemberType;
  /** Permission bits (`st_mode & 0o7777`) of a file or folder (for a followed link, of what it leads to); none for a link. */
  mode?: number;
  /** Modification time in microseconds since the Unix epoch (of the link itself for a link). */
  mtimeUs: number;
  /** A link's target, as read. */
  target?: Uint8Array;
}

/**
 * Walks `root` for compression: every regular file, every empty folder, and every symbolic link whose target is
 * relative and stays inside `root` (FORMAT.md §3.2 link rules, so the restored folder is self-contained) as a link;
 * other links are followed, their content stored (a Hugging Face cache snapshot links into ../../blobs). Names are
 * read as bytes, so names that are not UTF-8 are kept. Sorted by shown path (UTF-16 code units), then by bytes.
 * @throws IO_ERROR as listFolder; LIMIT_EXCEEDED above MAX_MEMBERS entries
 */
export async function walkFolder(root: string): Promise<FolderEntry[]> {
  const out: FolderEntry[] = [];
  const seen = new Map<string, string>();
  const rootBytes = Buffer.from(root);
  const SLASH = Buffer.from('/');
  const io = (e: unknown, what: string, file: Buffer): IoError => new IoError('IO_ERROR', `${what}: ${(e as Error).message}`, { file: file.toString(), cause: e });
  const add = (e: FolderEntry): void => {
    if (out.length >= MAX_MEMBERS) throw new LimitError('LIMIT_EXCEEDED', `more than ${MAX_MEMBERS} files, links and empty folders`, { file: root });
    out.push(e);
  };
  const walk = async (rel: Buffer, dir: Buffer, st: BigIntStats): Promise<void> => {
    const id = `${st.dev}:${st.ino}`;
    const before = seen.get(id);
    if (before !== undefined) {
      throw new IoError('IO_ERROR', `folder reached twice through symbolic links (also as '${before || '.'}'): a loop or a duplicate`, { file: dir.toString() });
    }
    seen.set(id, displayPath(rel));
    let names: Buffer[];
    try {
      names = await readdir(dir, { encoding: 'buffer' });
    } catch (e) {
      throw io(e, 'cannot list folder', dir);
    }
    for (const name of names) {
      const r = rel.length === 0 ? name : Buffer.concat([rel, SLASH, name]);
      const full = Buffer.concat([rootBytes, SLASH, r]);
      const text = strictUtf8(r);
      const shown = { path: text ?? displayPath(r), ...(text === undefined ? { pathBytes: new Uint8Array(r) } : {}), fsPath: full };
      let lst: BigIntStats;
      try {
        lst = await lstat(full, { bigint: true });
      } catch (e) {
        throw io(e, 'cannot read', full);
      }
      let child = lst;
      if (lst.isSymbolicLink()) {
        let target: Buffer;
        try {
          target = await readlink(full, { encoding: 'buffer' });
        } catch (e) {
          throw io(e, 'cannot read link', full);
        }
        if (unsafeLinkTargetReason(r, target) === undefined) {
          add({ ...shown, type: 'link', mtimeUs: microseconds(lst), target: new Uint8Array(target) });
          continue;
        }
        try {
          child = await stat(full, { bigint: true });
        } catch (e) {
          throw io(e, 'cannot read', full);
        }
      }
      const attrs = { mode: Number(child.mode & 0o7777n), mtimeUs: microseconds(child) };
      if (child.isDirectory()) {
        const count = out.length;
        await walk(r, full, child);
        if (out.length === count) add({ ...shown, type: 'folder', ...attrs });
      } else if (child.isFile()) add({ ...shown, type: 'file', ...attrs });
      else throw new IoError('IO_ERROR', 'not a regular file, folder or symbolic link', { file: full.toString() });
    }
  };
  let st: BigIntStats;
  try {
    st = await stat(root, { bigint: true });
  } catch (e) {
    throw io(e, 'cannot read', rootBytes);
  }
  await walk(Buffer.alloc(0), rootBytes, st);
  const key = (e: FolderEntry): string => e.path;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : Buffer.compare(a.fsPath, b.fsPath)));
}

/** Modification time of `st` in whole microseconds since the Unix epoch (0 for times before it). */
export function microseconds(st: BigIntStats): number {
  const us = st.mtimeNs / 1000n;
  return us > 0n ? Number(us) : 0;
}
