// Adaptive code lengths of the exponent plane of BF16 matrices under small contexts (none, the previous value's exponent,
// the upper value's, both, a running column and row mean): how much local structure trained weights have, the evidence
// for the contexts of the tensor model (FORMAT.md §5.6; docs/BENCHMARKS.md "Tensor model").
// Usage: [V=1] node bench/exponent-contexts.mjs FILE.safetensors ...   (V=1: per tensor, in bits per value)
import { readFileSync } from 'node:fs';
function readST(path){ const b=readFileSync(path); const n=Number(b.readBigUInt64LE(0)); const h=JSON.parse(b.subarray(8,8+n).toString()); const base=8+n; const out=[];
  for (const [k,v] of Object.entries(h)) { if (k==='__metadata__') continue; out.push({name:k, dtype:v.dtype, shape:v.shape, bytes:b.subarray(base+v.data_offsets[0], base+v.data_offsets[1])}); }
  return {out, total:b.length}; }
// adaptive code length of symbols (alphabet 256) under context c: KT-ish with escape to order0 counts
function adapt(n, sym, ctx, nctx){ const cnt=new Float64Array(nctx*256), tot=new Float64Array(nctx); const c0=new Float64Array(256).fill(0.05); let t0=256*0.05; let L=0;
  for(let i=0;i<n;i++){ const c=ctx[i], s=sym[i]; const a=cnt[c*256+s], T=tot[c]; const p0=c0[s]/t0; const p=(a+ 2*p0)/(T+2); L-=Math.log2(p); cnt[c*256+s]++; tot[c]++; c0[s]++; t0++; }
  return L; }
const names=['none','prev','above','prev+above','colmean','rowmean','col+row', 'colmeanExact'];
const tot=new Float64Array(names.length);
for (const f of process.argv.slice(2)){ const {out}=readST(f);
 for (const t of out){ if (t.dtype!=='BF16' || t.shape.length<2) continue; const n=t.bytes.length/2; const R=t.shape[t.shape.length-1];
  const e=new Int32Array(n); for(let i=0;i<n;i++){const h=t.bytes[2*i]|(t.bytes[2*i+1]<<8); e[i]=(h>>7)&255;}
  const ctxs=names.map(()=>new Int32Array(n));
  const colm=new Int32Array(R).fill(120<<4); let rowm=120<<4;
  for(let i=0;i<n;i++){ const col=i%R; if(col===0) rowm = i>=R ? rowm : 120<<4;
   const pv=col>0?e[i-1]:0, ab=i>=R?e[i-R]:0;
   ctxs[0][i]=0; ctxs[1][i]=pv; ctxs[2][i]=ab; ctxs[3][i]=(Math.min(15,Math.max(0,pv-110)))*16+Math.min(15,Math.max(0,ab-110));
   const cq=Math.min(31,Math.max(0,((colm[col]>>2)-440)>>1)); ctxs[4][i]=cq; const rq=Math.min(31,Math.max(0,((rowm>>2)-440)>>1)); ctxs[5][i]=rq; ctxs[6][i]=cq*32+rq; ctxs[7][i]=Math.min(255,colm[col]>>3);
   colm[col]+= ((e[i]<<4)-colm[col])>>2; rowm += ((e[i]<<4)-rowm)>>4; }
  const r=names.map((nm,j)=>adapt(n,e,ctxs[j],1024));
  r.forEach((v,j)=>tot[j]+=v);
  if (process.env.V) console.log(t.name, t.shape.join('x'), r.map(v=>(v/n).toFixed(3)).join(' '));
 }}
console.log(names.map((nm,j)=>nm+' '+(tot[j]/8|0)).join('\n'));
