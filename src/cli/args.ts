// Command-line parsing for the wcodec CLI (docs/CLI.md): zstd's conventions (`wcodec FILE...` compresses, `-d`
// decompresses, `-c`, `-` for stdin/stdout, `--`), the long forms compress/decompress/info/verify, and help texts.

import { parseArgs as parseNodeArgs } from 'node:util';
import { MAX_PRESET_BITS, MIN_PRESET_BITS, PRESET_BITS, parseLossySpec } from '../lossy/presets.js';
import { MAX_RANK } from '../format/constants.js';
import { DTYPE_BYTES } from '../transform/dtypes.js';

/** Thrown for a wrong command line (exit code 1); `command` picks the help the one-line message points to. */
export class UsageError extends Error {
  constructor(message: string, readonly command?: Command) {
    super(message);
  }
}

/** Upper bound for --threads: more workers than this only add memory (each holds its chunks and tables). */
export const MAX_THREADS = 256;

/** The commands; `compress` is the default, `-d` picks `decompress`. */
export const COMMANDS = ['compress', 'decompress', 'info', 'verify'] as const;
/** One of COMMANDS. */
export type Command = (typeof COMMANDS)[number];

/** Parsed command line. */
export interface CliArgs {
  command: Command;
  /** Print this command's help (or, without a command, the overview) and exit 0. */
  help: boolean;
  version: boolean;
  /** Inputs; '-' is standard input. */
  inputs: string[];
  /** -o; '-' is standard output; a path ending in '/' is a folder to write into. */
  output: string | undefined;
  /** -c / --stdout. */
  stdout: boolean;
  /** --rm: remove each input once its output is complete and verified. */
  removeInputs: boolean;
  force: boolean;
  json: boolean;
  /** -v count minus -q count: -2 only errors, -1 warnings and errors, 0 progress and summaries, 1 more detail. */
  verbosity: number;
  /** info --wide: every column, full names and digests. */
  wide: boolean;
  chunkBytes: number | undefined;
  /** Worker threads for chunk coding; undefined = all cores. */
  threads: number | undefined;
  /** compress: favour decode speed (raw sign and mantissa planes). */
  fastDecode: boolean;
  /** compress: code byte segments and 1-byte tensors with the byte model where smaller (format version 8). */
  byteModel: boolean;
  /** `--level`: 'default', or 'max' (format 10, the tensor model). */
  level: 'default' | 'max';
  /** compress: never the byte model (format version 4, or 5 for GGUF and ONNX inputs, as written before version 11). */
  noByteModel: boolean;
  /** compress: an encoder profile ('gpu': 16 KiB chunks with 32 lanes, src/gpu/profile.ts; 'cpu': the huffman option). */
  profile: 'gpu' | 'cpu' | undefined;
  huffman: boolean;
  /** compress/decompress/verify: the reference checkpoint of XOR deltas (a .safetensors file, a folder or a .wcodec). */
  ref: string | undefined;
  /** compress: no structure-aware modes (duplicates, deltas, value transforms). */
  noTransforms: boolean;
  /** decompress/verify: the largest output the container may declare, in bytes; undefined = no limit. */
  maxSize: number | undefined;
  /** decompress: also check each file's SHA-256 (always on in verify; on by default for containers of versions 1-3). */
  checkSha256: boolean;
  /** compress: refuse a .safetensors input that cannot be split into tensors instead of storing it as bytes. */
  strict: boolean;
  /** compress: the lossy preset (FORMAT.md §3.5.3.5; q8, q4 or bits=B, src/lossy/presets.ts); undefined = lossless. */
  lossy: string | undefined;
  /** compress --lossy: a calibration text for GPTQ (the input must be a Llama model folder); undefined = none. */
  calibrate: string | undefined;
  /** decompress: refuse a container that holds lossy tensors (LOSSY_REFUSED). */
  losslessOnly: boolean;
  /** compress: store the one input file as a raw array of this dtype (FORMAT.md §4.9, format 9); undefined = no. */
  dtype: string | undefined;
  /** compress --dtype: the raw array's shape; undefined = one dimension. */
  shape: number[] | undefined;
}

/** Multipliers of the size suffixes of --max-size: K, M, G, T, P (and KiB...) in powers of 1024, KB, MB... in powers of 1000. */
const SIZE_SUFFIXES: Record<string, number> = { '': 1, B: 1 };
['K', 'M', 'G', 'T', 'P'].forEach((p, k) => {
  SIZE_SUFFIXES[p] = SIZE_SUFFIXES[`${p}IB`] = 1024 ** (k + 1);
  SIZE_SUFFIXES[`${p}B`] = 1000 ** (k + 1);
});

/**
 * A byte count such as `10G`, `512M`, `1.5T`, `2000000000` or `10GB`.
 * @throws UsageError for anything else, or a size that is not a whole number of bytes below 2^53
 */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text.trim());
  const unit = m ? SIZE_SUFFIXES[m[2].toUpperCase()] : undefined;
  const bytes = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`--max-size takes a whole number of bytes below 2^53 with an optional suffix K, M, G, T, P (1024^n) or KB, MB, GB, TB, PB (1000^n), not '${text}'`);
  return bytes;
}

/** The options util.parseArgs knows; which command each applies to is checked after parsing (APPLIES_TO). */
const OPTIONS = {
  decompress: { type: 'boolean', short: 'd' },
  stdout: { type: 'boolean', short: 'c' },
  keep: { type: 'boolean', short: 'k' },
  rm: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  force: { type: 'boolean', short: 'f' },
  quiet: { type: 'boolean', short: 'q', multiple: true },
  verbose: { type: 'boolean', short: 'v', multiple: true },
  json: { type: 'boolean' },
  wide: { type: 'boolean' },
  version: { type: 'boolean', short: 'V' },
  help: { type: 'boolean', short: 'h' },
  threads: { type: 'string', short: 't' },
  'chunk-bytes': { type: 'string' },
  'fast-decode': { type: 'boolean' },
  'byte-model': { type: 'boolean' },
  level: { type: 'string' },
  'no-byte-model': { type: 'boolean' },
  huffman: { type: 'boolean' },
  profile: { type: 'string' },
  ref: { type: 'string' },
  'no-transforms': { type: 'boolean' },
  strict: { type: 'boolean' },
  'max-size': { type: 'string' },
  'check-sha256': { type: 'boolean' },
  lossy: { type: 'string' },
  calibrate: { type: 'string' },
  'lossless-only': { type: 'boolean' },
  dtype: { type: 'string' },
  shape: { type: 'string' },
} as const;

/** Options that only some commands take (the rest apply to every command). */
const APPLIES_TO: Partial<Record<keyof typeof OPTIONS, readonly Command[]>> = {
  stdout: ['compress', 'decompress'],
  keep: ['compress', 'decompress'],
  rm: ['compress', 'decompress'],
  output: ['compress', 'decompress'],
  force: ['compress', 'decompress'],
  wide: ['info'],
  threads: ['compress', 'decompress', 'verify'],
  'chunk-bytes': ['compress'],
  'fast-decode': ['compress'],
  'byte-model': ['compress'],
  level: ['compress'],
  'no-byte-model': ['compress'],
  huffman: ['compress'],
  profile: ['compress'],
  ref: ['compress', 'decompress', 'verify'],
  'no-transforms': ['compress'],
  strict: ['compress'],
  'max-size': ['decompress', 'verify'],
  'check-sha256': ['decompress'],
  lossy: ['compress'],
  calibrate: ['compress'],
  'lossless-only': ['decompress'],
  dtype: ['compress'],
  shape: ['compress'],
};

/** `--name` as the user would recognise it, with its short form. */
function optionName(name: keyof typeof OPTIONS): string {
  const short = (OPTIONS[name] as { short?: string }).short;
  return short ? `-${short}/--${name}` : `--${name}`;
}

/** A readable list of commands: "compress", "compress and decompress", "a, b and c". */
function listOf(commands: readonly string[]): string {
  return commands.length === 1 ? commands[0] : `${commands.slice(0, -1).join(', ')} and ${commands[commands.length - 1]}`;
}

/** Turns util.parseArgs's messages into one line that names the option. */
function usageFromParseError(e: Error & { code?: string }, command: Command | undefined): UsageError {
  const quoted = /'([^']+)'/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new UsageError(`unknown option '${quoted ?? '?'}'`, command);
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // "Option '-o, --output <value>' argument missing" or "... argument is ambiguous" (a value that starts with '-').
    const name = quoted?.replace(/ <value>$/, '') ?? 'an option';
    if (/ambiguous/.test(e.message)) {
      const flag = /forget to specify the option argument for '([^']+)'/.exec(e.message)?.[1] ?? name;
      return new UsageError(`${flag} needs a value, not an option (a value starting with '-' is written ${flag.startsWith('--') ? `${flag}=VALUE` : `--long-form=VALUE`})`, command);
    }
    if (/argument missing/.test(e.message)) return new UsageError(`${name} needs a value`, command);
    return new UsageError(`${name} takes no value`, command);
  }
  return new UsageError(e.message.split('\n')[0], command);
}

/** Parses argv (without node and script). @throws UsageError */
export function parseArgs(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseNodeArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    const guess = argv.find((a) => (COMMANDS as readonly string[]).includes(a)) as Command | undefined;
    throw usageFromParseError(e as Error & { code?: string }, guess);
  }
  // The command, when given, is the first positional argument before any '--'.
  const firstToken = parsed.tokens.find((t) => t.kind === 'positional' || t.kind === 'option-terminator');
  const named = firstToken?.kind === 'positional' && (COMMANDS as readonly string[]).includes(firstToken.value) ? (firstToken.value as Command) : undefined;
  if (named) parsed.positionals.shift();
  const v = parsed.values;
  if (v.decompress && named !== undefined && named !== 'decompress') throw new UsageError(`-d/--decompress and the command ${named} contradict each other`, named);
  const command: Command = named ?? (v.decompress ? 'decompress' : 'compress');
  const args: CliArgs = {
    command,
    help: v.help === true,
    version: v.version === true,
    inputs: parsed.positionals,
    output: v.output,
    stdout: v.stdout === true,
    removeInputs: v.rm === true,
    force: v.force === true,
    json: v.json === true,
    verbosity: (v.verbose?.length ?? 0) - (v.quiet?.length ?? 0),
    wide: v.wide === true,
    chunkBytes: undefined,
    threads: undefined,
    fastDecode: v['fast-decode'] === true,
    byteModel: v['byte-model'] === true,
    level: 'default',
    noByteModel: v['no-byte-model'] === true,
    profile: undefined,
    huffman: v.huffman === true,
    ref: v.ref,
    noTransforms: v['no-transforms'] === true,
    maxSize: undefined,
    checkSha256: v['check-sha256'] === true,
    strict: v.strict === true,
    lossy: v.lossy,
    calibrate: v.calibrate,
    losslessOnly: v['lossless-only'] === true,
    dtype: undefined,
    shape: undefined,
  };
  if (args.help || args.version) return args;
  for (const [name, commands] of Object.entries(APPLIES_TO) as [keyof typeof OPTIONS, Command[]][]) {
    if (v[name] !== undefined && !commands.includes(command)) throw new UsageError(`${optionName(name)} applies to ${listOf(commands)}, not ${command}`, command);
  }
  if (v.keep && v.rm) throw new UsageError('-k/--keep and --rm contradict each other', command);
  if (v['byte-model'] === true && v['no-byte-model'] === true) throw new UsageError('--byte-model and --no-byte-model contradict each other', command);
  if (v['chunk-bytes'] !== undefined) {
    const n = Number(v['chunk-bytes']);
    if (!Number.isSafeInteger(n) || n < 1 || n > 1 << 27) throw new UsageError(`--chunk-bytes must be an integer from 1 to ${1 << 27}`, command);
    args.chunkBytes = n;
  }
  if (v.threads !== undefined) {
    const n = Number(v.threads);
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_THREADS) throw new UsageError(`--threads must be an integer from 1 to ${MAX_THREADS}`, command);
    args.threads = n;
  }
  if (v.level !== undefined) {
    if (v.level !== 'default' && v.level !== 'max') throw new UsageError(`--level must be default or max, not '${v.level}'`, command);
    if (v.level === 'max' && (v['byte-model'] || v['fast-decode'] || v.huffman || v.profile !== undefined)) {
      throw new UsageError('--level max goes with none of --byte-model, --fast-decode, --huffman and --profile', command);
    }
    args.level = v.level;
  }
  if (v.profile !== undefined) {
    if (v.profile !== 'gpu' && v.profile !== 'cpu') throw new UsageError(`--profile must be gpu or cpu, not '${v.profile}'`, command);
    args.profile = v.profile;
    if (v.profile === 'cpu') args.huffman = true;
  }
  if (v.lossy !== undefined) {
    let mixed = false;
    try {
      mixed = parseLossySpec(v.lossy).mixed;
    } catch (e) {
      const named = Object.entries(PRESET_BITS).map(([name, bits]) => `${name} (${bits} bits per weight)`).join(', ');
      throw new UsageError(
        `--lossy takes a preset: ${named}, bits=B (B bits per weight, ${MIN_PRESET_BITS} to ${MAX_PRESET_BITS}), fp8 or fp8-e5m2, each optionally followed by +2:4 or +N% (pruning) and, for the integer ones, +mixed or +uniform; not '${v.lossy}' (${(e as Error).message})`,
        command,
      );
    }
    if (mixed && v.calibrate === undefined) throw new UsageError(`--lossy ${v.lossy} measures each tensor's sensitivity on the --calibrate text: give one`, command);
  }
  if (v.calibrate !== undefined && v.lossy === undefined) throw new UsageError('--calibrate goes with --lossy', command);
  if (v.dtype !== undefined) {
    const dtype = v.dtype.toUpperCase();
    if (!Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype)) throw new UsageError(`--dtype must be one of ${Object.keys(DTYPE_BYTES).join(', ')}, not '${v.dtype}'`, command);
    args.dtype = dtype;
  }
  if (v.shape !== undefined) {
    if (v.dtype === undefined) throw new UsageError('--shape goes with --dtype', command);
    const dims = v.shape.trim() === '' ? [] : v.shape.split(/[,x]/).map((d) => (/^\s*\d+\s*$/.test(d) ? Number(d) : NaN));
    if (dims.length > MAX_RANK || !dims.every((d) => Number.isSafeInteger(d))) throw new UsageError(`--shape takes up to ${MAX_RANK} non-negative integers separated by commas (4096,64; '' for a scalar), not '${v.shape}'`, command);
    args.shape = dims;
  }
  if (args.dtype !== undefined && parsed.positionals.length > 1) throw new UsageError('--dtype describes one input file; give one', command);
  if (v['max-size'] !== undefined) {
    try {
      args.maxSize = parseSize(v['max-size']);
    } catch (e) {
      throw new UsageError((e as Error).message, command);
    }
  }
  return args;
}

/** The overview `wcodec --help` prints (at most 80 columns). */
export const USAGE = `wcodec: lossless compression for neural-network weights (safetensors files
and Hugging Face model folders); every file comes back bit for bit.

usage: wcodec [OPTIONS] FILE...         compress each file or folder
       wcodec -d [OPTIONS] FILE...      decompress each .wcodec file
       wcodec info [--wide] FILE...     show format, files, tensors, digests
       wcodec verify FILE...            decode everything, check, write nothing
       wcodec eval MODEL --text FILE    loss and perplexity of a Llama model

The long forms 'wcodec compress' and 'wcodec decompress' work as well.
'wcodec COMMAND --help' lists each command's options.

  -d, --decompress   decompress
  -o, --output PATH  the output; 'PATH/' (ending in /) writes into that folder
  -c, --stdout       write to standard output ('-o -' too); a FILE '-' is stdin
  -k, --keep         keep the inputs (the default)
      --rm           remove each input once its output is complete and verified
  -f, --force        replace an existing output
  -q, --quiet        no progress bar or summary; -qq: no warnings either
  -v, --verbose      a line per file of a folder
      --json         one JSON object per input on stdout (docs/CLI.md)
  -t, --threads N    threads (default: all cores); any N gives the same output
  -V, --version      the version, and the container format versions it reads
  -h, --help         this text
      --             the arguments after it are files, even if they start with -

Output names: x.safetensors -> x.safetensors.wcodec, folder m/ -> m.wcodec;
decompressing strips .wcodec. Inputs are kept unless --rm is given.

Exit codes: 0 success; 1 usage error, or the environment refused (output exists,
input unreadable or changed, no space); 2 bad or corrupt data; 130/143
interrupted by SIGINT/SIGTERM (temporary files removed).`;

/** Each command's help (at most 80 columns). */
export const COMMAND_HELP: Record<Command, string> = {
  compress: `usage: wcodec [compress] [OPTIONS] FILE...

Compresses each FILE (a .safetensors file, any other file, or a model folder)
into one .wcodec container beside it: x.safetensors -> x.safetensors.wcodec,
m/ -> m.wcodec. '-' reads standard input and writes standard output.

  -o, --output PATH    the container (one input); 'DIR/' writes into DIR
  -c, --stdout         write the container to standard output (one input)
  -f, --force          replace an existing output file
      --rm             remove each input once its container is written and
                       verified by decoding it; -k/--keep keeps them (default)
  -t, --threads N      threads (default: all cores): N - 1 workers code chunks
                       while this thread reads, checks and writes; the container
                       is the same for every N
      --chunk-bytes N  original bytes per chunk (default 262144)
      --fast-decode    code only the exponent planes of floats (faster decode,
                       about 0.5% larger)
      --huffman        as --fast-decode, with Huffman-coded exponents: fastest
      --level max      the smallest container: tensors coded with the context-
                       mixing tensor model, other bytes with the byte model,
                       where smaller (format 10); encodes and decodes at ~2 MB/s
                       per thread. --level default: the default coding
      --byte-model     format 11 even where the byte model is used nowhere,
                       and the byte model tried on byte segments up to 64 MiB
                       and 1-byte tensors up to 16 MiB (by default the bytes
                       that are not float planes: headers, tokenizers,
                       configs, metadata, 1-byte tensors, are coded with the
                       context-mixing byte model where smaller, segments up
                       to 2 MiB and tensors up to 1 MiB, 8 MiB in all; decoded
                       at ~1-2 MB/s; only such containers are format 11)
      --no-byte-model  never the byte model: format 4 (5 for GGUF and ONNX), as
                       read by wcodec before version 11
      --profile cpu    CPU decode, about 1% larger (GPU decode of these tensors
                       falls back to the CPU)
      --profile gpu    16 KiB chunks with 32 rANS lanes for GPU decoding (about
                       1.5x the kernel throughput, 0.9% larger)
      --ref PATH       code tensors as XOR deltas against this checkpoint (a
                       .safetensors file, a folder or a .wcodec) where smaller;
                       decompressing then needs the same reference
      --no-transforms  no duplicate tensors, deltas or value transforms
      --strict         refuse a .safetensors file the safetensors library would
                       not load, or a .gguf/.onnx/.npy file that cannot be split
                       into tensors (default: stored as plain bytes, with a
                       warning)
      --lossy PRESET   LOSSY: store float tensors of rank >= 2 as integer codes
                       (one step per tensor, entropy-coded) and a scale per
                       row: q8 (6.4 bits per weight), q4 (4.4), bits=B; or as
                       FP8 codes: fp8 (E4M3), fp8-e5m2. Add +2:4 or +N% to
                       prune (q4+2:4, q8+30%). With --calibrate, q8, q4 and
                       bits=B get bits per tensor by measured sensitivity
                       (+mixed; +uniform: one budget). 1-D tensors and tensors
                       holding NaN or infinity stay exact. Decompressing gives
                       the dequantized values (format 6; 7 for fp8 and 2:4)
      --calibrate TEXT with --lossy on a Llama model folder: GPTQ, each layer's
                       error fed back through the inputs it sees on TEXT
      --dtype DTYPE    store the one input file (a .bin, say) as a raw array of
                       DTYPE (F32, F16, BF16, F64, I8 ... U64, BOOL): one
                       tensor, restored byte for byte (format 9); its size must
                       be a whole number of values (.npy files need no option)
      --shape D0,D1..  with --dtype: the array's shape (default: one dimension)
  -q, -qq, -v, --json  as in 'wcodec --help'

A .wcodec input is compressed too, with a warning: it will not get smaller.`,
  decompress: `usage: wcodec -d [OPTIONS] FILE...
       wcodec decompress [OPTIONS] FILE...

Restores the file or folder each container holds, checking every chunk (its
digest, or the CRC-32C of containers before version 4) and, for those, each
file's SHA-256, before the output appears under its name:
x.safetensors.wcodec -> x.safetensors, m.wcodec -> m/, beside the container.
'-' reads standard input (spooled to a temporary file: the index is at the end
of a container).

  -o, --output PATH    the output (one input); 'DIR/' writes a file into DIR, or
                       a folder's files into DIR itself (several inputs: DIR/m/)
  -c, --stdout         write the file to standard output (a one-file container;
                       a failed check then ends the run with exit 2 after part
                       of the output)
  -f, --force          replace an existing output; an output folder is replaced
                       only when it holds nothing but the container's own files
      --rm             remove each container once its output is complete
      --check-sha256   also check each file's SHA-256 (the digest sha256sum
                       prints; version 4 chunk digests are always checked)
  -t, --threads N      threads (default: all cores)
      --ref PATH       the reference of a delta container (see 'wcodec info')
      --max-size SIZE  refuse a container that declares more output than SIZE
                       (10G = 10 GiB, 10GB = 10^9 bytes) before decoding; an
                       output larger than the free space is always refused
      --lossless-only  refuse a container that holds lossy tensors (compress
                       --lossy) before writing anything (exit 1, LOSSY_REFUSED)
  -q, -qq, -v, --json  as in 'wcodec --help'`,
  info: `usage: wcodec info [--wide] [--json] FILE...

Shows a container's format version, chunk size, sizes, the SHA-256 of each
file, the reference a delta container needs, and a table of its tensors with a
legend of the plane codes. Fits 100 columns; --wide shows every column, full
names and each tensor's SHA-256. --json prints all of it (docs/CLI.md).`,
  verify: `usage: wcodec verify [OPTIONS] FILE...

Decodes every tensor and file of each container and checks every chunk digest
or CRC-32C and every SHA-256, writing nothing.

  -t, --threads N      threads (default: all cores)
      --ref PATH       the reference of a delta container
      --max-size SIZE  refuse a container that declares more output than SIZE
  -q, --json           as in 'wcodec --help'`,
};
