// A prototype of the tensor model's design (FORMAT.md §5.6) for comparing context sets: the code length (sum of −log2 p, no coder)
// of a bitwise context-mixing model over the planes of each BF16 or F32 value (exponent, sign + 7 mantissa bits, then the
// bytes below), with the byte model's squash/stretch, counters, mixers and APMs in the same integer arithmetic, state
// reset per tensor. docs/BENCHMARKS.md "Tensor model" lists what each context set gave.
// Usage: node bench/tensor-model-prototype.mjs '{"apm":1,"mix2":1,"use":[0,1,2,3,8],"wsel":"bit"}' FILE.safetensors ...
//   use: the contexts (besides plane and partial symbol): 0 order 0, 1 previous value's field, 2 upper value's field,
//   3 this value's earlier planes, 4 earlier planes + previous field, 5 running mean exponent of about the last 16
//   values, 6 previous + upper field + exponent, 7 previous and upper exponents, 8 planar magnitude prediction (left +
//   upper − upper-left), 9 mean of left and upper magnitudes. apm: the two APMs; mix2: a second mixer; wsel "bit":
//   mixer 1 by bit index (else by partial symbol); w2 "pl": mixer 2 by predicted magnitude; rate: mixer rate (24);
//   lim: counter limit (255); tb: table bits (22).
import { readFileSync } from 'node:fs';
const P = [1,2,4,6,10,17,27,45,74,120,194,311,488,747,1102,1546,2048,2550,2994,3349,3608,3785,3902,3976,4022,4051,4069,4079,4086,4090,4092,4094,4095];
const SQ = new Int32Array(4096); for (let d=-2048; d<2048; d++){const s=d+2048, lo=s>>7, w=s&127; SQ[s]=(P[lo]*(128-w)+P[Math.min(32,lo+1)]*w+64)>>7;}
const squash = d => SQ[(d>2047?2047:d<-2047?-2047:d)+2048];
const ST = new Int32Array(4096); {let q=0; for(let d=-2047; d<=2047; d++){const v=squash(d); for(let j=q;j<=v;j++) ST[j]=d; q=v+1;} for(let j=q;j<4096;j++) ST[j]=2047;}
const REC = new Int32Array(1024); for (let n=0;n<1024;n++) REC[n]=Math.floor(65536/(2*n+3));
const LOG = new Float64Array(4097); for (let i=1;i<4096;i++) LOG[i]=-Math.log2(i/4096);
function hash(a,b,c){let x=(Math.imul(a,0x9e3779b1)+Math.imul(b,0x85ebca77)+Math.imul(c+1,0xc2b2ae3d))>>>0; x^=x>>>15; x=Math.imul(x,0x2c1b3c6d)>>>0; return (x^(x>>>13))>>>0;}

function readST(path){ const b=readFileSync(path); const n=Number(b.readBigUInt64LE(0)); const h=JSON.parse(b.subarray(8,8+n).toString()); const base=8+n; const out=[];
  for (const [k,v] of Object.entries(h)) { if (k==='__metadata__') continue; out.push({name:k, dtype:v.dtype, shape:v.shape, bytes:b.subarray(base+v.data_offsets[0], base+v.data_offsets[1])}); }
  return {out, total:b.length}; }

// layouts: planes as list of [lo,width] ranges over the head (H=16) then byte planes below.
function planesOf(W){ // returns functions extracting planes from a value: [exponent 8][sign+mant7][bytes below]
  return W===2 ? [{bits:8},{bits:8}] : [{bits:8},{bits:8},{bits:8},{bits:8}]; }
function split(bytes, W, i, sym){ const o=i*W; const h=bytes[o+W-2] | (bytes[o+W-1]<<8); sym[0]=(h>>7)&255; sym[1]=((h>>15)<<7)|(h&127); if (W===4){sym[2]=bytes[o+1]; sym[3]=bytes[o];} }

const cfg = JSON.parse(process.argv[2]||'{}');
const TB = cfg.tb ?? 22;
const USE = cfg.use ?? [0,1,2,3,4,5,6,7]; const NIN = USE.length;
function codeTensor(t, state){
  const W = t.dtype==='BF16'||t.dtype==='F16'?2: t.dtype==='F32'?4:0; if (!W) return null;
  const n = t.bytes.length/W; const row = t.shape.length? t.shape[t.shape.length-1]:1;
  const NP = W===2?2:4;
  const tabs = []; for (let i=0;i<NIN;i++) tabs.push(new Uint32Array(1<<TB).fill(0x80000000));
  const mask=(1<<TB)-1;
  const wsets = 4*256*2; const wts = new Int32Array(wsets*(NIN+1)).fill(cfg.winit ?? 16384); const wts2 = new Int32Array(4*256*16*(NIN+1)).fill(cfg.winit??16384);
  const apm = new Uint16Array(4*65536*33); const apmRow=[]; for(let j=0;j<33;j++) apmRow.push(squash((j-16)*128)*16); for (let r=0;r<4*65536;r++) apm.set(apmRow, r*33);
  const apmB = new Uint16Array(4*256*33); for (let r=0;r<4*256;r++) apmB.set(apmRow, r*33);
  const syms = new Int32Array(n*NP); const cur = new Int32Array(NP);
  for (let i=0;i<n;i++){ split(t.bytes,W,i,cur); for(let k=0;k<NP;k++) syms[i*NP+k]=cur[k]; }
  const idx = new Int32Array(NIN); const x = new Int32Array(NIN+1); const bits = new Float64Array(NP);
  let expMean = 0; // running mean of exponent, x16
  let lim = cfg.lim ?? 255;
  for (let i=0;i<n;i++){
    const col = i % row;
    for (let k=0;k<NP;k++){
      const s = syms[i*NP+k];
      const pv = col>0 ? syms[(i-1)*NP+k] : (i>0? syms[(i-1)*NP+k]:0);
      const pv2 = i>1 ? syms[(i-2)*NP+k] : 0;
      const ab = i>=row ? syms[(i-row)*NP+k] : 0;
      const e = k>0 ? syms[i*NP] : 0;    // exponent of this value
      const e1 = k>1 ? syms[i*NP+1] : 0;
      const pe = i>0 ? syms[(i-1)*NP] : 0;
      const ae = i>=row ? syms[(i-row)*NP] : 0;
      const em = expMean>>4;
      const Lof = j => j<0 ? 0 : ((t.bytes[j*W+W-2] | (t.bytes[j*W+W-1]<<8)) & 0x7fff) >> 4;
      const Ll = col>0 ? Lof(i-1) : (i>=row? Lof(i-row):0), La = i>=row ? Lof(i-row) : Ll, Ld = (i>=row && col>0) ? Lof(i-row-1) : La;
      let predL = Ll + La - Ld; predL = predL<0?0:predL>2047?2047:predL; const avgL=(Ll+La)>>1;
      const all = [
        hash(k,0,0),
        hash(k, pv, 1),
        hash(k, ab, 2),
        hash(k, e | (e1<<8), 3),
        hash(k, (e | (e1<<8)) ^ (pv<<16), 4),
        hash(k, em | (k>0 ? e<<8:0), 5),
        hash(k, pv | (ab<<8) | (k>0? e<<16:0), 6),
        hash(k, pe|(ae<<8)|(k>0? e<<16:0), 7),
        hash(k, (predL>>1) | (k>0? e<<12:0), 8),
        hash(k, (avgL>>1) | (k>0? e<<12:0), 9),
      ];
      const ctxs = USE.map(j=>all[j]);
      let c0=1;
      for (let b=7;b>=0;b--){
        const y=(s>>b)&1;
        for (let j=0;j<NIN;j++){ idx[j]=(hash(ctxs[j],c0,9)&mask); x[j]=ST[tabs[j][idx[j]]>>>20]; }
        x[NIN]=256;
        const set=(cfg.wsel==='bit' ? ((k<<8)|(7-b)) : ((k<<8)|c0))*(NIN+1);
        const set2=(cfg.w2==='pl' ? ((k<<8)|Math.min(255,predL>>3))*16 : (((k<<8)|c0)*16 + Math.min(15, em>>2&15)))*(NIN+1);
        let dot=0, dot2=0; for (let j=0;j<=NIN;j++){dot+=wts[set+j]*x[j]; dot2+=wts2[set2+j]*x[j];}
        let d1=Math.floor(dot/65536); d1=d1>2047?2047:d1<-2047?-2047:d1;
        let d2=Math.floor(dot2/65536); d2=d2>2047?2047:d2<-2047?-2047:d2;
        const p1=squash(d1), p2=squash(d2);
        const pm = cfg.mix2 ? squash((d1+d2)>>1) : p1;
        const ss=ST[pm]+2048, lo=ss>>7, w=ss&127;
        const r1 = ((k<<8)|c0)*33+lo;
        const ctxA = k===0 ? pv : e;
        const r2 = ((k*256+ctxA)*256+c0)*33+lo;
        const a1=(apmB[r1]*(128-w)+apmB[r1+1]*w)>>11;
        const a2=(apm[r2]*(128-w)+apm[r2+1]*w)>>11;
        let p = cfg.apm ? (pm + a1 + 2*a2 + 2)>>2 : pm;
        if (p<1)p=1; if(p>4095)p=4095;
        bits[k] += y? LOG[p] : LOG[4096-p];
        const rate = cfg.rate ?? 24;
        const err=((y<<12)-p1)*rate, err2=((y<<12)-p2)*rate;
        for (let j=0;j<=NIN;j++){ let v=wts[set+j]+((x[j]*err)>>14); wts[set+j]=v>1048575?1048575:v<-1048575?-1048575:v;
          v=wts2[set2+j]+((x[j]*err2)>>14); wts2[set2+j]=v>1048575?1048575:v<-1048575?-1048575:v; }
        const tgt=y?65535:0; const ai1=r1+(w>>6), ai2=r2+(w>>6);
        apmB[ai1]+=(tgt-apmB[ai1])>>7; apm[ai2]+=(tgt-apm[ai2])>>7;
        for (let j=0;j<NIN;j++){ const tb=tabs[j]; const v=tb[idx[j]]; const pp=v>>>16, nn=v&0xffff; const np=pp+(((tgt-pp)*REC[nn])>>15); tb[idx[j]]=((np<<16)|(nn<lim?nn+1:nn))>>>0; }
        c0=(c0<<1)|y;
      }
    }
    expMean += syms[i*NP] - (expMean>>4);
  }
  return bits;
}
const files = process.argv.slice(3);
let orig=0, coded=0; const byPlane=[0,0,0,0];
for (const f of files){ const {out,total}=readST(f); orig+=total; let c=0;
  for (const t of out){ const b=codeTensor(t); if(!b){ c+=t.bytes.length*8; continue;} for(let k=0;k<b.length;k++){c+=b[k]; byPlane[k]+=b[k];} }
  coded += c/8 + (total - out.reduce((a,t)=>a+t.bytes.length,0)); }
console.log(JSON.stringify(cfg), 'ratio', (orig/coded).toFixed(4), 'planes bytes', byPlane.map(b=>(b/8|0)).join(' '));
