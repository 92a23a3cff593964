#!/usr/bin/env node
// The wcodec command line (Node only): compress, decompress, info, verify. The only code that prints or exits.
// Exit codes: 0 success, 1 usage error or a refusal of the environment (IoError: output exists, input unreadable or
// changed), 2 bad or corrupt data, 130/143 interrupted by SIGINT/SIGTERM (temporaries removed).

import { readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { tempOwnerPid } from '../io/file-source.js';
import { IoError, WcodecError } from '../errors.js';
import { closeSharedPools } from '../workers/pool.js';
import { compressFile, decompressFile, openCheckpoint } from '../node/file-api.js';
import { openReference } from '../node/reference-file.js';
import { checkOutputLimit } from '../api/output-limit.js';
import type { TensorReference } from '../format/tensor-reference.js';
import { parseArgs, USAGE, UsageError, type CliArgs } from './args.js';
import { ProgressBar } from './progress.js';
import { formatBytes, formatRatio, infoTable } from './report.js';
import { printable } from './printable.js';
import { GPU_PROFILE } from '../gpu/profile.js';

const EXIT_OK = 0;
const EXIT_USAGE = 1;
const EXIT_DATA = 2;

function out(args: CliArgs, json: unknown, text: string): void {
  process.stdout.write(args.json ? JSON.stringify(json, null, 2) + '\n' : text + '\n');
}

function needOne(args: CliArgs, withOutput: boolean): string {
  if (args.positionals.length !== 1) throw new UsageError(`${args.command} takes exactly one input`);
  if (withOutput && args.output === undefined) throw new UsageError(`${args.command} needs -o <output>`);
  return args.positionals[0];
}

/** --threads, or every core the process may use. */
function threadsFor(args: CliArgs): number {
  return args.threads ?? availableParallelism();
}

async function run(args: CliArgs): Promise<number> {
  if (args.ref !== undefined && !['compress', 'decompress', 'verify'].includes(args.command)) throw new UsageError(`--ref applies to compress, decompress and verify`);
  if (args.maxSize !== undefined && !['decompress', 'verify'].includes(args.command)) throw new UsageError(`--max-size applies to decompress and verify`);
  const reference = args.ref !== undefined ? await openReference(args.ref) : undefined;
  try {
    return await runWith(args, reference);
  } finally {
    await reference?.close();
  }
}

async function runWith(args: CliArgs, reference: TensorReference | undefined): Promise<number> {
  const tty = process.stderr.isTTY === true && !args.quiet && !args.json;
  switch (args.command) {
    case 'compress': {
      const input = needOne(args, true);
      const bar = new ProgressBar(tty, 0);
      let bar2 = bar;
      const t0 = performance.now();
      const res = await compressFile(input, args.output!, {
        overwrite: args.force,
        chunkBytes: args.chunkBytes ?? (args.profile === 'gpu' ? GPU_PROFILE.chunkBytes : undefined),
        lanes: args.profile === 'gpu' ? GPU_PROFILE.lanes : undefined,
        threads: threadsFor(args),
        fastDecode: args.fastDecode,
        huffman: args.huffman,
        reference,
        transforms: !args.noTransforms,
        strict: args.strict,
        onMember: (path) => {
          bar2.finish();
          bar2 = new ProgressBar(tty, 0);
          bar2.setLabel(path);
        },
        onProgress: (done, total) => {
          (bar2 as unknown as { total: number }).total = total;
          bar2.update(done);
        },
      });
      bar2.finish();
      for (const w of res.warnings) process.stderr.write(`wcodec: warning: ${printable(w.message)}\n`);
      const secs = (performance.now() - t0) / 1000;
      out(
        args,
        { command: 'compress', input, output: args.output, kind: res.kind, originalBytes: res.originalBytes, compressedBytes: res.compressedBytes, ratio: res.originalBytes / res.compressedBytes, seconds: secs, warnings: res.warnings.map((w) => ({ path: w.path, ...w.error.toWire() })) },
        `${input}: ${formatBytes(res.originalBytes)} -> ${formatBytes(res.compressedBytes)} (${formatRatio(res.originalBytes, res.compressedBytes)}) in ${secs.toFixed(2)} s -> ${args.output}`,
      );
      return EXIT_OK;
    }
    case 'decompress': {
      const input = needOne(args, true);
      let bar = new ProgressBar(tty, 0);
      const t0 = performance.now();
      const index = await decompressFile(input, args.output!, {
        overwrite: args.force,
        threads: threadsFor(args),
        reference,
        maxOutputBytes: args.maxSize,
        onMember: (path) => {
          bar.finish();
          bar = new ProgressBar(tty, 0);
          bar.setLabel(path);
        },
        onProgress: (done, total) => {
          (bar as unknown as { total: number }).total = total;
          bar.update(done);
        },
      });
      bar.finish();
      const bytes = index.members.reduce((a, m) => a + m.originalBytes, 0);
      const secs = (performance.now() - t0) / 1000;
      out(
        args,
        { command: 'decompress', input, output: args.output, kind: index.kind, files: index.members.map((m) => ({ path: m.path, bytes: m.originalBytes })), originalBytes: bytes, seconds: secs },
        `${input}: ${index.members.length} file(s), ${formatBytes(bytes)} restored and verified in ${secs.toFixed(2)} s -> ${args.output}`,
      );
      return EXIT_OK;
    }
    case 'info': {
      const input = needOne(args, false);
      const cp = await openCheckpoint(input);
      try {
        const size = cp.reader.containerBytes;
        out(args, { file: input, kind: cp.kind, containerBytes: size, members: cp.members, tensors: cp.tensors }, infoTable(cp, size));
      } finally {
        await cp.close();
      }
      return EXIT_OK;
    }
    case 'verify': {
      const input = needOne(args, false);
      const cp = await openCheckpoint(input);
      const t0 = performance.now();
      let bytes = 0;
      try {
        checkOutputLimit(cp.members.reduce((a, m) => a + m.originalBytes, 0), { maxOutputBytes: args.maxSize }, input, 'the container');
        const sink = { write: async (b: Uint8Array) => void (bytes += b.length) };
        for (const m of cp.reader.index.members) await cp.reader.decodeMember(m, sink, { threads: threadsFor(args), checkSegmentDigests: true, reference });
      } finally {
        await cp.close();
      }
      const secs = (performance.now() - t0) / 1000;
      out(
        args,
        { command: 'verify', file: input, ok: true, files: cp.members.length, tensors: cp.tensors.length, originalBytes: bytes, seconds: secs },
        `${input}: OK — ${cp.members.length} file(s), ${cp.tensors.length} tensors, ${formatBytes(bytes)} decoded, every CRC-32C and SHA-256 matches (${secs.toFixed(2)} s)`,
      );
      return EXIT_OK;
    }
    case 'help':
      process.stdout.write(USAGE + '\n');
      return EXIT_OK;
    case '':
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown command '${args.command}'`);
  }
}

/** Exit status after SIGINT and SIGTERM: 128 + the signal number, as shells report them. */
const EXIT_ON_SIGNAL: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };
/** How long an interrupted run waits for file operations in flight before removing its temporaries again. */
const SIGNAL_SETTLE_MS = 50;

/**
 * On SIGINT or SIGTERM, removes this process's temporary files and folders beside `output` and exits with one line on
 * stderr. Removal and exit are synchronous, so no decoding or writing of this process runs after them; an output
 * already moved into place is complete and stays.
 */
function cleanUpOnSignals(output: string): void {
  const dir = dirname(output);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      const removed = new Set<string>();
      const removeOwn = (): void => {
        try {
          for (const name of readdirSync(dir)) {
            if (tempOwnerPid(name) !== process.pid) continue;
            rmSync(join(dir, name), { recursive: true, force: true });
            removed.add(name);
          }
        } catch {
          // Best effort: what is left is removed by the next run that writes into this folder (removeStaleTemps).
        }
      };
      removeOwn();
      // File operations already handed to libuv's threads (a mkdir of a member's folder) may still complete and
      // recreate a path: wait for them, blocking this thread so that nothing new starts, and remove again.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SIGNAL_SETTLE_MS);
      removeOwn();
      process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}wcodec: interrupted by ${signal}; ${removed.size} temporary file(s) removed\n`);
      process.exit(EXIT_ON_SIGNAL[signal]);
    });
  }
}

async function main(): Promise<void> {
  let args: CliArgs | undefined;
  try {
    args = parseArgs(process.argv.slice(2));
    if ((args.command === 'compress' || args.command === 'decompress') && args.output !== undefined) cleanUpOnSignals(args.output);
    process.exitCode = await run(args);
  } catch (e) {
    const json = args?.json === true;
    if (e instanceof UsageError) {
      process.stderr.write(`wcodec: ${e.message}\n\n${USAGE}\n`);
      process.exitCode = EXIT_USAGE;
    } else if (e instanceof WcodecError) {
      // The environment (files, space, an output in the way) rather than the data: exit 1.
      const usageLike = e instanceof IoError;
      if (json) process.stdout.write(JSON.stringify({ ok: false, error: e.toWire() }, null, 2) + '\n');
      process.stderr.write(`wcodec: ${printable(e.message)}\n`);
      process.exitCode = usageLike ? EXIT_USAGE : EXIT_DATA;
    } else {
      process.stderr.write(`wcodec: internal error: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 70;
    }
  } finally {
    await closeSharedPools();
  }
}

await main();
