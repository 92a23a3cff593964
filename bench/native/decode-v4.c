// A native decoder of the version 4 float layout (FORMAT.md §4.3, §5.3, §6, §7.5), timed against zstd -3's one-shot
// decode of the same original bytes, each into freshly allocated memory and into memory already touched.
// Input: what bench/native/dump-chunks.ts writes (DTYPE.chunks, the container and the original it names).
// Build: gcc -O3 -march=native -o decode-v4 decode-v4.c -l:libzstd.so.1   Usage: decode-v4 DTYPE.chunks [runs]
//
// Decoding follows §5.3 exactly: 32 lanes in lockstep, each round's words read in lane order from one shared stream
// (the renormalising lanes take consecutive words, in lane order), 16-bit renormalisation, and the end checks (read
// position exactly at the stream's end, every lane's state exactly 2^16). Each chunk's WD64 (§7.5) is computed on its
// decoded bytes and compared with the record's (unbound) digest, as a version 4 decoder must.
// Invariants of the SIMD loops: between symbols every state is in [2^16, 2^32); the read position passes the stream's
// end by at most one step (32 lanes × 2 bytes) before the check after each step, a word load reads at most 32 bytes
// from the read position, and a raw plane's loads read at most 8 bytes past it, so CHUNK_PAD readable bytes follow
// the container.

#define _GNU_SOURCE
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// The few zstd functions used (libzstd is present without its headers).
size_t ZSTD_compressBound(size_t srcSize);
size_t ZSTD_compress(void *dst, size_t dstCapacity, const void *src, size_t srcSize, int compressionLevel);
typedef struct ZSTD_DCtx_s ZSTD_DCtx;
ZSTD_DCtx *ZSTD_createDCtx(void);
size_t ZSTD_decompressDCtx(ZSTD_DCtx *dctx, void *dst, size_t dstCapacity, const void *src, size_t srcSize);
unsigned ZSTD_isError(size_t code);
const char *ZSTD_getErrorName(size_t code);
unsigned ZSTD_versionNumber(void);

#define INLINE inline __attribute__((always_inline))

/** Lanes of the stream (FORMAT.md §5.3 RANS_LANES); the dump holds only 32-lane segments as kind 1. */
#define LANES 32
/** Alphabet of the coded 10-bit head plane (7,8),(5,2). */
#define ALPHABET 1024
/** Largest probBits of §5.2: bounds the slot table (2^15 records). */
#define MAX_PROB_BITS 15
/** Readable bytes kept after the container: one step of words past the end plus one 32-byte load. */
#define CHUNK_PAD 128
/** Bytes of the 6-bit raw plane per step of 32 values. */
#define RAW6_STEP 24

enum { OK = 0, BAD_SIZE, BAD_PADDING, BAD_STATE, ENDS_EARLY, WORDS_LEFT, BAD_FINAL_STATE, BAD_DIGEST };
static const char *const ERRORS[] = {"ok", "bad size", "padding bits set", "initial state < 2^16", "stream ends early", "words left", "final state != 2^16", "digest mismatch"};

// ---------------------------------------------------------------------------------------------------------------
// WD64 (FORMAT.md §7.5)

static const uint64_t K[8] = {0x9E3779B185EBCA87ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull, 0x85EBCA77C2B2AE63ull,
                              0x27D4EB2F165667C5ull, 0xD6E8FEB86659FD93ull, 0xFF51AFD7ED558CCDull, 0xC4CEB9FE1A85EC53ull};

static uint64_t wd64_finish(const uint64_t a[8], uint64_t len) {
  uint64_t h = len * K[1];
  for (int j = 0; j < 8; j++) {
    h = (h ^ a[j]) * K[2];
    h ^= h >> 31;
  }
  h ^= h >> 33;
  h *= K[3];
  h ^= h >> 29;
  return h;
}

/** Absorbs one stripe s of 8 words into a (the definition, one accumulator at a time). */
static INLINE void wd64_stripe_scalar(uint64_t a[8], const uint64_t w[8], uint64_t m) {
  for (int j = 0; j < 8; j++) {
    uint64_t t = w[j] ^ K[j] ^ m;
    a[j] += (t & 0xffffffffu) * (t >> 32) + w[j ^ 1];
  }
}

/** The reference: word by word, as §7.5 writes it. */
static uint64_t wd64_scalar(const uint8_t *d, size_t len) {
  uint64_t a[8], w[8];
  memcpy(a, K, sizeof a);
  size_t s = 0;
  for (; (s + 1) * 64 <= len; s++) {
    memcpy(w, d + s * 64, 64);
    wd64_stripe_scalar(a, w, s * K[5]);
  }
  if (len % 64) {
    uint8_t last[64] = {0};
    memcpy(last, d + s * 64, len % 64);
    memcpy(w, last, 64);
    wd64_stripe_scalar(a, w, s * K[5]);
  }
  return wd64_finish(a, len);
}

#ifdef __AVX512F__
/** Eight accumulators in one zmm: t = w ^ K ^ m, a += lo32(t) × hi32(t) + w[j ^ 1] (the qword swap within 128 bits). */
static uint64_t wd64(const uint8_t *d, size_t len) {
  __m512i a = _mm512_loadu_si512(K), k = a, m = _mm512_setzero_si512(), k5 = _mm512_set1_epi64((long long)K[5]);
  size_t s = 0, full = len / 64;
  for (; s < full; s++) {
    __m512i w = _mm512_loadu_si512(d + s * 64);
    __m512i t = _mm512_ternarylogic_epi64(w, k, m, 0x96);
    a = _mm512_add_epi64(a, _mm512_add_epi64(_mm512_mul_epu32(t, _mm512_srli_epi64(t, 32)), _mm512_shuffle_epi32(w, 0x4E)));
    m = _mm512_add_epi64(m, k5);
  }
  uint64_t acc[8];
  _mm512_storeu_si512(acc, a);
  if (len % 64) {
    uint64_t w[8] = {0};
    memcpy(w, d + s * 64, len % 64);
    wd64_stripe_scalar(acc, w, s * K[5]);
  }
  return wd64_finish(acc, len);
}
#else
#define wd64 wd64_scalar
#endif

static int wd64_selftest(void) {
  uint8_t buf[1000];
  for (int i = 0; i < 1000; i++) buf[i] = (uint8_t)i;
  uint8_t zero[64] = {0};
  struct { const uint8_t *d; size_t n; uint64_t want; } v[] = {
      {buf, 0, 0xB43667E249FC5325ull}, {(const uint8_t *)"abc", 3, 0xF7F7842B01AF8EACull}, {zero, 64, 0x8BD2140E8BDC1C32ull}, {buf, 1000, 0x89A3866CC81AEC95ull}};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    if (wd64_scalar(v[i].d, v[i].n) != v[i].want || wd64(v[i].d, v[i].n) != v[i].want) {
      fprintf(stderr, "WD64 check value %zu fails\n", i);
      return 0;
    }
  }
  return 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Tables and chunks

/**
 * The slot table of the coded plane: per slot one record, bits 0-15 freq[v], bits 16-31 slot − cum[v], bits 32-47 the
 * symbol's head bits (its top 8 bits at head bits 7-14, its low 2 at head bits 5-6). `ent` and `out` hold the two
 * halves as separate u32 tables, for the kernels that gather 32-bit elements.
 */
typedef struct {
  uint32_t pb;
  uint64_t rec[1u << MAX_PROB_BITS];
  uint32_t ent[1u << MAX_PROB_BITS];
  uint32_t out[1u << MAX_PROB_BITS];
} Table;

/** Builds the table from frequencies summing to 2^pb (the index reader's check, repeated here). */
static int build_table(Table *t, const uint32_t *freqs, uint32_t pb) {
  if (pb < 8 || pb > MAX_PROB_BITS) return 0;
  t->pb = pb;
  uint32_t cum = 0;
  for (uint32_t s = 0; s < ALPHABET; s++) {
    uint32_t f = freqs[s];
    if (f > (1u << pb) - cum) return 0;
    uint32_t head = ((s >> 2) << 7) | ((s & 3) << 5);
    for (uint32_t k = 0; k < f; k++) {
      t->ent[cum + k] = f | (k << 16);
      t->out[cum + k] = head;
      t->rec[cum + k] = ((uint64_t)head << 32) | f | (k << 16);
    }
    cum += f;
  }
  return cum == (1u << pb);
}

typedef struct {
  uint64_t offset;
  uint32_t bytes, n;
  uint64_t digest;
} Chunk;

typedef struct {
  uint64_t at, bytes;
  uint32_t kind, pb, chunkValues, chunkCount;
  uint32_t freqs[ALPHABET];
  Chunk *chunks;
} Segment;

static INLINE uint32_t raw6(const uint8_t *raw, uint32_t i) {
  uint32_t bit = i * 6;
  uint32_t v = ((uint32_t)raw[bit >> 3] | ((uint32_t)raw[(bit >> 3) + 1] << 8)) >> (bit & 7);
  return ((v & 0x20) << 10) | (v & 0x1f);
}

/** Writes value i from its head and, for W = 4, bytes 1 and 0 of the raw byte planes. */
static INLINE void store_value(uint8_t *out, int W, uint32_t i, uint32_t head, const uint8_t *b1, const uint8_t *b0) {
  if (W == 2) {
    memcpy(out + 2 * (size_t)i, &(uint16_t){(uint16_t)head}, 2);
  } else {
    uint32_t v = (head << 16) | ((uint32_t)b1[i] << 8) | b0[i];
    memcpy(out + 4 * (size_t)i, &v, 4);
  }
}

/** One symbol of lane state *x (§5.3 decode step), branch-free renormalisation. @returns the symbol's head bits */
static INLINE uint32_t decode_one(uint32_t *x, const Table *t, const uint8_t *src, size_t *wp) {
  uint32_t mask = (1u << t->pb) - 1;
  uint64_t r = t->rec[*x & mask];
  uint32_t y = (uint32_t)(r & 0xffff) * (*x >> t->pb) + ((uint32_t)r >> 16);
  uint16_t w;
  memcpy(&w, src + *wp, 2);
  uint32_t need = y < 0x10000;
  *x = need ? (y << 16) | w : y;
  *wp += need << 1;
  return (uint32_t)(r >> 32);
}

/** A chunk being decoded (§6): its rANS stream (`end` bytes at src), raw planes, lane states, read position, output. */
typedef struct {
  const uint8_t *src, *raw, *b1, *b0;
  size_t end, wp;
  uint32_t n, full;
  uint8_t *out;
  uint32_t st[LANES];
} Stream;

// Full steps: values 0 … full − 1 (full a multiple of 32), the states and read position left in the Stream.
// Each kernel returns 1, or 0 when the read position passed the stream's end (ENDS_EARLY).

/** Scalar: 32 lanes one after the other. */
static INLINE int steps_scalar(Stream *s, const Table *t, int W) {
  size_t wp = s->wp;
  for (uint32_t base = 0; base < s->full; base += LANES) {
    for (uint32_t l = 0; l < LANES; l++) {
      uint32_t head = decode_one(&s->st[l], t, s->src, &wp) | raw6(s->raw, base + l);
      store_value(s->out, W, base + l, head, s->b1, s->b0);
    }
    if (wp > s->end) return 0;
  }
  s->wp = wp;
  return 1;
}

#ifdef __AVX2__
/** For each 8-bit renormalise mask m: the pshufb that gives lane l the word at popcount(m & ((1 << l) − 1)) as a u16, 0 elsewhere. */
static uint8_t ROUTE8[256][16] __attribute__((aligned(16)));
static void init_route8(void) {
  for (int m = 0; m < 256; m++) {
    int k = 0;
    for (int l = 0; l < 8; l++) {
      if (m & (1 << l)) {
        ROUTE8[m][2 * l] = (uint8_t)(2 * k);
        ROUTE8[m][2 * l + 1] = (uint8_t)(2 * k + 1);
        k++;
      } else {
        ROUTE8[m][2 * l] = ROUTE8[m][2 * l + 1] = 0x80;
      }
    }
  }
}

/** Eight lanes: two 32-bit gathers (entry, head bits), the state update, the words routed to the renormalising lanes in lane order. */
static INLINE __m256i avx2_lanes8(__m256i *xp, const Table *t, __m128i pbc, const uint8_t *src, size_t *wp) {
  const __m256i low = _mm256_set1_epi32(0xffff);
  __m256i x = *xp;
  __m256i slot = _mm256_and_si256(x, _mm256_set1_epi32((1 << t->pb) - 1));
  __m256i e = _mm256_i32gather_epi32((const int *)t->ent, slot, 4);
  __m256i o = _mm256_i32gather_epi32((const int *)t->out, slot, 4);
  x = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_and_si256(e, low), _mm256_srl_epi32(x, pbc)), _mm256_srli_epi32(e, 16));
  __m256i need = _mm256_cmpeq_epi32(_mm256_srli_epi32(x, 16), _mm256_setzero_si256());
  unsigned m = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(need));
  __m128i words = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(src + *wp)), _mm_load_si128((const __m128i *)ROUTE8[m]));
  x = _mm256_blendv_epi8(x, _mm256_or_si256(_mm256_slli_epi32(x, 16), _mm256_cvtepu16_epi32(words)), need);
  *wp += (size_t)__builtin_popcount(m) << 1;
  *xp = x;
  return o;
}

/**
 * Sixteen 6-bit fields (12 bytes at p) as u16 head bits: word k takes bytes ⌊6k/8⌋ and ⌊6k/8⌋ + 1 and is multiplied by
 * 2^(10 − 6k mod 8), which puts the field at bits 10-15; an arithmetic shift by 10 brings bits 0-4 back and copies the
 * sign (field bit 5) into bits 5-15, of which the mask keeps bit 15.
 */
static INLINE __m256i avx2_sign16(const uint8_t *p) {
  const __m256i pick = _mm256_setr_epi8(0, 1, 0, 1, 1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 5, 6, 6, 7, 6, 7, 7, 8, 8, 9, 9, 10, 9, 10, 10, 11, 11, 12);
  const __m256i mul = _mm256_setr_epi16(1024, 16, 64, 256, 1024, 16, 64, 256, 1024, 16, 64, 256, 1024, 16, 64, 256);
  __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
  __m256i f = _mm256_mullo_epi16(_mm256_shuffle_epi8(v, pick), mul);
  return _mm256_and_si256(_mm256_srai_epi16(f, 10), _mm256_set1_epi16((short)0x801f));
}

/** Values of eight lanes for W = 4: head bits o | raw head bits s (8 u16), with bytes 1 and 0 below. */
static INLINE void avx2_store_w4(uint8_t *dst, __m256i o, __m128i s, const uint8_t *b1, const uint8_t *b0) {
  __m256i head = _mm256_or_si256(o, _mm256_cvtepu16_epi32(s));
  __m256i lo = _mm256_or_si256(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)b0)), _mm256_slli_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)b1)), 8));
  _mm256_storeu_si256((__m256i *)dst, _mm256_or_si256(_mm256_slli_epi32(head, 16), lo));
}

/** The 32 values of step `base` from the four groups' head bits and the raw planes. */
static INLINE void avx2_emit(const Stream *s, uint32_t base, int W, __m256i o0, __m256i o1, __m256i o2, __m256i o3) {
  const uint8_t *rp = s->raw + (size_t)(base / LANES) * RAW6_STEP;
  __m256i sa = avx2_sign16(rp), sb = avx2_sign16(rp + 12);
  if (W == 2) {
    // packus interleaves 128-bit halves: [o0 lo, o1 lo, o0 hi, o1 hi] -> 0xD8 restores value order.
    __m256i ha = _mm256_permute4x64_epi64(_mm256_packus_epi32(o0, o1), 0xD8);
    __m256i hb = _mm256_permute4x64_epi64(_mm256_packus_epi32(o2, o3), 0xD8);
    _mm256_storeu_si256((__m256i *)(s->out + 2 * (size_t)base), _mm256_or_si256(ha, sa));
    _mm256_storeu_si256((__m256i *)(s->out + 2 * (size_t)base + 32), _mm256_or_si256(hb, sb));
  } else {
    uint8_t *d = s->out + 4 * (size_t)base;
    const uint8_t *b1 = s->b1 + base, *b0 = s->b0 + base;
    avx2_store_w4(d, o0, _mm256_castsi256_si128(sa), b1, b0);
    avx2_store_w4(d + 32, o1, _mm256_extracti128_si256(sa, 1), b1 + 8, b0 + 8);
    avx2_store_w4(d + 64, o2, _mm256_castsi256_si128(sb), b1 + 16, b0 + 16);
    avx2_store_w4(d + 96, o3, _mm256_extracti128_si256(sb, 1), b1 + 24, b0 + 24);
  }
}

static INLINE int steps_avx2(Stream *s, const Table *t, int W) {
  __m128i pbc = _mm_cvtsi32_si128((int)t->pb);
  __m256i x[4];
  for (int g = 0; g < 4; g++) x[g] = _mm256_loadu_si256((const __m256i *)(s->st + 8 * g));
  size_t wp = s->wp;
  for (uint32_t base = 0; base < s->full; base += LANES) {
    __m256i o0 = avx2_lanes8(&x[0], t, pbc, s->src, &wp);
    __m256i o1 = avx2_lanes8(&x[1], t, pbc, s->src, &wp);
    __m256i o2 = avx2_lanes8(&x[2], t, pbc, s->src, &wp);
    __m256i o3 = avx2_lanes8(&x[3], t, pbc, s->src, &wp);
    avx2_emit(s, base, W, o0, o1, o2, o3);
    if (wp > s->end) return 0;
  }
  for (int g = 0; g < 4; g++) _mm256_storeu_si256((__m256i *)(s->st + 8 * g), x[g]);
  s->wp = wp;
  return 1;
}

/** Two chunks of the same length in one loop: their steps are independent, so each hides the other's latencies. */
static INLINE int steps2_avx2(Stream *a, Stream *b, const Table *t, int W) {
  __m128i pbc = _mm_cvtsi32_si128((int)t->pb);
  __m256i x[4], y[4];
  for (int g = 0; g < 4; g++) x[g] = _mm256_loadu_si256((const __m256i *)(a->st + 8 * g)), y[g] = _mm256_loadu_si256((const __m256i *)(b->st + 8 * g));
  size_t wa = a->wp, wb = b->wp;
  for (uint32_t base = 0; base < a->full; base += LANES) {
    __m256i o0 = avx2_lanes8(&x[0], t, pbc, a->src, &wa);
    __m256i p0 = avx2_lanes8(&y[0], t, pbc, b->src, &wb);
    __m256i o1 = avx2_lanes8(&x[1], t, pbc, a->src, &wa);
    __m256i p1 = avx2_lanes8(&y[1], t, pbc, b->src, &wb);
    __m256i o2 = avx2_lanes8(&x[2], t, pbc, a->src, &wa);
    __m256i p2 = avx2_lanes8(&y[2], t, pbc, b->src, &wb);
    __m256i o3 = avx2_lanes8(&x[3], t, pbc, a->src, &wa);
    __m256i p3 = avx2_lanes8(&y[3], t, pbc, b->src, &wb);
    avx2_emit(a, base, W, o0, o1, o2, o3);
    avx2_emit(b, base, W, p0, p1, p2, p3);
    if (wa > a->end || wb > b->end) return 0;
  }
  for (int g = 0; g < 4; g++) _mm256_storeu_si256((__m256i *)(a->st + 8 * g), x[g]), _mm256_storeu_si256((__m256i *)(b->st + 8 * g), y[g]);
  a->wp = wa;
  b->wp = wb;
  return 1;
}
#endif

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VBMI__) && defined(__AVX512VBMI2__)
#define HAVE_AVX512 1
/**
 * Sixteen lanes in 32-bit elements: two 64-bit gathers of whole slot records (one load per lane), the entries and head
 * bits picked out by two permutes, the state update, and the words expanded to the renormalising lanes in lane order
 * (vpexpandw). @returns the head bits, one u32 lane each
 */
static INLINE __m512i avx512_lanes16(__m512i *xp, const Table *t, __m128i pbc, const uint8_t *src, size_t *wp) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  __m512i x = *xp;
  __m512i slot = _mm512_and_si512(x, _mm512_set1_epi32((1 << t->pb) - 1));
  __m512i r0 = _mm512_i32gather_epi64(_mm512_castsi512_si256(slot), t->rec, 8);
  __m512i r1 = _mm512_i32gather_epi64(_mm512_extracti64x4_epi64(slot, 1), t->rec, 8);
  __m512i e = _mm512_permutex2var_epi32(r0, even, r1);
  __m512i o = _mm512_permutex2var_epi32(r0, odd, r1);
  x = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_and_si512(e, _mm512_set1_epi32(0xffff)), _mm512_srlv_epi32(x, _mm512_broadcastd_epi32(pbc))), _mm512_srli_epi32(e, 16));
  __mmask16 m = _mm512_cmplt_epu32_mask(x, _mm512_set1_epi32(0x10000));
  __m256i w = _mm256_maskz_expand_epi16(m, _mm256_loadu_si256((const __m256i *)(src + *wp)));
  x = _mm512_mask_or_epi32(x, m, _mm512_slli_epi32(x, 16), _mm512_cvtepu16_epi32(w));
  *wp += (size_t)__builtin_popcount(m) << 1;
  *xp = x;
  return o;
}

/** Thirty-two 6-bit fields (24 bytes at p) as u16 head bits: word k takes bytes ⌊6k/8⌋, ⌊6k/8⌋ + 1, shifted by 6k mod 8. */
static INLINE __m512i avx512_sign32(const uint8_t *p) {
  static const uint8_t pick[64] = {0, 1, 0, 1, 1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 5, 6, 6, 7, 6, 7, 7, 8, 8, 9, 9, 10, 9, 10, 10, 11, 11, 12,
                                   12, 13, 12, 13, 13, 14, 14, 15, 15, 16, 15, 16, 16, 17, 17, 18, 18, 19, 18, 19, 19, 20, 20, 21, 21, 22, 21, 22, 22, 23, 23, 24};
  const __m512i shift = _mm512_set1_epi64(0x0002000400060000ll);
  __m512i v = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)p));
  __m512i f = _mm512_srlv_epi16(_mm512_permutexvar_epi8(_mm512_loadu_si512(pick), v), shift);
  // (f & 0x1f) | ((f << 10) & 0x8000): a bitwise select by the constant 0x001f, then the mask 0x801f.
  return _mm512_and_si512(_mm512_ternarylogic_epi32(_mm512_set1_epi16(0x1f), f, _mm512_slli_epi16(f, 10), 0xCA), _mm512_set1_epi16((short)0x801f));
}

/** Sixteen values for W = 4: head bits o (u32 lanes) | raw head bits s (16 u16), with bytes 1 and 0 below. */
static INLINE void avx512_store_w4(uint8_t *dst, __m512i o, __m256i s, const uint8_t *b1, const uint8_t *b0) {
  __m512i head = _mm512_or_si512(o, _mm512_cvtepu16_epi32(s));
  __m512i lo = _mm512_or_si512(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)b0)), _mm512_slli_epi32(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)b1)), 8));
  _mm512_storeu_si512(dst, _mm512_or_si512(_mm512_slli_epi32(head, 16), lo));
}

/** The 32 values of step `base` from the head bits of lanes 0-15 (oa) and 16-31 (ob), u32 lanes, and the raw planes. */
static INLINE void avx512_emit(const Stream *s, uint32_t base, int W, __m512i oa, __m512i ob) {
  __m512i sg = avx512_sign32(s->raw + (size_t)(base / LANES) * RAW6_STEP);
  if (W == 2) {
    __m512i h = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(oa)), _mm512_cvtepi32_epi16(ob), 1);
    _mm512_storeu_si512(s->out + 2 * (size_t)base, _mm512_or_si512(h, sg));
  } else {
    uint8_t *d = s->out + 4 * (size_t)base;
    avx512_store_w4(d, oa, _mm512_castsi512_si256(sg), s->b1 + base, s->b0 + base);
    avx512_store_w4(d + 64, ob, _mm512_extracti64x4_epi64(sg, 1), s->b1 + base + 16, s->b0 + base + 16);
  }
}

static INLINE int steps_avx512(Stream *s, const Table *t, int W) {
  __m128i pbc = _mm_cvtsi32_si128((int)t->pb);
  __m512i xa = _mm512_loadu_si512(s->st), xb = _mm512_loadu_si512(s->st + 16);
  size_t wp = s->wp;
  for (uint32_t base = 0; base < s->full; base += LANES) {
    __m512i oa = avx512_lanes16(&xa, t, pbc, s->src, &wp);
    __m512i ob = avx512_lanes16(&xb, t, pbc, s->src, &wp);
    avx512_emit(s, base, W, oa, ob);
    if (wp > s->end) return 0;
  }
  _mm512_storeu_si512(s->st, xa);
  _mm512_storeu_si512(s->st + 16, xb);
  s->wp = wp;
  return 1;
}

/** Two chunks of the same length in one loop, 32-bit lanes. */
static INLINE int steps2_avx512(Stream *a, Stream *b, const Table *t, int W) {
  __m128i pbc = _mm_cvtsi32_si128((int)t->pb);
  __m512i xa = _mm512_loadu_si512(a->st), xb = _mm512_loadu_si512(a->st + 16);
  __m512i ya = _mm512_loadu_si512(b->st), yb = _mm512_loadu_si512(b->st + 16);
  size_t wa = a->wp, wb = b->wp;
  for (uint32_t base = 0; base < a->full; base += LANES) {
    __m512i oa = avx512_lanes16(&xa, t, pbc, a->src, &wa);
    __m512i pa = avx512_lanes16(&ya, t, pbc, b->src, &wb);
    __m512i ob = avx512_lanes16(&xb, t, pbc, a->src, &wa);
    __m512i pb = avx512_lanes16(&yb, t, pbc, b->src, &wb);
    avx512_emit(a, base, W, oa, ob);
    avx512_emit(b, base, W, pa, pb);
    if (wa > a->end || wb > b->end) return 0;
  }
  _mm512_storeu_si512(a->st, xa);
  _mm512_storeu_si512(a->st + 16, xb);
  _mm512_storeu_si512(b->st, ya);
  _mm512_storeu_si512(b->st + 16, yb);
  a->wp = wa;
  b->wp = wb;
  return 1;
}

#endif

typedef int (*StepsFn)(Stream *, const Table *);
typedef int (*Steps2Fn)(Stream *, Stream *, const Table *);
/** A way to run the full steps: one chunk at a time, and (pair) two chunks of the same length at once. */
typedef struct {
  const char *name;
  StepsFn w2, w4;
  Steps2Fn pair2, pair4;
} Kernel;

// The kernels specialised for W = 2 and W = 4 (W a constant inside).
#define SPECIALISE(f) \
  static int f##_w2(Stream *s, const Table *t) { return f(s, t, 2); } \
  static int f##_w4(Stream *s, const Table *t) { return f(s, t, 4); }
#define SPECIALISE2(f) \
  static int f##_w2(Stream *a, Stream *b, const Table *t) { return f(a, b, t, 2); } \
  static int f##_w4(Stream *a, Stream *b, const Table *t) { return f(a, b, t, 4); }
SPECIALISE(steps_scalar)
#ifdef __AVX2__
SPECIALISE(steps_avx2)
SPECIALISE2(steps2_avx2)
#endif
#ifdef HAVE_AVX512
SPECIALISE(steps_avx512)
SPECIALISE2(steps2_avx512)
#endif

static const Kernel KERNELS[] = {
    {"scalar", steps_scalar_w2, steps_scalar_w4, NULL, NULL},
#ifdef __AVX2__
    {"avx2", steps_avx2_w2, steps_avx2_w4, NULL, NULL},
    {"avx2 2-chunk", steps_avx2_w2, steps_avx2_w4, steps2_avx2_w2, steps2_avx2_w4},
#endif
#ifdef HAVE_AVX512
    {"avx512", steps_avx512_w2, steps_avx512_w4, NULL, NULL},
    {"avx512 2-chunk", steps_avx512_w2, steps_avx512_w4, steps2_avx512_w2, steps2_avx512_w4},
#endif
};
#define KERNEL_COUNT (sizeof KERNELS / sizeof KERNELS[0])

/** Splits a chunk of n values (`bytes` bytes at c, CHUNK_PAD readable after) into its parts (§6) and loads the lane states. @returns OK or the failure */
static int open_stream(Stream *s, const uint8_t *c, uint32_t bytes, uint32_t n, int W, uint8_t *out) {
  size_t raw6Bytes = ((size_t)n * 6 + 7) / 8;
  size_t rawBytes = raw6Bytes + (W == 4 ? 2 * (size_t)n : 0);
  if (bytes < rawBytes) return BAD_SIZE;
  s->end = bytes - rawBytes;
  if (s->end < 4 * LANES || (s->end - 4 * LANES) % 2) return BAD_SIZE;
  s->src = c;
  s->raw = c + s->end;
  s->b1 = s->raw + raw6Bytes;
  s->b0 = s->b1 + n;
  uint32_t used = (n * 6) % 8;
  if (used && (s->raw[raw6Bytes - 1] >> used)) return BAD_PADDING;
  memcpy(s->st, c, sizeof s->st);
  for (int l = 0; l < LANES; l++)
    if (s->st[l] < 0x10000) return BAD_STATE;
  s->n = n;
  s->full = n & ~(uint32_t)(LANES - 1);
  s->wp = 4 * LANES;
  s->out = out;
  return OK;
}

/** The last partial step (lanes 0 … n − full − 1, one at a time), the end checks of §5.3, and the chunk's WD64 when `digest` is set. */
static int close_stream(Stream *s, int W, const Table *t, int digest, uint64_t want) {
  for (uint32_t i = s->full; i < s->n; i++) {
    uint32_t head = decode_one(&s->st[i - s->full], t, s->src, &s->wp) | raw6(s->raw, i);
    store_value(s->out, W, i, head, s->b1, s->b0);
    if (s->wp > s->end) return ENDS_EARLY;
  }
  if (s->wp != s->end) return WORDS_LEFT;
  for (int l = 0; l < LANES; l++)
    if (s->st[l] != 0x10000) return BAD_FINAL_STATE;
  if (digest && wd64(s->out, (size_t)s->n * W) != want) return BAD_DIGEST;
  return OK;
}

// ---------------------------------------------------------------------------------------------------------------
// The dump, the whole decode, timing

typedef struct {
  uint32_t W;
  uint64_t memberBytes;
  uint32_t segCount;
  Segment *segs;
  uint8_t *container, *original;
  size_t containerBytes;
  char originalPath[4096], containerPath[4096];
} Dump;

static uint8_t *read_file(const char *path, size_t *size, size_t pad) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = calloc((size_t)n + pad, 1);
  if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "%s: read failed\n", path);
    exit(1);
  }
  fclose(f);
  *size = (size_t)n;
  return b;
}

/** Sequential little-endian reads of the dump, each checked against its end. */
typedef struct {
  const uint8_t *p, *end;
} Cursor;
static void need(Cursor *c, size_t n) {
  if ((size_t)(c->end - c->p) < n) {
    fprintf(stderr, "dump truncated\n");
    exit(1);
  }
}
static uint32_t rd32(Cursor *c) {
  need(c, 4);
  uint32_t v;
  memcpy(&v, c->p, 4);
  c->p += 4;
  return v;
}
static uint64_t rd64(Cursor *c) {
  need(c, 8);
  uint64_t v;
  memcpy(&v, c->p, 8);
  c->p += 8;
  return v;
}
static void rdstr(Cursor *c, char *s, size_t cap) {
  uint32_t n = rd32(c);
  need(c, n);
  if (n >= cap) {
    fprintf(stderr, "path too long\n");
    exit(1);
  }
  memcpy(s, c->p, n);
  s[n] = 0;
  c->p += n;
}

static void load_dump(Dump *d, const char *path) {
  size_t size;
  uint8_t *b = read_file(path, &size, 0);
  Cursor c = {b, b + size};
  if (rd32(&c) != 0x314e4357) {
    fprintf(stderr, "%s: not a chunk dump\n", path);
    exit(1);
  }
  d->W = rd32(&c);
  d->memberBytes = rd64(&c);
  d->segCount = rd32(&c);
  rdstr(&c, d->originalPath, sizeof d->originalPath);
  rdstr(&c, d->containerPath, sizeof d->containerPath);
  if (d->W != 2 && d->W != 4) {
    fprintf(stderr, "W = %u\n", d->W);
    exit(1);
  }
  d->segs = calloc(d->segCount, sizeof(Segment));
  for (uint32_t s = 0; s < d->segCount; s++) {
    Segment *g = &d->segs[s];
    g->at = rd64(&c);
    g->bytes = rd64(&c);
    g->kind = rd32(&c);
    if (g->kind != 1) continue;
    g->pb = rd32(&c);
    g->chunkValues = rd32(&c);
    g->chunkCount = rd32(&c);
    for (int k = 0; k < ALPHABET; k++) g->freqs[k] = rd32(&c);
    g->chunks = calloc(g->chunkCount, sizeof(Chunk));
    for (uint32_t k = 0; k < g->chunkCount; k++) {
      g->chunks[k].offset = rd64(&c);
      g->chunks[k].bytes = rd32(&c);
      g->chunks[k].n = rd32(&c);
      g->chunks[k].digest = rd64(&c);
    }
  }
  free(b);
  size_t n;
  d->container = read_file(d->containerPath, &d->containerBytes, CHUNK_PAD);
  d->original = read_file(d->originalPath, &n, 0);
  if (n != d->memberBytes) {
    fprintf(stderr, "original has %zu bytes, dump says %llu\n", n, (unsigned long long)d->memberBytes);
    exit(1);
  }
  for (uint32_t s = 0; s < d->segCount; s++) {
    Segment *g = &d->segs[s];
    if (g->at + g->bytes > d->memberBytes) exit(1);
    for (uint32_t k = 0; g->kind == 1 && k < g->chunkCount; k++) {
      Chunk *ch = &g->chunks[k];
      if (ch->offset + ch->bytes > d->containerBytes || (uint64_t)k * g->chunkValues * d->W + (uint64_t)ch->n * d->W > g->bytes) {
        fprintf(stderr, "chunk %u of segment %u out of range\n", k, s);
        exit(1);
      }
    }
  }
}

static Table TABLE;

/** Decodes the whole member into out: kind 1 segments chunk by chunk, the others copied. @returns OK or the first failure */
static int decode_all(const Dump *d, const Kernel *k, uint8_t *out, int digest) {
  for (uint32_t s = 0; s < d->segCount; s++) {
    const Segment *g = &d->segs[s];
    if (g->kind != 1) {
      memcpy(out + g->at, d->original + g->at, g->bytes);
      continue;
    }
    if (!build_table(&TABLE, g->freqs, g->pb)) return BAD_SIZE;
    const int W = (int)d->W;
    uint8_t *o = out + g->at;
    for (uint32_t c = 0; c < g->chunkCount;) {
      const Chunk *ch = &g->chunks[c];
      Stream a, b;
      int rc = open_stream(&a, d->container + ch->offset, ch->bytes, ch->n, W, o);
      // Two chunks at once where the kernel can and the next chunk has the same length.
      int two = k->pair2 && c + 1 < g->chunkCount && g->chunks[c + 1].n == ch->n;
      if (rc == OK && two) rc = open_stream(&b, d->container + g->chunks[c + 1].offset, g->chunks[c + 1].bytes, ch->n, W, o + (size_t)ch->n * W);
      if (rc == OK) rc = (two ? (W == 2 ? k->pair2 : k->pair4)(&a, &b, &TABLE) : (W == 2 ? k->w2 : k->w4)(&a, &TABLE)) ? OK : ENDS_EARLY;
      if (rc == OK) rc = close_stream(&a, W, &TABLE, digest, ch->digest);
      if (rc == OK && two) rc = close_stream(&b, W, &TABLE, digest, g->chunks[c + 1].digest);
      if (rc != OK) {
        fprintf(stderr, "segment %u chunk %u%s: %s\n", s, c, two ? " (or the next)" : "", ERRORS[rc]);
        return rc;
      }
      o += (size_t)ch->n * W * (two ? 2 : 1);
      c += two ? 2 : 1;
    }
  }
  return OK;
}

/**
 * Flips one random bit in each of `trials` chunks of the first three fused segments and checks that every kernel
 * rejects the chunk (a failed §5.3/§6 check or a WD64 mismatch). @returns 1 when all are rejected
 */
static int corruption_check(Dump *d, uint8_t *out, int trials) {
  Dump small = *d;
  int fused = 0;
  small.segCount = 0;
  while (small.segCount < d->segCount && fused < 3) fused += d->segs[small.segCount++].kind == 1;
  if (fused == 0) return 1;
  FILE *err = stderr;
  stderr = fopen("/dev/null", "w");
  srand(7);
  int ok = 1;
  for (int t = 0; t < trials && ok; t++) {
    const Segment *g;
    do g = &small.segs[rand() % small.segCount];
    while (g->kind != 1);
    const Chunk *ch = &g->chunks[rand() % g->chunkCount];
    size_t pos = ch->offset + (size_t)rand() % ch->bytes;
    uint8_t bit = (uint8_t)(1u << (rand() % 8));
    d->container[pos] ^= bit;
    for (size_t k = 0; k < KERNEL_COUNT; k++) ok &= decode_all(&small, &KERNELS[k], out, 1) != OK;
    d->container[pos] ^= bit;
  }
  fclose(stderr);
  stderr = err;
  return ok;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/** The output buffer of one run: fresh (malloc'd and untouched: glibc maps a block this large anew, and unmaps it on free) or the touched one. */
typedef enum { FRESH, REUSED } Mode;
static const char *const MODE_NAMES[] = {"fresh", "reused"};

#define MAX_CONDITIONS 32
#define MAX_RUNS 101
typedef struct {
  char name[64];
  double t[MAX_RUNS];
  int runs;
} Condition;

/** Keeps the WD64-alone rows from being optimised away. */
static uint64_t digestSink;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DTYPE.chunks [runs]\n", argv[0]);
    return 2;
  }
  int runs = argc > 2 ? atoi(argv[2]) : 7;
  if (runs < 1 || runs > MAX_RUNS) return 2;
  if (!wd64_selftest()) return 1;
#ifdef __AVX2__
  init_route8();
#endif
  Dump d;
  load_dump(&d, argv[1]);
  size_t N = d.memberBytes;
  uint64_t fused = 0, chunks = 0;
  for (uint32_t s = 0; s < d.segCount; s++)
    if (d.segs[s].kind == 1) fused += d.segs[s].bytes, chunks += d.segs[s].chunkCount;
  printf("input %s: %zu bytes, W = %u, %u segments, %llu bytes in %llu chunks of the fused layout\n", d.originalPath, N, d.W, d.segCount, (unsigned long long)fused, (unsigned long long)chunks);
  printf("container %s: %zu bytes (ratio %.4f)\n", d.containerPath, d.containerBytes, (double)N / d.containerBytes);

  uint8_t *reused = malloc(N);
  memset(reused, 0xA5, N);
  // Every kernel once, checked byte for byte against the original (outputs poisoned first).
  for (size_t k = 0; k < KERNEL_COUNT; k++) {
    memset(reused, 0xA5, N);
    if (decode_all(&d, &KERNELS[k], reused, 1) != OK || memcmp(reused, d.original, N) != 0) {
      fprintf(stderr, "kernel %s: wrong output\n", KERNELS[k].name);
      return 1;
    }
  }

  if (!corruption_check(&d, reused, 40)) {
    fprintf(stderr, "a kernel accepted a chunk with a bit flipped\n");
    return 1;
  }
  printf("every kernel: output equal to the original; 40 chunks with one bit flipped, each rejected\n");

  // zstd -3 one-shot, on the same original bytes (no checksum: ZSTD_compress's defaults).
  size_t zcap = ZSTD_compressBound(N);
  uint8_t *z = malloc(zcap);
  double t0 = now();
  size_t zbytes = ZSTD_compress(z, zcap, d.original, N, 3);
  double tz = now() - t0;
  if (ZSTD_isError(zbytes)) {
    fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(zbytes));
    return 1;
  }
  unsigned zv = ZSTD_versionNumber();
  printf("zstd %u.%u.%u -3: %zu bytes (ratio %.4f), compress %.0f MB/s\n", zv / 10000, zv / 100 % 100, zv % 100, zbytes, (double)N / zbytes, N / tz / 1e6);
  ZSTD_DCtx *dctx = ZSTD_createDCtx();

  // The first two chunks of the first segment that has two, decoded again and again into a small output (both stay in
  // cache): the kernel's speed without memory traffic, over as many bytes as the whole member.
  const Segment *hotSeg = NULL;
  for (uint32_t s = 0; s < d.segCount && !hotSeg; s++)
    if (d.segs[s].kind == 1 && d.segs[s].chunkCount >= 2 && d.segs[s].chunks[0].n == d.segs[s].chunks[1].n) hotSeg = &d.segs[s];
  size_t hotBytes = hotSeg ? 2 * (size_t)hotSeg->chunks[0].n * d.W : 0;
  uint8_t *hot = hotSeg ? malloc(hotBytes) : NULL;
  Dump hotDump = d;
  if (hotSeg) {
    static Segment one;
    one = *hotSeg;
    one.at = 0;
    one.bytes = hotBytes;
    one.chunkCount = 2;
    hotDump.segs = &one;
    hotDump.segCount = 1;
    memset(hot, 0, hotBytes);
  }

  // Conditions, each run once per round (after one warm-up round), round after round, so that load from other
  // processes spreads over all of them.
  enum { C_NATIVE, C_NATIVE_NODIGEST, C_NATIVE_HOT, C_ZSTD, C_MEMSET, C_DIGEST };
  Condition cond[MAX_CONDITIONS];
  struct { int what; Mode mode; int kernel; } spec[MAX_CONDITIONS];
  int nc = 0;
#define ADD(W_, M_, K_, ...) (spec[nc].what = (W_), spec[nc].mode = (M_), spec[nc].kernel = (K_), snprintf(cond[nc].name, sizeof cond[nc].name, __VA_ARGS__), cond[nc].runs = 0, nc++)
  // The last kernel of KERNELS is the fastest where it is compiled in (the reused rows compare them all).
  const int best = (int)KERNEL_COUNT - 1;
  for (Mode m = FRESH; m <= REUSED; m++) ADD(C_NATIVE, m, best, "native %s, %s", KERNELS[best].name, MODE_NAMES[m]);
  for (Mode m = FRESH; m <= REUSED; m++) ADD(C_ZSTD, m, 0, "zstd -3 decode, %s", MODE_NAMES[m]);
  for (int k = 0; k < best; k++) ADD(C_NATIVE, REUSED, k, "native %s, reused", KERNELS[k].name);
#ifdef __AVX2__
  ADD(C_NATIVE, FRESH, 1, "native %s, fresh", KERNELS[1].name);
#endif
  ADD(C_NATIVE_NODIGEST, REUSED, best, "native %s, reused, no WD64", KERNELS[best].name);
  if (hotSeg) ADD(C_NATIVE_HOT, REUSED, best, "native %s, in cache, no WD64", KERNELS[best].name);
  ADD(C_DIGEST, REUSED, 0, "WD64 alone, touched");
  for (Mode m = FRESH; m <= REUSED; m++) ADD(C_MEMSET, m, 0, "memset, %s", MODE_NAMES[m]);

  for (int r = -1; r < runs; r++) {
    for (int c = 0; c < nc; c++) {
      uint8_t *o = reused;
      double a = now();
      if (spec[c].mode == FRESH && !(o = malloc(N))) {
        fprintf(stderr, "%s: no memory\n", cond[c].name);
        return 1;
      }
      int ok = 1;
      switch (spec[c].what) {
      case C_NATIVE: ok = decode_all(&d, &KERNELS[spec[c].kernel], o, 1) == OK; break;
      case C_NATIVE_NODIGEST: ok = decode_all(&d, &KERNELS[spec[c].kernel], o, 0) == OK; break;
      case C_NATIVE_HOT:
        for (size_t done = 0; ok && done < N; done += hotBytes) ok = decode_all(&hotDump, &KERNELS[spec[c].kernel], hot, 0) == OK;
        break;
      case C_ZSTD: ok = ZSTD_decompressDCtx(dctx, o, N, z, zbytes) == N; break;
      case C_MEMSET: memset(o, r & 0xff, N); break;
      case C_DIGEST: digestSink += wd64(o, N); break;
      }
      double b = now();
      if (!ok) {
        fprintf(stderr, "%s failed\n", cond[c].name);
        return 1;
      }
      // Outputs checked in full after the warm-up and the last round (outside the timing).
      int decodes = spec[c].what == C_NATIVE || spec[c].what == C_NATIVE_NODIGEST || spec[c].what == C_ZSTD;
      if (decodes && (r == -1 || r == runs - 1) && memcmp(o, d.original, N) != 0) {
        fprintf(stderr, "%s: output differs from the original\n", cond[c].name);
        return 1;
      }
      if (spec[c].mode == FRESH) free(o);
      if (r >= 0) cond[c].t[cond[c].runs++] = b - a;
    }
  }
  printf("%-40s %10s %10s %10s   (MB/s of original bytes, %d runs)\n", "condition", "median", "min", "max", runs);
  for (int c = 0; c < nc; c++) {
    double *t = cond[c].t;
    qsort(t, (size_t)cond[c].runs, sizeof(double), cmp_double);
    double med = t[cond[c].runs / 2];
    printf("%-40s %10.0f %10.0f %10.0f\n", cond[c].name, N / med / 1e6, N / t[cond[c].runs - 1] / 1e6, N / t[0] / 1e6);
  }
  printf("(sum of the WD64 rows' digests: %016llx)\n", (unsigned long long)digestSink);
  return 0;
}
