// The demo page's script (examples/demo/index.html), plain DOM over the browser bundle (dist/browser/wcodec.js,
// served as /lib/): openCheckpoint for a URL or a File, the listing, load() with progress and an AbortSignal, every
// tensor's SHA-256 checked with crypto.subtle against the one stored in the index, and decodeToGPU where WebGPU is.

import { openCheckpoint, decodeToGPU, requestDecodeDevice, HttpSource } from '/lib/wcodec.js';

/** Rows drawn at most: a listing of 10^5 tensors stays responsive; the figures above the table cover every tensor. */
const MAX_ROWS = 2000;
/** 10^6 bytes, as MB is meant everywhere in wcodec's figures. */
const MB = 1e6;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

/** The open checkpoint and what the page knows of it. */
let current;
/** The operation that Stop aborts. */
let stopper;

const bytesText = (n) => `${n.toLocaleString('en-US')} B`;
const mbText = (n) => `${(n / MB).toLocaleString('en-US', { maximumFractionDigits: 3 })} MB`;
/** MB/s with three significant digits below 10 (a software GPU can be that slow), one decimal above. */
const speedText = (bytes, ms) => {
  const v = bytes / MB / (ms / 1000);
  return `${v >= 10 ? v.toFixed(1) : v.toPrecision(3)} MB/s`;
};
const hex = (buffer) => Array.from(new Uint8Array(buffer), (x) => x.toString(16).padStart(2, '0')).join('');

function setState(state, status) {
  document.body.dataset.state = state;
  if (status !== undefined) $('status').textContent = status;
  const busy = state === 'opening' || state === 'loading' || state === 'gpu';
  $('open-url').disabled = busy;
  $('file').disabled = busy;
  $('threads').disabled = busy;
  $('stop').disabled = !(state === 'opening' || state === 'loading');
  $('load').disabled = busy || !current;
  $('gpu').disabled = busy || !current;
}

/** Shows an error with its code (a WcodecError's `code`; a TypeError or RangeError by its name). */
function showError(e) {
  const code = e?.code ?? e?.name ?? 'Error';
  const message = String(e?.message ?? e).replace(new RegExp(`^${code}: `), '');
  const box = $('error');
  box.dataset.code = code;
  box.replaceChildren('Error ', Object.assign(document.createElement('code'), { textContent: code }), `: ${message}`);
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').replaceChildren();
  delete $('error').dataset.code;
}

function setFigure(id, text, data = {}) {
  const el = $(id);
  el.textContent = text;
  for (const [k, v] of Object.entries(data)) el.dataset[k] = String(v);
}

function requestCount() {
  const source = current?.ckpt.reader.source;
  return source instanceof HttpSource ? source.stats : undefined;
}

function showRequests() {
  const stats = requestCount();
  if (!stats) return setFigure('sum-requests', 'none (a local file)');
  setFigure('sum-requests', `${stats.requests} (${current.listingRequests} to list), ${mbText(stats.bytesReceived)} received${stats.retries ? `, ${stats.retries} retried` : ''}`, { listing: current.listingRequests, total: stats.requests });
}

/** Opens `input` (a URL string or a File), then shows its listing. */
async function open(input, label) {
  clearError();
  if (current) await current.ckpt.close().catch(() => {});
  current = undefined;
  resetFigures();
  const abort = new AbortController();
  stopper = abort;
  setState('opening', `Opening ${label}…`);
  try {
    // The signal stops the opening requests; it is never fired later, so the loads that follow are left alone.
    const ckpt = await openCheckpoint(input, { signal: abort.signal });
    const stats = ckpt.reader.source instanceof HttpSource ? ckpt.reader.source.stats : undefined;
    current = { ckpt, label, listingRequests: stats?.requests ?? 0, activeMs: 0, offsets: [], drawn: 0 };
    showListing();
    setState('listed', `Listed ${ckpt.tensors.length} tensors of ${label}.`);
  } catch (e) {
    setState('failed', e?.code === 'ABORTED' ? 'Stopped while opening.' : `Could not open ${label}.`);
    if (e?.code !== 'ABORTED') showError(e);
  } finally {
    stopper = undefined;
  }
}

function resetFigures() {
  for (const id of ['sum-model', 'sum-tensors', 'sum-original', 'sum-compressed', 'sum-saved', 'sum-requests', 'sum-decoded', 'sum-speed', 'sum-sha']) {
    $(id).textContent = '–';
    for (const k of Object.keys($(id).dataset)) delete $(id).dataset[k];
  }
  $('tensors').tBodies[0].replaceChildren();
  $('tensors-caption').textContent = 'No model open.';
  $('overall').value = 0;
  $('overall-text').textContent = '0 %';
  $('load').textContent = 'Load all tensors';
}

function showListing() {
  const { ckpt, label } = current;
  const original = ckpt.members.reduce((a, m) => a + m.originalBytes, 0);
  const container = ckpt.reader.source.size;
  setFigure('sum-model', `${label} (${ckpt.kind === 'folder' ? `a folder of ${ckpt.members.length} files` : ckpt.members[0]?.path ?? 'one file'})`);
  setFigure('sum-tensors', String(ckpt.tensors.length), { count: ckpt.tensors.length });
  setFigure('sum-original', `${mbText(original)} (${bytesText(original)})`, { bytes: original });
  setFigure('sum-compressed', `${mbText(container)} (${bytesText(container)})`, { bytes: container });
  setFigure('sum-saved', `${mbText(original - container)}, ${((1 - container / original) * 100).toFixed(1)} % smaller; ratio ${(original / container).toFixed(3)}`, { bytes: original - container });
  showRequests();
  // Progress is counted in compressed bytes across the tensors in their order: tensor k covers [offsets[k], offsets[k+1]).
  let at = 0;
  current.offsets = ckpt.tensors.map((t) => ((at += t.compressedBytes), at - t.compressedBytes));
  const body = $('tensors').tBodies[0];
  for (const t of ckpt.tensors.slice(0, MAX_ROWS)) {
    const tr = body.insertRow();
    tr.dataset.name = t.name;
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = t.name;
    tr.append(th);
    const ratio = t.compressedBytes > 0 ? (t.originalBytes / t.compressedBytes).toFixed(3) : '–';
    for (const v of [t.dtype, `[${t.shape.join(', ')}]`, t.originalBytes.toLocaleString('en-US'), t.compressedBytes.toLocaleString('en-US'), ratio]) tr.insertCell().textContent = v;
    const bar = Object.assign(document.createElement('progress'), { max: 1, value: 0 });
    bar.setAttribute('aria-label', `progress of ${t.name}`);
    tr.insertCell().append(bar);
    tr.insertCell().textContent = '–';
  }
  const shown = Math.min(MAX_ROWS, ckpt.tensors.length);
  $('tensors-caption').textContent = shown < ckpt.tensors.length ? `The first ${shown} of ${ckpt.tensors.length} tensors.` : `${ckpt.tensors.length} tensors, in the container's order.`;
}

/** Draws progress up to `loaded` compressed bytes of `total`; rows already full are not touched again. */
function drawProgress(loaded, total) {
  $('overall').value = total > 0 ? loaded / total : 1;
  $('overall-text').textContent = `${total > 0 ? Math.floor((loaded / total) * 100) : 100} %`;
  const { ckpt, offsets } = current;
  const rows = $('tensors').tBodies[0].rows;
  const n = Math.min(rows.length, ckpt.tensors.length);
  let k = current.drawn;
  while (k < n && loaded >= offsets[k] + ckpt.tensors[k].compressedBytes) rows[k++].cells[6].firstChild.value = 1;
  current.drawn = k;
  if (k < n && ckpt.tensors[k].compressedBytes > 0) rows[k].cells[6].firstChild.value = Math.max(0, loaded - offsets[k]) / ckpt.tensors[k].compressedBytes;
}

function threadOptions() {
  const threads = Math.max(1, Math.floor(Number($('threads').value) || 1));
  // Every multi-chunk tensor goes through the pool: the default minPoolBytes (64 MiB) would keep a small model on the
  // page's thread, and the control would seem to do nothing.
  return threads > 1 ? { threads, minPoolBytes: 0 } : {};
}

/** Loads every tensor; a load stopped before continues where it stopped. */
async function load() {
  clearError();
  const { ckpt } = current;
  const abort = new AbortController();
  stopper = abort;
  setState('loading', `Loading ${ckpt.tensors.length} tensors…`);
  let pending;
  const t0 = performance.now();
  try {
    const tensors = await ckpt.load({
      signal: abort.signal,
      ...threadOptions(),
      onProgress: (p) => {
        // One frame draws the latest event: a model of many chunks calls this thousands of times.
        if (pending === undefined) pending = requestAnimationFrame(() => ((pending = undefined), drawProgress(current.latest.loadedBytes, current.latest.totalBytes)));
        current.latest = p;
      },
    });
    current.activeMs += performance.now() - t0;
    cancelAnimationFrame(pending);
    const total = ckpt.tensors.reduce((a, t) => a + t.compressedBytes, 0);
    drawProgress(total, total);
    const decoded = tensors.reduce((a, t) => a + t.bytes.length, 0);
    setFigure('sum-decoded', `${mbText(decoded)} (${bytesText(decoded)}) in ${tensors.length} tensors`, { bytes: decoded });
    setFigure('sum-speed', `${speedText(decoded, current.activeMs)} of original bytes (${current.activeMs.toFixed(0)} ms, transfer included)`, { ms: current.activeMs.toFixed(1) });
    showRequests();
    setState('checking', 'Checking SHA-256…');
    await checkDigests(tensors);
    setState('done', `Loaded ${tensors.length} tensors.`);
  } catch (e) {
    current.activeMs += performance.now() - t0;
    cancelAnimationFrame(pending);
    showRequests();
    if (e?.code === 'ABORTED') {
      $('load').textContent = 'Continue loading';
      setState('stopped', `Stopped at ${$('overall-text').textContent}; loading again continues from there.`);
    } else {
      setState('failed', 'Loading failed.');
      showError(e);
    }
  } finally {
    stopper = undefined;
  }
}

/** Hashes each decoded tensor with crypto.subtle and compares it with the SHA-256 the index stores for it. */
async function checkDigests(tensors) {
  const rows = $('tensors').tBodies[0].rows;
  let good = 0;
  for (const [k, t] of tensors.entries()) {
    // crypto.subtle takes no view of a SharedArrayBuffer (what a pool of workers decodes into): copy those.
    const bytes = t.bytes.buffer instanceof ArrayBuffer ? t.bytes : new Uint8Array(t.bytes);
    const sha = hex(await crypto.subtle.digest('SHA-256', bytes));
    const same = sha === t.info.sha256;
    if (same) good++;
    if (k < rows.length) {
      rows[k].dataset.sha256 = sha;
      const cell = rows[k].cells[7];
      cell.textContent = same ? `✓ ${sha.slice(0, 12)}…` : `✗ ${sha.slice(0, 12)}…`;
      cell.className = same ? 'ok' : 'bad';
      cell.title = same ? `${sha}: the stored SHA-256` : `${sha}; the index stores ${t.info.sha256}`;
    }
  }
  setFigure('sum-sha', `${good} of ${tensors.length} tensors match the SHA-256 stored in the container`, { good, count: tensors.length });
}

/** Decodes every tensor straight into GPU buffers, then frees them. */
async function decodeOnGpu() {
  clearError();
  const { ckpt } = current;
  setState('gpu', 'Decoding to the GPU…');
  try {
    const got = await requestDecodeDevice('wcodec demo');
    if (!got.device) throw new Error(`no GPU device: ${got.reason}`);
    try {
      const t0 = performance.now();
      const r = await decodeToGPU(ckpt, ckpt.tensors.map((t) => t.name), got.device);
      const ms = performance.now() - t0;
      const bytes = ckpt.tensors.reduce((a, t) => a + t.originalBytes, 0);
      if (r.backend === 'gpu') for (const b of r.buffers) b.destroy();
      const where = r.backend === 'gpu' ? `${got.adapter.info.vendor || 'GPU'} ${got.adapter.info.architecture || ''}`.trim() : `the CPU (${r.reason})`;
      setFigure('gpu-status', `decoded ${ckpt.tensors.length} tensors on ${where} in ${ms.toFixed(1)} ms: ${speedText(bytes, ms)} of original bytes`);
      setState('done', 'Decoded to the GPU.');
    } finally {
      got.device.destroy();
    }
  } catch (e) {
    setState('failed', 'GPU decode failed.');
    showError(e);
  }
}

/** Whether navigator.gpu gives an adapter: shows the GPU action, or a line saying why not. */
async function probeGpu() {
  let adapter = null;
  let why = 'this browser has no navigator.gpu';
  if (navigator.gpu) {
    why = 'navigator.gpu gives no adapter';
    adapter = await navigator.gpu.requestAdapter().catch((e) => ((why = `requestAdapter failed: ${e.message}`), null));
  }
  $('gpu').hidden = !adapter;
  $('gpu-status').textContent = adapter ? `available (${[adapter.info?.vendor, adapter.info?.architecture].filter(Boolean).join(' ') || 'an adapter'})` : `WebGPU is not available: ${why}.`;
}

/** Fills the URL field's suggestions with the models the demo server holds (nothing elsewhere). */
async function listModels() {
  try {
    const r = await fetch('/models/');
    if (!r.ok) return;
    const names = await r.json();
    $('models').replaceChildren(...names.map((n) => Object.assign(document.createElement('option'), { value: `models/${n}` })));
  } catch {
    // Served by another server: no suggestions.
  }
}

/** The finished state as the page shows it, read back from the DOM (for `report=`). */
function domReport() {
  const summary = Object.fromEntries([...document.querySelectorAll('#summary dd')].map((dd) => [dd.id, { text: dd.textContent, ...dd.dataset }]));
  return {
    state: document.body.dataset.state,
    status: $('status').textContent,
    error: $('error').hidden ? undefined : { code: $('error').dataset.code, text: $('error').textContent },
    overall: { value: $('overall').value, max: $('overall').max, text: $('overall-text').textContent },
    summary,
    tensors: [...$('tensors').tBodies[0].rows].map((r) => ({ name: r.dataset.name, sha256: r.dataset.sha256, progress: r.cells[6].firstChild.value, check: r.cells[7].textContent })),
  };
}

$('open-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = $('url').value.trim();
  if (url) void open(url, url);
});
$('file').addEventListener('change', () => {
  const f = $('file').files[0];
  if (f) void open(f, f.name);
});
$('load').addEventListener('click', () => void load());
$('stop').addEventListener('click', () => stopper?.abort());
$('gpu').addEventListener('click', () => void decodeOnGpu());

setState('idle');
void listModels();
const gpuProbe = probeGpu();
if (params.has('threads')) $('threads').value = params.get('threads');
if (params.has('src')) {
  $('url').value = params.get('src');
  await open(params.get('src'), params.get('src'));
  if (current && params.get('load') === '1') await load();
  await gpuProbe;
  if (current && params.get('gpu') === '1' && !$('gpu').hidden) await decodeOnGpu();
  if (params.has('report')) {
    await fetch(params.get('report'), { method: 'POST', body: JSON.stringify(domReport()) });
  }
}
