#!/usr/bin/env node
// The wcodec command line (Node only; docs/CLI.md): compress, decompress, info, verify, with zstd's conventions. The
// only code that prints or exits. Exit codes: 0 success, 1 usage error or a refusal of the environment (IoError:
// output exists, input unreadable or changed), 2 bad or corrupt data, 130/143 interrupted by SIGINT/SIGTERM
// (temporaries removed).

import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { tempOwnerPid } from '../io/file-source.js';
import { IoError, WcodecError } from '../errors.js';
import { closeSharedPools } from '../workers/pool.js';
import { compressedName, compressFile, compressToSink, decompressedName, decompressFile, isFolderTarget, openCheckpoint, type CompressResult, type DecompressFileOptions } from '../node/file-api.js';
import { checkOutputLimit } from '../api/output-limit.js';
import type { Checkpoint } from '../api/checkpoint.js';
import type { TensorQuantizer } from '../lossy/presets.js';
import type { ContainerIndex } from '../pipeline/index-codec.js';
import type { TensorReference } from '../format/tensor-reference.js';
import { FORMAT_VERSION_COMPACT, FORMAT_VERSION_DIGESTS, FORMAT_VERSIONS } from '../format/constants.js';
import { COMMAND_HELP, parseArgs, USAGE, UsageError, type CliArgs, type Command } from './args.js';
import { ProgressBar } from './progress.js';
import { describeContainer, formatBytes, formatRatio, hex, infoText, lossyLine, lossySummary } from './report.js';
import { refuseLossy } from '../pipeline/lossy-segments.js';
import { printable } from './printable.js';
import { spoolStdin, STDIN_NAME, STDOUT_NAME, StdoutSink, type Spool } from './stdio.js';

const EXIT_OK = 0;
const EXIT_USAGE = 1;
const EXIT_DATA = 2;
/** An error the CLI did not expect (a bug): EX_SOFTWARE of sysexits.h. */
const EXIT_INTERNAL = 70;
/** The `code` of a usage error in JSON (docs/CLI.md; not a container error code). */
const USAGE_CODE = 'USAGE';
/** First bytes of every container (FORMAT.md §2), for the warning before compressing one. */
const CONTAINER_MAGIC = [0x89, 0x57, 0x43, 0x4f, 0x44, 0x45, 0x43];

/** Folders to clear of this process's temporaries, and stdin spools to remove, when a signal ends the run. */
const cleanup = { outputFolders: new Set<string>(), spools: new Set<string>() };

/** What one run prints where: -q, -v and --json, and whether stdout carries data (then JSON goes to stderr). */
class Printer {
  constructor(private readonly args: CliArgs, readonly dataOnStdout: boolean) {}
  /** A summary or detail line on stderr, shown at verbosity `level` and above (never with --json). */
  note(level: number, text: string): void {
    if (!this.args.json && this.args.verbosity >= level) process.stderr.write(text + '\n');
  }
  warn(text: string): void {
    if (this.args.verbosity >= -1) process.stderr.write(`wcodec: warning: ${printable(text)}\n`);
  }
  /** A command's result: JSON (one line per input) or text on stdout. */
  result(json: object, text: string | undefined): void {
    if (this.args.json) (this.dataOnStdout ? process.stderr : process.stdout).write(JSON.stringify(json) + '\n');
    else if (text !== undefined) process.stdout.write(text + '\n');
  }
  /** The progress bar of one input: on a terminal, below -q, without --json. */
  bar(prefix: string): ProgressBar {
    return new ProgressBar(process.stderr.isTTY === true && this.args.verbosity >= 0 && !this.args.json, prefix);
  }
}

/** The fields every JSON object shares (docs/CLI.md). */
function jsonHead(command: Command, file: string | null): { ok: boolean; command: Command; code: string | null; message: string | null; file: string | null; offset: number | null } {
  return { ok: true, command, code: null, message: null, file, offset: null };
}

/** --threads, or every core the process may use. */
function threadsFor(args: CliArgs): number {
  return args.threads ?? availableParallelism();
}

/** Whether the command writes its data to stdout: -c, '-o -', or stdin in with no -o. */
function toStdout(args: CliArgs): boolean {
  return args.stdout || args.output === '-' || (args.output === undefined && args.inputs.length === 1 && args.inputs[0] === '-' && (args.command === 'compress' || args.command === 'decompress'));
}

/** Checks the combination of inputs and outputs before any input is read. @throws UsageError */
function checkCommandLine(args: CliArgs): void {
  const { command } = args;
  if (args.inputs.length === 0) throw new UsageError(`no input given ('-' reads standard input)`, command);
  if (args.inputs.length > 1 && args.inputs.includes('-')) throw new UsageError(`standard input ('-') must be the only input`, command);
  if (args.stdout && args.output !== undefined && args.output !== '-') throw new UsageError(`-c/--stdout and -o ${args.output} contradict each other`, command);
  const several = args.inputs.length > 1;
  if (toStdout(args) && several) throw new UsageError(`standard output takes one input, not ${args.inputs.length}`, command);
  if (several && args.output !== undefined && !isFolderTarget(args.output)) throw new UsageError(`${args.inputs.length} inputs need -o DIR/ (a folder, ending in '/') or no -o (default names)`, command);
  if (command === 'compress' && toStdout(args) && process.stdout.isTTY) throw new UsageError('refusing to write a container to a terminal (redirect standard output, or use -o)', command);
}

async function run(args: CliArgs): Promise<number> {
  if (args.help) {
    process.stdout.write((args.inputs.length === 0 && !argvNamesCommand() ? USAGE : COMMAND_HELP[args.command]) + '\n');
    return EXIT_OK;
  }
  if (args.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`wcodec ${pkg.version} (container format: reads versions ${FORMAT_VERSIONS.join(', ')}, writes ${FORMAT_VERSION_DIGESTS}, or ${FORMAT_VERSION_COMPACT} where the byte model is used)\n`);
    return EXIT_OK;
  }
  checkCommandLine(args);
  // Modules only some commands use are loaded when used: Node's start and module loading are a visible part of a
  // small job (docs/BENCHMARKS.md, small jobs).
  const reference = args.ref !== undefined ? await (await import('../node/reference-file.js')).openReference(args.ref) : undefined;
  const printer = new Printer(args, toStdout(args));
  let status = EXIT_OK;
  try {
    for (let k = 0; k < args.inputs.length; k++) {
      const input = args.inputs[k];
      const prefix = args.inputs.length > 1 ? `(${k + 1}/${args.inputs.length}) ` : '';
      let spool: Spool | undefined;
      try {
        if (input === '-') {
          spool = await spoolStdin((dir) => cleanup.spools.add(dir));
        }
        const one = { input, path: spool?.path ?? input, name: input === '-' ? STDIN_NAME : input, prefix };
        if (args.command === 'compress') await compressOne(args, printer, reference, one);
        else if (args.command === 'decompress') await decompressOne(args, printer, reference, one);
        else if (args.command === 'info') {
          if (k > 0 && !args.json) process.stdout.write('\n');
          await infoOne(args, printer, one);
        }
        else await verifyOne(args, printer, reference, one);
      } catch (e) {
        const err = spool ? relabel(e, spool.path) : e;
        // One input without --json: main reports the error. Several inputs, or --json: report it and go on.
        if (!(err instanceof WcodecError || err instanceof UsageError) || (args.inputs.length === 1 && !args.json)) throw err;
        if (err instanceof UsageError) reportUsage(args, err);
        else reportError(args, err);
        status = Math.max(status, err instanceof UsageError ? EXIT_USAGE : exitCodeOf(err));
      } finally {
        if (spool) {
          await rm(spool.dir, { recursive: true, force: true });
          cleanup.spools.delete(spool.dir);
        }
      }
    }
  } finally {
    await reference?.close();
  }
  return status;
}

/** Whether the command line names a command (`wcodec compress --help` shows that command's help). */
function argvNamesCommand(): boolean {
  const argv = process.argv.slice(2);
  const terminator = argv.indexOf('--');
  const shortD = (a: string): boolean => /^-[a-zA-Z]*d/.test(a) && !a.startsWith('--');
  return argv.some((a, i) => (terminator < 0 || i < terminator) && (shortD(a) || a === '--decompress' || ['compress', 'decompress', 'info', 'verify'].includes(a)));
}

/** An error about the spooled copy of stdin, told as being about stdin. */
function relabel(e: unknown, spoolPath: string): unknown {
  if (!(e instanceof WcodecError) || e.file === undefined || !e.file.startsWith(dirname(spoolPath))) return e;
  const copy = Object.create(Object.getPrototypeOf(e)) as WcodecError;
  Object.assign(copy, e);
  Object.defineProperty(copy, 'message', { value: e.message.split(e.file).join(STDIN_NAME) });
  Object.defineProperty(copy, 'file', { value: STDIN_NAME });
  return copy;
}

interface OneInput {
  /** As given ('-' for stdin). */
  input: string;
  /** Where its bytes are (the spool for stdin). */
  path: string;
  /** How messages name it. */
  name: string;
  /** "(2/5) " among several inputs. */
  prefix: string;
}

/** Whether a file starts with the container magic (for the warning before compressing a container again). */
async function looksLikeContainer(path: string): Promise<boolean> {
  if (path.endsWith('.wcodec')) return true;
  try {
    const fh = await open(path, 'r');
    try {
      const head = new Uint8Array(CONTAINER_MAGIC.length);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      return bytesRead === head.length && CONTAINER_MAGIC.every((b, i) => head[i] === b);
    } finally {
      await fh.close();
    }
  } catch {
    return false; // a folder, or unreadable: reported when it is compressed
  }
}

/** Decodes every member of an open container, checking every checksum, writing nothing. @returns bytes decoded */
async function decodeAll(cp: Checkpoint, args: CliArgs, reference: TensorReference | undefined, bar?: ProgressBar): Promise<number> {
  let bytes = 0;
  const sink = { write: async (b: Uint8Array) => void (bytes += b.length) };
  const members = cp.reader.index.members;
  bar?.begin(members.reduce((a, m) => a + m.originalBytes, 0), members.length);
  for (let k = 0; k < members.length; k++) {
    bar?.member(members[k].path, k, members.length);
    await cp.reader.decodeMember(members[k], sink, { threads: threadsFor(args), checkSha256: true, checkSegmentDigests: true, reference, onProgress: (d, t) => bar?.update(d, t) });
  }
  bar?.finish();
  return bytes;
}

/** Removes an input (a file, or a folder and everything in it) after its output is complete and verified. */
async function removeInput(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true });
  } catch (e) {
    throw new IoError('IO_ERROR', `the output is complete, but the input could not be removed: ${(e as Error).message}`, { file: path, cause: e });
  }
}

/** The progress callbacks of a compress or decompress run: the bar, and with -v a line per file of several. */
function progressCallbacks(bar: ProgressBar, printer: Printer, one: OneInput): Pick<DecompressFileOptions, 'onStart' | 'onMember' | 'onProgress'> {
  return {
    onStart: (total, count) => bar.begin(total, count),
    onMember: (path, k, n) => {
      bar.member(path, k, n);
      if (n > 1) printer.note(1, `${one.prefix}file ${k + 1} of ${n}: ${printable(path)}`);
    },
    onProgress: (done, total) => bar.update(done, total),
  };
}

/**
 * The encoder's lossy option for a preset: the preset's quantizer (src/lossy/presets.ts), with GPTQ where a calibration
 * text is given (the input is then loaded as a Llama model and run on windows of the text to collect each linear
 * layer's input statistics), and then for an integer preset, unless it says `+uniform`, bits per tensor from each
 * tensor's measured sensitivity on that text (`+mixed`, which the label then names).
 */
async function lossyOption(preset: string, calibrate: string | undefined, input: string, printer: Printer, threads: number | undefined): Promise<{ label: string; quantize: TensorQuantizer; formatVersion: 6 | 7 }> {
  const { parseLossySpec, quantizerFor } = await import('../lossy/presets.js');
  const spec = parseLossySpec(preset);
  if (calibrate === undefined) return { label: preset, quantize: quantizerFor(preset), formatVersion: spec.formatVersion };
  const { loadLlama } = await import('../eval/load-llama.js');
  const { calibrationHessians } = await import('../eval/calibration-hessians.js');
  let text: Uint8Array;
  try {
    text = new Uint8Array(readFileSync(calibrate));
  } catch (e) {
    throw new IoError('IO_ERROR', `cannot read the calibration text: ${(e as Error).message}`, { file: calibrate, cause: e });
  }
  const weights = await loadLlama(input);
  const windows = Math.min(CALIBRATION_WINDOWS, Math.floor(text.length / CALIBRATION_WINDOW_BYTES));
  if (windows < 1) throw new IoError('IO_ERROR', `a calibration text of ${text.length} bytes holds no window of ${CALIBRATION_WINDOW_BYTES} bytes`, { file: calibrate });
  printer.note(1, `calibrating on ${windows} windows of ${printable(calibrate)}`);
  const hessians = calibrationHessians(weights, text, windows, CALIBRATION_WINDOW_BYTES);
  let bitsOverride: Map<string, number> | undefined;
  const mixed = spec.bits !== undefined && !spec.uniform;
  if (mixed) {
    const { measureSensitivities, mixedBits } = await import('../eval/tensor-sensitivity.js');
    printer.note(1, `measuring each tensor's sensitivity on ${printable(calibrate)}`);
    bitsOverride = mixedBits(await measureSensitivities(weights, text, threads ?? 1), spec.bits!);
  }
  const label = `${mixed && !spec.mixed ? `${preset}+mixed` : preset} gptq`;
  return { label, quantize: quantizerFor(preset, { hessians, bitsOverride }), formatVersion: spec.formatVersion };
}

/** Windows of the calibration text that GPTQ's statistics are collected on, and their length. */
const CALIBRATION_WINDOWS = 8;
const CALIBRATION_WINDOW_BYTES = 512;

async function compressOne(args: CliArgs, printer: Printer, reference: TensorReference | undefined, one: OneInput): Promise<void> {
  if (await looksLikeContainer(one.path)) printer.warn(`${one.name} is already a .wcodec container: compressing it again will not make it smaller`);
  const stdout = toStdout(args);
  const output = stdout ? STDOUT_NAME : args.output ?? join(dirname(one.input), compressedName(one.input));
  const bar = printer.bar(one.prefix);
  const t0 = performance.now();
  const { GPU_PROFILE } = await import('../gpu/profile.js');
  const options = {
    overwrite: args.force,
    chunkBytes: args.chunkBytes ?? (args.profile === 'gpu' ? GPU_PROFILE.chunkBytes : undefined),
    lanes: args.profile === 'gpu' ? GPU_PROFILE.lanes : undefined,
    threads: threadsFor(args),
    fastDecode: args.fastDecode,
    huffman: args.huffman,
    // --level max writes version 10, which holds the byte model: --byte-model then asks for nothing more.
    formatVersion: args.byteModel && args.level !== 'max' ? (FORMAT_VERSION_COMPACT as 11) : undefined,
    byteModel: args.noByteModel ? false : undefined,
    level: args.level,
    reference,
    transforms: !args.noTransforms,
    strict: args.strict,
    array: args.dtype !== undefined ? { dtype: args.dtype, shape: args.shape } : undefined,
    lossy: args.lossy !== undefined ? await lossyOption(args.lossy, args.calibrate, one.path, printer, threadsFor(args)) : undefined,
    ...progressCallbacks(bar, printer, one),
    onOutput: (path: string) => void cleanup.outputFolders.add(dirname(path)),
  };
  let res: CompressResult;
  try {
    res = stdout ? await compressToSink(one.path, new StdoutSink(), options) : await compressFile(one.path, output, options);
  } finally {
    bar.finish();
  }
  const written = stdout ? STDOUT_NAME : res.output;
  for (const w of res.warnings) printer.warn(w.message);
  // --rm: the container is decoded and checked before the input goes (never for stdout, which cannot be read back).
  let removed = false;
  if (args.removeInputs && !stdout && one.input !== '-') {
    const cp = await openCheckpoint(written);
    try {
      await decodeAll(cp, args, reference);
    } finally {
      await cp.close();
    }
    await removeInput(one.input);
    removed = true;
  }
  const secs = (performance.now() - t0) / 1000;
  const lossy = lossySummary(res.index, res.compressedBytes);
  printer.result(
    { ...jsonHead('compress', one.name), output: written, kind: res.kind, originalBytes: res.originalBytes, compressedBytes: res.compressedBytes, ratio: res.originalBytes / res.compressedBytes, seconds: secs, inputRemoved: removed, lossy, warnings: res.warnings.map((w) => ({ path: w.path, ...w.error.toWire() })) },
    undefined,
  );
  printer.note(0, `${printable(one.name)}: ${formatBytes(res.originalBytes)} -> ${formatBytes(res.compressedBytes)} (${formatRatio(res.originalBytes, res.compressedBytes)}) in ${secs.toFixed(2)} s -> ${printable(written)}${removed ? ' (input removed)' : ''}`);
  if (lossy) printer.note(0, `${printable(one.name)}: ${lossyLine(lossy)}`);
}

async function decompressOne(args: CliArgs, printer: Printer, reference: TensorReference | undefined, one: OneInput): Promise<void> {
  const bar = printer.bar(one.prefix);
  const t0 = performance.now();
  const progress = {
    threads: threadsFor(args),
    reference,
    maxOutputBytes: args.maxSize,
    losslessOnly: args.losslessOnly,
    ...(args.checkSha256 ? { checkSha256: true } : {}),
    ...progressCallbacks(bar, printer, one),
  };
  let written: string;
  let members: { path: string; originalBytes: number; sha256: Uint8Array }[];
  let kind: 'file' | 'folder';
  let containerBytes: number;
  let index: ContainerIndex;
  if (toStdout(args)) {
    const cp = await openCheckpoint(one.path);
    try {
      kind = cp.kind;
      containerBytes = cp.reader.containerBytes;
      members = cp.reader.index.members;
      if (kind === 'folder') throw new UsageError(`${one.name} holds a folder of ${members.length} files, which standard output cannot take: use -o DIR/`, 'decompress');
      const member = cp.reader.index.members[0];
      checkOutputLimit(member.originalBytes, { maxOutputBytes: args.maxSize }, one.name, 'the container');
      if (args.losslessOnly) refuseLossy(cp.reader.index, one.name);
      index = cp.reader.index;
      bar.begin(member.originalBytes, 1);
      bar.member(member.path, 0, 1);
      await cp.reader.decodeMember(member, new StdoutSink(), progress);
    } finally {
      bar.finish();
      await cp.close();
    }
    written = STDOUT_NAME;
  } else {
    let output = args.output;
    if (output === undefined) {
      const name = decompressedName(one.input);
      if (name === undefined) throw new UsageError(`cannot name the output of '${one.input}' (its name does not end in .wcodec): give -o PATH`, 'decompress');
      output = join(dirname(one.input), name);
    } else if (args.inputs.length > 1) {
      // Several inputs into DIR/: a folder container's files go to DIR/<name>/, not into DIR itself.
      const cp = await openCheckpoint(one.path);
      const folder = cp.kind === 'folder';
      await cp.close();
      if (folder) output = join(output, decompressedName(one.input) ?? compressedName(one.input) + '.d');
    }
    let final = output;
    try {
      index = await decompressFile(one.path, output, { ...progress, overwrite: args.force, onOutput: (p) => {
        final = p;
        cleanup.outputFolders.add(dirname(p));
      } });
      members = index.members;
      kind = index.kind;
    } finally {
      bar.finish();
    }
    containerBytes = (await stat(one.path)).size;
    written = final;
  }
  let removed = false;
  if (args.removeInputs && written !== STDOUT_NAME && one.input !== '-') {
    await removeInput(one.input);
    removed = true;
  }
  const bytes = members.reduce((a, m) => a + m.originalBytes, 0);
  const secs = (performance.now() - t0) / 1000;
  const lossy = lossySummary(index, containerBytes);
  // Said even with -q: the output is not the original, which no later check can tell.
  if (lossy && !args.json) process.stderr.write(`wcodec: ${printable(one.name)}: ${lossyLine(lossy)}\n`);
  printer.result(
    { ...jsonHead('decompress', one.name), output: written, kind, originalBytes: bytes, compressedBytes: containerBytes, ratio: bytes / containerBytes, seconds: secs, inputRemoved: removed, lossy, files: members.map((m) => ({ path: m.path, originalBytes: m.originalBytes, sha256: hex(m.sha256) })) },
    undefined,
  );
  printer.note(0, `${printable(one.name)}: ${members.length} file(s), ${formatBytes(bytes)} restored and verified in ${secs.toFixed(2)} s -> ${printable(written)}${removed ? ' (input removed)' : ''}`);
}

async function infoOne(args: CliArgs, printer: Printer, one: OneInput): Promise<void> {
  const cp = await openCheckpoint(one.path);
  try {
    const info = await describeContainer(cp);
    printer.result({ ...jsonHead('info', one.name), ...info }, infoText(one.name, info, args.wide));
  } finally {
    await cp.close();
  }
}

async function verifyOne(args: CliArgs, printer: Printer, reference: TensorReference | undefined, one: OneInput): Promise<void> {
  const cp = await openCheckpoint(one.path);
  const t0 = performance.now();
  let bytes: number;
  try {
    checkOutputLimit(cp.members.reduce((a, m) => a + m.originalBytes, 0), { maxOutputBytes: args.maxSize }, one.name, 'the container');
    bytes = await decodeAll(cp, args, reference, printer.bar(one.prefix));
  } finally {
    await cp.close();
  }
  const secs = (performance.now() - t0) / 1000;
  const size = cp.reader.containerBytes;
  const files = cp.reader.index.members.map((m) => ({ path: m.path, originalBytes: m.originalBytes, sha256: hex(m.sha256) }));
  const lossy = lossySummary(cp.reader.index, size);
  const ok = `${printable(one.name)}: OK — ${files.length} file(s), ${cp.tensors.length} tensors, ${formatBytes(bytes)} decoded, every CRC-32C and SHA-256 matches (${secs.toFixed(2)} s)`;
  printer.result(
    { ...jsonHead('verify', one.name), kind: cp.kind, originalBytes: bytes, compressedBytes: size, ratio: bytes / size, seconds: secs, tensorCount: cp.tensors.length, lossy, files },
    args.verbosity >= 0 ? ok + (lossy ? `\n${printable(one.name)}: ${lossyLine(lossy)}; the digests are those of the dequantized values` : '') : undefined,
  );
}

/** Exit status of an error: 1 for the environment (IoError), 2 for bad data. */
function exitCodeOf(e: WcodecError): number {
  return e instanceof IoError ? EXIT_USAGE : EXIT_DATA;
}

/** Prints an error: one line on stderr, and with --json an object on stdout. */
function reportError(args: CliArgs | undefined, e: WcodecError): void {
  if (args?.json) process.stdout.write(JSON.stringify({ ...jsonHead(args.command, e.file ?? null), ok: false, code: e.code, message: e.message, offset: e.offset ?? null }) + '\n');
  process.stderr.write(`wcodec: ${printable(e.message)}\n`);
}

/** Prints a usage error: one line on stderr pointing to the help, and with --json an object on stdout. */
function reportUsage(args: CliArgs | undefined, e: UsageError, json = args?.json === true): void {
  const help = e.command && argvNamesCommand() ? `wcodec ${e.command} --help` : 'wcodec --help';
  if (json) process.stdout.write(JSON.stringify({ ...jsonHead(e.command ?? args?.command ?? 'compress', null), ok: false, code: USAGE_CODE, message: e.message }) + '\n');
  process.stderr.write(`wcodec: ${printable(e.message)} (see '${help}')\n`);
}

/** Exit status after SIGINT and SIGTERM: 128 + the signal number, as shells report them. */
const EXIT_ON_SIGNAL: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };
/** How long an interrupted run waits for file operations in flight before removing its temporaries again. */
const SIGNAL_SETTLE_MS = 50;

/**
 * On SIGINT or SIGTERM, removes this process's temporary files and folders beside each output (cleanup.outputFolders)
 * and the copies of stdin, and exits with one line on stderr. Removal and exit are synchronous, so no decoding or
 * writing of this process runs after them; an output already moved into place is complete and stays.
 */
function cleanUpOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      const removed = new Set<string>();
      const removeOwn = (): void => {
        for (const dir of cleanup.outputFolders) {
          try {
            for (const name of readdirSync(dir)) {
              if (tempOwnerPid(name) !== process.pid) continue;
              rmSync(join(dir, name), { recursive: true, force: true });
              removed.add(join(dir, name));
            }
          } catch {
            // Best effort: what is left is removed by the next run that writes into this folder (removeStaleTemps).
          }
        }
        for (const dir of cleanup.spools) rmSync(dir, { recursive: true, force: true });
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
  const argv = process.argv.slice(2);
  try {
    // `wcodec eval` has options of its own (src/cli/eval-command.ts); the word comes first.
    if (argv[0] === 'eval') {
      process.exitCode = await (await import('./eval-command.js')).runEval(argv.slice(1));
      return;
    }
    args = parseArgs(argv);
    if (args.command === 'compress' || args.command === 'decompress') cleanUpOnSignals();
    process.exitCode = await run(args);
  } catch (e) {
    const json = args?.json ?? argv.includes('--json');
    if (e instanceof UsageError) {
      reportUsage(args, e, json);
      process.exitCode = EXIT_USAGE;
    } else if (e instanceof WcodecError) {
      reportError(args ?? undefined, e);
      process.exitCode = exitCodeOf(e);
    } else {
      process.stderr.write(`wcodec: internal error: ${(e as Error).stack ?? e}\n`);
      process.exitCode = EXIT_INTERNAL;
    }
  } finally {
    await closeSharedPools();
  }
}

await main();
