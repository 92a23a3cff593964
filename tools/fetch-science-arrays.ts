// Fetches real scientific float arrays that Debian packages ship, and extracts them to `.npy` files (little-endian,
// C order) for bench/float-arrays.ts: climate and ocean climatologies and topography in NetCDF classic files (NOAA PMEL's
// Ferret datasets), solar images and X-ray flux series in FITS files (SunPy's test data: RHESSI, SDO/AIA, SOHO/EIT,
// GOES), and matplotlib's sample data (a topography/bathymetry grid, a membrane potential and an EEG recording).
// Each package is pinned by the SHA-256 of its .deb, each source file by its own SHA-256; the manifest written beside
// the arrays records, for every array, its source, variable, dtype, shape and SHA-256.
// Usage: node dist/tools/fetch-science-arrays.js [OUT_DIR]   (default bench/out/science, git-ignored; needs apt-get
// download and dpkg-deb, and the package lists of Debian 12 from `apt-get update`)

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sha256Hex } from './npm-package-files.js';
import { readNetcdfHeader, readNetcdfVariable, NC_DOUBLE, NC_FLOAT } from './netcdf-classic.js';
import { readFitsArrays } from './fits-file.js';
import { readZipEntries } from './zip-entries.js';
import { buildNpy } from './npy-file.js';

/** A Debian package pinned by version and the SHA-256 of its .deb. */
interface DebianPackage {
  pkg: string;
  version: string;
  licence: string;
  debSha256: string;
}

/** How a source file holds its arrays. */
type SourceKind = { kind: 'netcdf' } | { kind: 'fits' } | { kind: 'npz' } | { kind: 'raw'; descr: '<f4' | '<f8'; shape: number[] };

/** A file inside a pinned package, and what it is. */
interface SourceFile {
  /** Prefix of the arrays' names (and their folder under the output). */
  name: string;
  from: DebianPackage;
  path: string;
  sha256: string;
  what: string;
  source: SourceKind;
}

const FERRET: DebianPackage = { pkg: 'ferret-datasets', version: '7.6.0-5', licence: 'Ferret License Agreement (public domain, NOAA PMEL)', debSha256: 'e5770222647ebfe2ab77b845e07a7e05cb6fed7b12dec9ae287a1f8046031744' };
const SUNPY: DebianPackage = { pkg: 'python3-sunpy', version: '4.1.2-1+deb12u1', licence: 'BSD-2-Clause (SunPy); the observations are NASA/NOAA data', debSha256: 'd1ca205e45def83653f4991290f1ab26c4749c41064e11539fc45a2f08678591' };
const MPL: DebianPackage = { pkg: 'python-matplotlib-data', version: '3.6.3-1', licence: 'Matplotlib licence (PSF-based)', debSha256: 'e4150fcebd35ea11e0f66268da97ce62f98a4cf530c944f755f241da1a9158f9' };

const FERRET_DIR = 'usr/share/ferret-vis/data';
const SUNPY_DIR = 'usr/lib/python3/dist-packages/sunpy/data/test';
const MPL_DIR = 'usr/share/matplotlib/mpl-data/sample_data';

/** Every source file extracted, in the order the arrays are listed. */
export const SCIENCE_SOURCES: readonly SourceFile[] = [
  { name: 'coads_climatology', from: FERRET, path: `${FERRET_DIR}/coads_climatology.cdf`, sha256: 'b94f55034d13d63f33e2153afddc0c5e00347076c35ab3e34937aec38ce9c4c1', what: 'COADS monthly climatology: sea surface and air temperature, winds, humidity (2-degree grid)', source: { kind: 'netcdf' } },
  { name: 'levitus_climatology', from: FERRET, path: `${FERRET_DIR}/levitus_climatology.cdf`, sha256: '6cf0c43e2b5b790a25547eb90194c0468ab508a40636c1e67b42e892c3b7596b', what: 'Levitus ocean climatology: temperature and salinity by depth', source: { kind: 'netcdf' } },
  { name: 'monthly_navy_winds', from: FERRET, path: `${FERRET_DIR}/monthly_navy_winds.cdf`, sha256: '225a9e4fed7bb1a7b558afb662abbe2dc5e3d3db4100fa019cb994f10b115faa', what: 'FNOC monthly surface wind components', source: { kind: 'netcdf' } },
  { name: 'esku_heat_budget', from: FERRET, path: `${FERRET_DIR}/esku_heat_budget.cdf`, sha256: '42e9a5d26ba36a7ef92d381ac12fdf30c74883ea7fde6830ba4899df2dc75600', what: 'Esbensen-Kushnir ocean surface heat budget climatology', source: { kind: 'netcdf' } },
  { name: 'ocean_atlas_subset', from: FERRET, path: `${FERRET_DIR}/ocean_atlas_subset.nc`, sha256: '598e82c3689272fdd1eff7a9e9d5706f4c08b5841dc028fbbc5c49374c81c8ff', what: 'World ocean atlas subset: temperature, salinity, oxygen by depth', source: { kind: 'netcdf' } },
  { name: 'etopo20', from: FERRET, path: `${FERRET_DIR}/etopo20.cdf`, sha256: 'ba27cb2fa5f2f2b2c76e5a576f0a291fd11ebb3da99ed9b466150c0a064a1db4', what: 'ETOPO relief (land and sea floor) on a 20-minute grid', source: { kind: 'netcdf' } },
  { name: 'goes15_xrs', from: SUNPY, path: `${SUNPY_DIR}/go1520110607.fits`, sha256: '6841b305861e79ccbec8008795a58c8551e80b2d7a5af99a66ae1fbe25d89689', what: 'GOES-15 X-ray sensor flux, 2011-06-07 (binary table)', source: { kind: 'fits' } },
  { name: 'rhessi_image', from: SUNPY, path: `${SUNPY_DIR}/hsi_image_20101016_191218.fits`, sha256: 'a42fd28e44ff055e88e0c4eb5ea5189eae5daa6c0dd008b1484242b4bd183f59', what: 'RHESSI X-ray image, 2010-10-16', source: { kind: 'fits' } },
  { name: 'aia_171', from: SUNPY, path: `${SUNPY_DIR}/aia_171_level1.fits`, sha256: '71d7f9f56908bd22d5dcac015884117c57c45f30951131bf4abdc06c55cb0280', what: 'SDO/AIA 171 A image, level 1, resampled to 128x128', source: { kind: 'fits' } },
  { name: 'eit_195_a', from: SUNPY, path: `${SUNPY_DIR}/EIT/efz20040301.000010_s.fits`, sha256: 'b1e0f0f93ffaa43e342a92702c240f5d93d96fba55617cdfc6a1de083c29a727', what: 'SOHO/EIT image, 2004-03-01 00:00', source: { kind: 'fits' } },
  { name: 'eit_195_b', from: SUNPY, path: `${SUNPY_DIR}/EIT/efz20040301.010016_s.fits`, sha256: '2b1f1f45cf3bcc9f69642bf7d4aa3e790e0042eb517dd9597484b88029e5e297', what: 'SOHO/EIT image, 2004-03-01 01:00', source: { kind: 'fits' } },
  { name: 'eve_esp', from: SUNPY, path: `${SUNPY_DIR}/eve_l1_esp_2011046_00_truncated.fits`, sha256: '015a335a26d8d5a8d22b5acca43870328f60759d9155751fef640594fc5f0491', what: 'SDO/EVE ESP level 1 irradiance, 2011-02-15 (truncated, binary table)', source: { kind: 'fits' } },
  { name: 'topobathy', from: MPL, path: `${MPL_DIR}/topobathy.npz`, sha256: '0244e03291702df45024dcb5cacbc4f3d4cb30d72dfa7fd371c4ac61c42b4fbf', what: 'topography and bathymetry grid with its coordinates', source: { kind: 'npz' } },
  { name: 'membrane', from: MPL, path: `${MPL_DIR}/membrane.dat`, sha256: 'ab795b429201a5bb575c6370d5e17090dfcfc317431aa9382f8e881366f43357', what: 'membrane potential recording (float32 samples)', source: { kind: 'raw', descr: '<f4', shape: [12000] } },
  { name: 'eeg', from: MPL, path: `${MPL_DIR}/eeg.dat`, sha256: '28656316df0004acfba7a5d98ab35f7314933a918636ec80f09604ad128b4417', what: 'EEG recording, 800 samples of 4 channels (float64)', source: { kind: 'raw', descr: '<f8', shape: [800, 4] } },
];

/** Arrays smaller than this (coordinates, scalars) are left out: they say nothing about a codec. */
export const MIN_ARRAY_VALUES = 1024;

export const DEFAULT_SCIENCE_DIR = 'bench/out/science';

/** One extracted array, as the manifest lists it. */
export interface ScienceArray {
  /** Path of the .npy file under the output folder. */
  file: string;
  source: string;
  package: string;
  version: string;
  licence: string;
  path: string;
  variable: string;
  what: string;
  dtype: 'F32' | 'F64';
  shape: number[];
  /** SHA-256 of the .npy file. */
  sha256: string;
}

/** The float arrays of one source file, as (variable, descr, shape, little-endian bytes). */
function arraysOf(s: SourceFile, bytes: Uint8Array): { variable: string; descr: '<f4' | '<f8'; shape: number[]; data: Uint8Array }[] {
  switch (s.source.kind) {
    case 'netcdf': {
      const header = readNetcdfHeader(bytes);
      return header.variables
        .filter((v) => v.type === NC_FLOAT || v.type === NC_DOUBLE)
        .map((v) => ({ variable: v.name, descr: v.type === NC_FLOAT ? ('<f4' as const) : ('<f8' as const), shape: v.shape, data: readNetcdfVariable(bytes, header, v) }));
    }
    case 'fits':
      return readFitsArrays(bytes).map((a) => ({ variable: a.name, descr: a.dtype === 'F32' ? '<f4' : '<f8', shape: a.shape, data: a.data }));
    case 'npz': {
      const out = [];
      for (const [name, npy] of readZipEntries(bytes)) {
        const m = /'descr': '(<f[48])'.*'fortran_order': False.*'shape': \(([0-9, ]*)\)/.exec(new TextDecoder().decode(npy.subarray(0, 256)));
        if (!m) continue;
        const headerEnd = (npy[8] | (npy[9] << 8)) + 10;
        const shape = m[2].split(',').map((d) => d.trim()).filter((d) => d !== '').map(Number);
        out.push({ variable: name.replace(/\.npy$/, ''), descr: m[1] as '<f4' | '<f8', shape, data: npy.subarray(headerEnd) });
      }
      return out;
    }
    case 'raw':
      return [{ variable: s.name, descr: s.source.descr, shape: s.source.shape, data: bytes }];
  }
}

/**
 * Downloads each package (apt-get download of the pinned version), checks its SHA-256 and that of each source file,
 * and writes every float array of at least MIN_ARRAY_VALUES values as `<source>/<variable>.npy` under `dir`, with
 * `manifest.json`. Packages whose files are all present with their pinned digests are not downloaded again.
 * @returns the manifest
 */
export function fetchScienceArrays(dir: string): ScienceArray[] {
  mkdirSync(dir, { recursive: true });
  const cache = join(dir, 'sources');
  mkdirSync(cache, { recursive: true });
  const cached = (s: SourceFile): string => join(cache, s.from.pkg, s.path.split('/').pop()!);
  const tmp = mkdtempSync(join(tmpdir(), 'wcodec-science-'));
  try {
    for (const p of [FERRET, SUNPY, MPL]) {
      const sources = SCIENCE_SOURCES.filter((s) => s.from === p);
      if (sources.every((s) => existsSync(cached(s)) && sha256Hex(readFileSync(cached(s))) === s.sha256)) continue;
      const into = join(tmp, p.pkg);
      mkdirSync(into);
      execFileSync('apt-get', ['download', `${p.pkg}=${p.version}`], { cwd: into, stdio: ['ignore', 'ignore', 'inherit'] });
      const deb = readdirSync(into).find((f) => f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download ${p.pkg}=${p.version} wrote no .deb`);
      const got = sha256Hex(readFileSync(join(into, deb)));
      if (got !== p.debSha256) throw new Error(`${deb}: SHA-256 ${got}, expected ${p.debSha256}`);
      execFileSync('dpkg-deb', ['-x', join(into, deb), join(into, 'x')]);
      for (const s of sources) {
        const bytes = readFileSync(join(into, 'x', s.path));
        if (sha256Hex(bytes) !== s.sha256) throw new Error(`${p.pkg} ${s.path}: SHA-256 ${sha256Hex(bytes)}, expected ${s.sha256}`);
        mkdirSync(dirname(cached(s)), { recursive: true });
        writeFileSync(cached(s), bytes);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const manifest: ScienceArray[] = [];
  for (const s of SCIENCE_SOURCES) {
    for (const a of arraysOf(s, new Uint8Array(readFileSync(cached(s))))) {
      if (a.shape.reduce((x, d) => x * d, 1) < MIN_ARRAY_VALUES) continue;
      const file = `${s.name}/${a.variable.replace(/[^A-Za-z0-9_.-]/g, '_')}.npy`;
      const npy = buildNpy({ descr: a.descr, shape: a.shape, data: a.data });
      mkdirSync(join(dir, s.name), { recursive: true });
      writeFileSync(join(dir, file), npy);
      manifest.push({ file, source: s.name, package: s.from.pkg, version: s.from.version, licence: s.from.licence, path: s.path, variable: a.variable, what: s.what, dtype: a.descr === '<f4' ? 'F32' : 'F64', shape: a.shape, sha256: sha256Hex(npy) });
    }
  }
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

if (process.argv[1]?.endsWith('fetch-science-arrays.js')) {
  const dir = process.argv[2] ?? DEFAULT_SCIENCE_DIR;
  const manifest = fetchScienceArrays(dir);
  const bytes = manifest.reduce((a, m) => a + readFileSync(join(dir, m.file)).length, 0);
  for (const m of manifest) console.log(`${m.file}  ${m.dtype} [${m.shape}]  ${m.sha256.slice(0, 16)}`);
  console.log(`${manifest.length} arrays, ${(bytes / 1e6).toFixed(1)} MB, in ${dir}`);
}
