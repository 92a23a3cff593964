// A seeded generator of SYNTHETIC particle-physics-like event records, written as columnar `.npy` files (one array per
// field over all particles, and per-event offsets, as columnar event formats store jagged data). Every value is drawn
// from the documented distributions below; nothing is measured. Used by bench/float-arrays.ts.
// Usage: node dist/tools/synthetic-events.js [OUT_DIR] [EVENTS] [SEED]   (default bench/out/synthetic-events, 40000, 1)
//
// Per event:
//   particles  n ~ Poisson(MEAN_PARTICLES = 25), at least 1
//   n_vertices ~ Poisson(MEAN_VERTICES = 30) (pile-up), and primary vertex z ~ Normal(0, 45 mm), float32
// Per particle:
//   species    pi+- 70 %, K+- 15 %, p 10 %, e 3 %, mu 2 %  (PDG id, int32, signed by the charge)
//   charge     +1 or -1 with equal odds (int8)
//   pt [GeV]   power law dN/dpt ~ pt^-4 above PT_MIN = 0.5 GeV (inverse-CDF sampling), float32
//   eta        Normal(0, 2.0) truncated to |eta| < 5 (redrawn outside), float32
//   phi        uniform in [-pi, pi), float32
//   mass [GeV] the species' mass (PDG) times (1 + Normal(0, 0.01)): a reconstructed mass near the known value, float32
//   energy [GeV] sqrt((pt cosh eta)^2 + mass^2), float32 (derived: E of the four-vector above)

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from './seeded-rng.js';
import { buildNpy } from './npy-file.js';
import { sha256Hex } from './npm-package-files.js';

export const MEAN_PARTICLES = 25;
export const MEAN_VERTICES = 30;
export const PT_MIN_GEV = 0.5;
/** Exponent of the falling pt spectrum dN/dpt ~ pt^-PT_POWER. */
export const PT_POWER = 4;
export const ETA_SIGMA = 2.0;
export const ETA_MAX = 5;
export const VERTEX_Z_SIGMA_MM = 45;
export const MASS_RESOLUTION = 0.01;

/** Species: PDG id, mass in GeV (PDG), share of particles. */
export const SPECIES: readonly { pdg: number; mass: number; share: number }[] = [
  { pdg: 211, mass: 0.13957039, share: 0.7 },
  { pdg: 321, mass: 0.493677, share: 0.15 },
  { pdg: 2212, mass: 0.93827208, share: 0.1 },
  { pdg: 11, mass: 0.00051099895, share: 0.03 },
  { pdg: 13, mass: 0.1056583755, share: 0.02 },
];

/** A Poisson draw of mean `mean` (Knuth's product of uniforms; means here are small). */
function poisson(rng: Rng, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rng.float(); p > limit; p *= rng.float()) k++;
  return k;
}

/** The columns of `events` synthetic events, by name. */
export interface SyntheticEvents {
  /** Particle columns (length: total particles) and event columns (length: events; offsets: events + 1). */
  columns: Record<string, { descr: string; data: Float32Array | Int32Array | Int8Array | BigInt64Array }>;
  particles: number;
}

/** Generates `events` events from `seed`: the same arguments give the same values on every machine. */
export function generateEvents(events: number, seed: number): SyntheticEvents {
  const rng = new Rng(seed);
  const counts = new Int32Array(events);
  const vertices = new Int32Array(events);
  const vertexZ = new Float32Array(events);
  let total = 0;
  for (let e = 0; e < events; e++) {
    counts[e] = Math.max(1, poisson(rng, MEAN_PARTICLES));
    vertices[e] = poisson(rng, MEAN_VERTICES);
    vertexZ[e] = rng.gaussian() * VERTEX_Z_SIGMA_MM;
    total += counts[e];
  }
  const offsets = new BigInt64Array(events + 1);
  const pt = new Float32Array(total);
  const eta = new Float32Array(total);
  const phi = new Float32Array(total);
  const mass = new Float32Array(total);
  const energy = new Float32Array(total);
  const charge = new Int8Array(total);
  const pdg = new Int32Array(total);
  let i = 0;
  for (let e = 0; e < events; e++) {
    offsets[e] = BigInt(i);
    for (let k = 0; k < counts[e]; k++, i++) {
      let u = rng.float();
      let s = SPECIES[SPECIES.length - 1];
      for (const sp of SPECIES) {
        if (u < sp.share) {
          s = sp;
          break;
        }
        u -= sp.share;
      }
      charge[i] = rng.int(2) === 0 ? -1 : 1;
      pdg[i] = charge[i] * s.pdg;
      // Inverse CDF of pt^-PT_POWER above PT_MIN: pt = PT_MIN (1 - u)^(-1 / (PT_POWER - 1)).
      pt[i] = PT_MIN_GEV * Math.pow(1 - rng.float(), -1 / (PT_POWER - 1));
      let h: number;
      do h = rng.gaussian() * ETA_SIGMA;
      while (Math.abs(h) >= ETA_MAX);
      eta[i] = h;
      phi[i] = Math.PI * (2 * rng.float() - 1);
      mass[i] = s.mass * (1 + MASS_RESOLUTION * rng.gaussian());
      energy[i] = Math.hypot(pt[i] * Math.cosh(eta[i]), mass[i]);
    }
  }
  offsets[events] = BigInt(i);
  return {
    particles: total,
    columns: {
      pt: { descr: '<f4', data: pt },
      eta: { descr: '<f4', data: eta },
      phi: { descr: '<f4', data: phi },
      mass: { descr: '<f4', data: mass },
      energy: { descr: '<f4', data: energy },
      charge: { descr: '|i1', data: charge },
      pdg_id: { descr: '<i4', data: pdg },
      event_offsets: { descr: '<i8', data: offsets },
      event_n_vertices: { descr: '<i4', data: vertices },
      event_vertex_z: { descr: '<f4', data: vertexZ },
    },
  };
}

export const DEFAULT_EVENTS_DIR = 'bench/out/synthetic-events';

/**
 * Writes each column of `generateEvents(events, seed)` as `synthetic-<column>.npy` under `dir`, and `manifest.json`
 * (marked synthetic, with the distributions, the seed and each file's SHA-256).
 * @returns the manifest's files
 */
export function writeEvents(dir: string, events = 40000, seed = 1): { file: string; column: string; descr: string; shape: number[]; sha256: string }[] {
  mkdirSync(dir, { recursive: true });
  const { columns, particles } = generateEvents(events, seed);
  const files = [];
  for (const [column, { descr, data }] of Object.entries(columns)) {
    const file = `synthetic-${column}.npy`;
    const npy = buildNpy({ descr, shape: [data.length], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    writeFileSync(join(dir, file), npy);
    files.push({ file, column, descr, shape: [data.length], sha256: sha256Hex(npy) });
  }
  const manifest = {
    synthetic: true,
    description: 'SYNTHETIC particle-physics-like event records from tools/synthetic-events.ts: drawn from the distributions documented there, not measured',
    generator: 'tools/synthetic-events.ts',
    seed,
    events,
    particles,
    distributions: { MEAN_PARTICLES, MEAN_VERTICES, PT_MIN_GEV, PT_POWER, ETA_SIGMA, ETA_MAX, VERTEX_Z_SIGMA_MM, MASS_RESOLUTION, SPECIES },
    files,
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return files;
}

if (process.argv[1]?.endsWith('synthetic-events.js')) {
  const [dir = DEFAULT_EVENTS_DIR, events = '40000', seed = '1'] = process.argv.slice(2);
  for (const f of writeEvents(dir, Number(events), Number(seed))) console.log(`${f.file}  ${f.descr} [${f.shape}]  ${f.sha256.slice(0, 16)}  (synthetic)`);
}
