// Command-line parsing for the wcodec CLI: a command, positionals and a closed set of flags.

/** Thrown for a wrong command line (exit code 1). */
export class UsageError extends Error {}

/** Upper bound for --threads: more workers than this only add memory (each holds its chunks and tables). */
export const MAX_THREADS = 256;

/** Parsed command line. */
export interface CliArgs {
  command: string;
  positionals: string[];
  output: string | undefined;
  force: boolean;
  json: boolean;
  quiet: boolean;
  chunkBytes: number | undefined;
  /** Worker threads for chunk coding; undefined = all cores. */
  threads: number | undefined;
  /** compress: favour decode speed (raw sign and mantissa planes). */
  fastDecode: boolean;
  /** compress: an encoder profile ('gpu': 16 KiB chunks with 32 lanes, src/gpu/profile.ts; 'cpu': the huffman option). */
  profile: 'gpu' | 'cpu' | undefined;
  huffman: boolean;
  /** compress/decompress: the reference checkpoint of XOR deltas (a .safetensors file, a folder or a .wcodec). */
  ref: string | undefined;
  /** compress: no format-version-2 modes (duplicates, deltas, value transforms): a version 1 container. */
  noTransforms: boolean;
  /** decompress/verify: the largest output the container may declare, in bytes; undefined = no limit. */
  maxSize: number | undefined;
  /** compress: refuse a .safetensors input that cannot be split into tensors instead of storing it as bytes. */
  strict: boolean;
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

/** Parses argv (without node and script). @throws UsageError */
export function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { command: '', positionals: [], output: undefined, force: false, json: false, quiet: false, chunkBytes: undefined, threads: undefined, fastDecode: false, profile: undefined, huffman: false, ref: undefined, noTransforms: false, maxSize: undefined, strict: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '-o' || a === '--output') args.output = value();
    else if (a === '-f' || a === '--force') args.force = true;
    else if (a === '--json') args.json = true;
    else if (a === '-q' || a === '--quiet') args.quiet = true;
    else if (a === '--chunk-bytes') {
      const v = Number(value());
      if (!Number.isSafeInteger(v) || v < 1 || v > 1 << 27) throw new UsageError(`--chunk-bytes must be an integer from 1 to ${1 << 27}`);
      args.chunkBytes = v;
    } else if (a === '-t' || a === '--threads') {
      const v = Number(value());
      if (!Number.isSafeInteger(v) || v < 1 || v > MAX_THREADS) throw new UsageError(`--threads must be an integer from 1 to ${MAX_THREADS}`);
      args.threads = v;
    } else if (a === '--fast-decode') args.fastDecode = true;
    else if (a === '--profile') {
      const v = value();
      if (v !== 'gpu' && v !== 'cpu') throw new UsageError(`--profile must be gpu or cpu`);
      args.profile = v;
      if (v === 'cpu') args.huffman = true;
    }
    else if (a === '--huffman') args.huffman = true;
    else if (a === '--strict') args.strict = true;
    else if (a === '--ref') args.ref = value();
    else if (a === '--no-transforms') args.noTransforms = true;
    else if (a === '--max-size') args.maxSize = parseSize(value());
    else if (a === '-h' || a === '--help') args.command = 'help';
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
    else if (args.command === '') args.command = a;
    else args.positionals.push(a);
  }
  return args;
}

export const USAGE = `wcodec: lossless compression for neural-network weights

usage:
  wcodec compress <file.safetensors | model-folder> -o <out.wcodec> [-f] [--chunk-bytes N] [--threads N] [--fast-decode]
                  [--huffman] [--profile gpu|cpu] [--ref <reference>] [--no-transforms]
  wcodec decompress <in.wcodec> -o <file | folder> [-f] [--threads N] [--ref <reference>] [--max-size SIZE]
  wcodec info <in.wcodec>
  wcodec verify <in.wcodec> [--threads N] [--ref <reference>] [--max-size SIZE]

options:
  -o, --output PATH   where to write (required for compress and decompress)
  -f, --force         replace an existing output
  --json              machine-readable output on stdout
  -q, --quiet         no progress bar
  --chunk-bytes N     original bytes per chunk (default 262144)
  -t, --threads N     threads (default: all cores): N > 1 codes chunks in N - 1 workers beside this thread's
                      reading, checking and writing; the output is the same for every N
  --fast-decode       compress: code only the exponent planes of floats (faster decode, ~0.5% larger)
  --profile gpu       compress: 16 KiB chunks with 32 rANS lanes, for GPU decoding (decodeToGPU: ~1.5x the BF16
                      kernel throughput of the default chunks on an H200; ~0.9% larger; --chunk-bytes overrides)
  --huffman           compress: as --fast-decode with Huffman-coded exponents: fastest CPU decode, ~1% larger
  --profile cpu       than the default (format version 2; GPU decode of these tensors falls back to the CPU)
  --strict            compress: refuse a .safetensors file that cannot be split into tensors (default: stored
                      as plain bytes, with a warning)
  --ref PATH          compress: code tensors as XOR deltas against this checkpoint where that is smaller;
                      decompress/verify: the same reference, needed by such containers (checked by SHA-256)
                      (a .safetensors file, a model folder, or a .wcodec container)
  --no-transforms     compress: a version 1 container (no duplicate tensors, deltas or value transforms)
  --max-size SIZE     decompress/verify: refuse a container that declares more output than SIZE (e.g. 10G = 10 GiB,
                      10GB = 10^9 bytes) before decoding; default no limit (decompress always refuses an output
                      larger than the free space of its file system)

exit codes: 0 success, 1 usage error (or output exists, input unreadable or changed, no space), 2 bad or corrupt data,
            130 / 143 interrupted by SIGINT / SIGTERM (temporary files removed)`;
