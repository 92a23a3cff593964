// One compressFile or decompressFile call in a fresh process, with a thread count and the smallest job that gets a
// worker pool (the command line's default is 64 MiB, so a small job runs on one thread): bench/small-jobs.ts times
// it with one thread and with a worker (two threads, a pool from 0 bytes) in the same rounds, to show what starting a
// worker costs or saves on a small job. Usage: node dist/bench/small-job-api.js compress|decompress INPUT OUTPUT
// THREADS MIN_POOL_BYTES

import { compressFile, decompressFile } from '../src/node/file-api.js';
import { closeSharedPools } from '../src/workers/pool.js';

const [command, input, output, threadsArg, minPoolArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const minPoolBytes = Number(minPoolArg);
if ((command !== 'compress' && command !== 'decompress') || !input || !output || !Number.isSafeInteger(threads) || !Number.isSafeInteger(minPoolBytes)) {
  throw new Error('usage: small-job-api compress|decompress INPUT OUTPUT THREADS MIN_POOL_BYTES');
}
const options = { threads, minPoolBytes, overwrite: true };
if (command === 'compress') await compressFile(input, output, options);
else await decompressFile(input, output, options);
await closeSharedPools();
