// CUDA twin of the WGSL chunk decoders (src/gpu/decode.wgsl, decode_chunks, and the lean kernel, decode-lean.wgsl with
// lean-step.wgsl, both with the subgroup lane primitives of src/gpu/lanes-subgroup.wgsl; FORMAT.md §4.2, §5.3, §6),
// statement for statement, so that the same algorithm can be timed as nvcc compiles it. The inputs come from
// dump-plan.ts (its --lean plans use the lean kernel where decodeToGPU does); bench/gpu-twin/run.sh builds and runs both.
//
// Build: nvcc -O3 -arch=sm_90 -lineinfo -o decode-twin decode-twin.cu
//   -DTWIN_SPECS='"DIR/specs.inc"'  also specialise the classes dump-plan.ts listed there (TWIN_SPEC lines)
//   -DTWIN_GROUPS=G -DTWIN_CHUNKS_PER_GROUP=C  the WGSL's GROUPS and CHUNKS_PER_GROUP (default 8 and 1; the plan must match)
//   -DTWIN_NO_RESTRICT  read-only bindings without __restrict__ (then the compiler may not use the read-only path)
// Usage: decode-twin OUTDIR [REPS=10]
//   Decodes once into an output poisoned with 0xA5 and checks every live job's status word (exactly DONE) and the
//   output against expected.bin byte for byte; then times the dispatches: REPS passes over all of them back to back
//   per batch (each pass clears the status words first, as bench/gpu.ts does), 3 batches, best batch / REPS between
//   two CUDA events; the same per dispatch; then checks status and output again. Prints one JSON line: kernel, dtypes,
//   bytes (original bytes decoded), ms and GBps (all dispatches), exact, bad_status (status words not DONE), bad_jobs
//   (the first 5 live jobs whose word is not DONE), mismatched_bytes (and the job holding the first), after_timing,
//   and per dispatch its class, ms, registers, local memory and resident blocks per SM. Exit status 2 when not exact.
//
// Differences from the WGSL that are not the compiler's: the output window and input slab are pointers into one
// allocation each (dump-plan.ts concatenates slabs and buffers); array reads are not bounds-checked (Dawn's robustness
// clamps them), so the input allocation carries INPUT_SLACK zero bytes past its end for the window's read-ahead;
// TABLE_WORDS is the size of the dynamic shared memory (same occupancy) and a kernel argument; @workgroup_size becomes
// __launch_bounds__; the gather store path (PAIRED_STORES = false, benchmarks only) is left out.

#include <cuda_runtime.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#ifndef TWIN_GROUPS
#define TWIN_GROUPS 8
#endif
#ifndef TWIN_CHUNKS_PER_GROUP
#define TWIN_CHUNKS_PER_GROUP 1
#endif
#ifdef TWIN_NO_RESTRICT
#define RESTRICT
#else
#define RESTRICT __restrict__
#endif

#define CK(call)                                                                                          \
  do {                                                                                                    \
    cudaError_t e_ = (call);                                                                              \
    if (e_ != cudaSuccess) {                                                                              \
      fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_));      \
      exit(1);                                                                                            \
    }                                                                                                     \
  } while (0)

// decode.wgsl's names, kernels.ts's replacements for the subgroup variant.
constexpr uint32_t GROUPS = TWIN_GROUPS;
constexpr uint32_t CHUNKS_PER_GROUP = TWIN_CHUNKS_PER_GROUP;
constexpr uint32_t JOBS_PER_WORKGROUP = GROUPS * CHUNKS_PER_GROUP;
constexpr uint32_t WORKGROUP_SIZE = 32 * GROUPS;
static_assert(GROUPS >= 1 && GROUPS <= 8, "GROUPS is 1 to 8 (kernels.ts groupsPerWorkgroup)");
static_assert(CHUNKS_PER_GROUP >= 1 && CHUNKS_PER_GROUP <= 64, "CHUNKS_PER_GROUP is 1 to 64");

constexpr uint32_t JOB_WORDS = 8;
constexpr uint32_t SEG_WORDS = 8;
constexpr uint32_t PLANE_WORDS = 8;
constexpr uint32_t STATE_LOW = 65536;
constexpr uint32_t HOISTED_PLANES = 4;
constexpr uint32_t WINDOW_SHIFT = 64;
constexpr uint32_t DONE = 1;
constexpr uint32_t BAD_START_STATE = 2;
constexpr uint32_t RAN_OUT = 4;
constexpr uint32_t WORDS_LEFT = 8;
constexpr uint32_t BAD_END_STATE = 16;
constexpr uint32_t RAW_PADDING = 128;
constexpr uint32_t NO_STATUS = 0xffffffffu;
constexpr uint32_t FULL = 0xffffffffu;
/** Zero bytes allocated past the input: the window reads up to 192 bytes past the read position. */
constexpr size_t INPUT_SLACK = 4096;

// A class of segments as template arguments (kernels.ts KernelSpec, packed as dump-plan.ts packPlanes: per plane
// flags | (rawIndex + 1) << 8 | (rawBits + 1) << 16 | (byteIndex + 1) << 24, a field 0 where the spec has none).
template <uint32_t W_, uint32_t P_, uint32_t K_, bool CODED_, uint32_t P0, uint32_t P1, uint32_t P2, uint32_t P3>
struct Spec {
  static constexpr bool GENERIC = false;
  static constexpr uint32_t W = W_, PLANES = P_, K = K_;
  static constexpr bool CODED = CODED_;
  static_assert(P_ <= HOISTED_PLANES, "a specialised class has at most HOISTED_PLANES planes");
  __host__ __device__ static constexpr uint32_t plane(uint32_t p) { return p == 0 ? P0 : p == 1 ? P1 : p == 2 ? P2 : P3; }
};
// The generic kernel: the class constants are read from the segment descriptor (kernels.ts specText(undefined)).
struct Generic {
  static constexpr bool GENERIC = true;
  static constexpr uint32_t W = 0, PLANES = 0, K = 0;
  static constexpr bool CODED = false;
  __host__ __device__ static constexpr uint32_t plane(uint32_t) { return 0; }
};

// var<workgroup> wg_tab: array<u32, TABLE_WORDS>, sized at launch to the plan's TABLE_WORDS.
extern __shared__ uint32_t wg_tab[];

struct Window {
  uint32_t w0, w1, w2, at;
};

// vec3<u32> (head bits, bytes 0-3, bytes 4-7).
struct Bits {
  uint32_t x, y, z;
};

__device__ __forceinline__ uint32_t load_u8(const uint32_t* RESTRICT input, uint32_t a) {
  return (input[a >> 2u] >> ((a & 3u) * 8u)) & 0xffu;
}

__device__ __forceinline__ uint32_t load_u16(const uint32_t* RESTRICT input, uint32_t a) {
  const uint32_t q = a >> 2u;
  const uint32_t sh = (a & 3u) * 8u;
  if (sh <= 16u) {
    return (input[q] >> sh) & 0xffffu;
  }
  return ((input[q] >> 24u) | (input[q + 1u] << 8u)) & 0xffffu;
}

__device__ __forceinline__ uint32_t load_u32(const uint32_t* RESTRICT input, uint32_t a) {
  const uint32_t q = a >> 2u;
  const uint32_t sh = (a & 3u) * 8u;
  if (sh == 0u) {
    return input[q];
  }
  return (input[q] >> sh) | (input[q + 1u] << (32u - sh));
}

// WGSL's atomicStore of a whole word becomes a plain 32-bit store (no other invocation writes that word).
__device__ __forceinline__ void store_masked(uint32_t* output, uint32_t q, uint32_t bits, uint32_t mask) {
  if (mask == 0xffffffffu) {
    output[q] = bits;
  } else if (mask != 0u) {
    atomicAnd(&output[q], ~mask);
    atomicOr(&output[q], bits & mask);
  }
}

__device__ __forceinline__ uint32_t raw_plane_bytes(uint32_t n, uint32_t b) {
  return (n * b + 7u) >> 3u;
}

__device__ __forceinline__ uint32_t load_raw_symbol(const uint32_t* RESTRICT input, uint32_t plane_at, uint32_t i, uint32_t b) {
  if (b == 8u) {
    return load_u8(input, plane_at + i);
  }
  const uint32_t bit = i * b;
  return (load_u16(input, plane_at + (bit >> 3u)) >> (bit & 7u)) & ((1u << b) - 1u);
}

__device__ __forceinline__ bool raw_padding_zero(const uint32_t* RESTRICT input, uint32_t plane_at, uint32_t n, uint32_t b) {
  const uint32_t used = (n * b) & 7u;
  return used == 0u || (load_u8(input, plane_at + ((n * b) >> 3u)) >> used) == 0u;
}

__device__ __forceinline__ uint32_t low_bytes(uint32_t count) {
  if (count >= 4u) {
    return 0xffffffffu;
  }
  return (1u << (count * 8u)) - 1u;
}

// decode.wgsl decode_plane: pointers become references; lane_ballot is __ballot_sync, lane_shuffle __shfl_sync,
// countOneBits __popc, select(f, t, c) c ? t : f. Every lane of the warp calls it.
__device__ __forceinline__ Bits decode_plane(uint4 fa, uint4 fb, bool on, uint32_t l, uint32_t below, uint32_t i, uint32_t plane_at,
                                             uint32_t stream_end, uint32_t& x, uint32_t& rp, Window& win, uint32_t& err,
                                             const uint32_t* RESTRICT input, const uint2* RESTRICT entries,
                                             const uint32_t* RESTRICT descs) {
  uint32_t sym = 0u;
  if ((fa.x & 1u) != 0u) {
    const uint32_t pb = fa.z;
    const uint32_t slot = x & ((1u << pb) - 1u);
    uint32_t y = 0u;
    if ((fa.x & 4u) != 0u) {
      sym = (wg_tab[fb.x + (slot >> 1u)] >> ((slot & 1u) * 16u)) & 0xffffu;
      const uint32_t fc = wg_tab[fb.y + sym];
      y = (fc & 0xffffu) * (x >> pb) + slot - (fc >> 16u);
    } else {
      const uint2 e = entries[fa.y + slot];
      sym = e.x & 0xffffu;
      y = e.y * (x >> pb) + (e.x >> 16u);
    }
    const bool need = on && y < STATE_LOW;
    const uint32_t mask = __ballot_sync(FULL, need);
    const uint32_t k = (rp - win.at) / 2u + __popc(mask & below);
    const uint32_t a = __shfl_sync(FULL, win.w0, k & 31u);
    const uint32_t b = __shfl_sync(FULL, win.w1, k & 31u);
    // Branch-free, so that the group never diverges between its lockstep operations.
    const bool fits = rp + 2u * __popc(mask & below) + 2u <= stream_end;
    y = (need && fits) ? ((y << 16u) | (k >= 32u ? b : a)) : y;
    err |= (need && !fits) ? RAN_OUT : 0u;
    rp += 2u * __popc(mask);
    if (rp - win.at >= WINDOW_SHIFT) {
      win.w0 = win.w1;
      win.w1 = win.w2;
      win.at += WINDOW_SHIFT;
      win.w2 = load_u16(input, win.at + 2u * WINDOW_SHIFT + 2u * l);
    }
    x = on ? y : x;
  } else if (on) {
    sym = load_raw_symbol(input, plane_at, i, fa.z);
  }
  if ((fa.x & 2u) != 0u) {
    if ((fa.x & 8u) != 0u) {
      const uint32_t lo1 = fb.z & 0xffu;
      const uint32_t w1 = (fb.z >> 8u) & 0xffu;
      const uint32_t lo2 = (fb.z >> 16u) & 0xffu;
      const uint32_t w2 = fb.z >> 24u;
      const uint32_t h = ((sym & ((1u << w2) - 1u)) << lo2) | (((sym >> w2) & ((1u << w1) - 1u)) << lo1);
      return Bits{h, 0u, 0u};
    }
    return Bits{descs[fa.w + sym], 0u, 0u};
  }
  if (fa.w < 4u) {
    return Bits{0u, sym << (8u * fa.w), 0u};
  }
  return Bits{0u, 0u, sym << (8u * (fa.w - 4u))};
}

// decode.wgsl decode_chunks. The Params uniform becomes the arguments job_count, groups_x, job_base; table_words is
// TABLE_WORDS. Workgroup = block of WORKGROUP_SIZE threads, workgroup_id = blockIdx, local_invocation_index =
// threadIdx.x, subgroup_invocation_id = threadIdx.x % 32 (a warp is 32 consecutive threads of a 1-D block, so
// LANE_LAYOUT_BROKEN is false and no LANE_LAYOUT bit is set).
template <class S>
__global__ void __launch_bounds__(WORKGROUP_SIZE)
    decode_chunks(const uint32_t* RESTRICT input, uint32_t* output, const uint2* RESTRICT entries, const uint32_t* RESTRICT descs,
                  const uint32_t* RESTRICT jobs, uint32_t* status, uint32_t job_count, uint32_t groups_x, uint32_t job_base,
                  uint32_t table_words) {
  const uint32_t li = threadIdx.x;
  const uint32_t g = li / 32u;
  const uint32_t l = li & 31u;
  const uint32_t first = (blockIdx.y * groups_x + blockIdx.x) * JOBS_PER_WORKGROUP;
  if (first >= job_count) {
    return;
  }
  const uint32_t seg = jobs[(job_base + first) * JOB_WORDS];

  const uint32_t image_at = descs[seg + 4u];
  const uint32_t image_words = min(descs[seg + 5u], table_words);
  for (uint32_t k = li; k < image_words; k += WORKGROUP_SIZE) {
    wg_tab[k] = descs[image_at + k];
  }
  __syncthreads();

  uint32_t W, plane_count, K;
  bool coded;
  if constexpr (S::GENERIC) {
    W = descs[seg];
    plane_count = descs[seg + 1u];
    K = descs[seg + 2u];
    coded = descs[seg + 3u] > 0u;
  } else {
    W = S::W;
    plane_count = S::PLANES;
    K = S::K;
    coded = S::CODED;
  }
  const uint32_t below = (1u << l) - 1u;
  const uint32_t step_bytes = K * W;
  uint4 hoisted_a[HOISTED_PLANES] = {};
  uint4 hoisted_b[HOISTED_PLANES] = {};
  for (uint32_t p = 0u; p < min(plane_count, HOISTED_PLANES); p++) {
    const uint32_t pd = seg + SEG_WORDS + p * PLANE_WORDS;
    hoisted_a[p] = make_uint4(descs[pd], descs[pd + 1u], descs[pd + 2u], descs[pd + 3u]);
    hoisted_b[p] = make_uint4(descs[pd + 4u], descs[pd + 5u], descs[pd + 6u], descs[pd + 7u]);
  }
  // SPEC_PLANE_WORDS: the class's per-plane constants over the loaded descriptor words.
  if constexpr (!S::GENERIC) {
#pragma unroll
    for (uint32_t p = 0u; p < S::PLANES; p++) {
      const uint32_t v = S::plane(p);
      hoisted_a[p].x = v & 0xffu;
      if (((v >> 8u) & 0xffu) != 0u) hoisted_a[p].y = ((v >> 8u) & 0xffu) - 1u;
      if (((v >> 16u) & 0xffu) != 0u) hoisted_a[p].z = ((v >> 16u) & 0xffu) - 1u;
      if ((v >> 24u) != 0u) hoisted_a[p].w = (v >> 24u) - 1u;
    }
  }

  for (uint32_t c = 0u; c < CHUNKS_PER_GROUP; c++) {
    const uint32_t job = first + c * GROUPS + g;
    const uint32_t jb = (job_base + min(job, job_count - 1u)) * JOB_WORDS;
    const uint32_t chunk_at = jobs[jb + 1u];
    const uint32_t stream_bytes = jobs[jb + 2u];
    uint32_t n = jobs[jb + 3u];
    const uint32_t out_at = jobs[jb + 4u];
    const uint32_t status_index = jobs[jb + 5u];
    const bool live = job < job_count && status_index != NO_STATUS;
    if (!live) {
      n = 0u;
    }
    uint32_t err = 0u;

    uint32_t x = STATE_LOW;
    if (coded && l < K && live) {
      x = load_u32(input, chunk_at + 4u * l);
      if (x < STATE_LOW) {
        err |= BAD_START_STATE;
      }
    }
    uint32_t rp = chunk_at + 4u * K;
    Window win = {load_u16(input, rp + 2u * l), load_u16(input, rp + WINDOW_SHIFT + 2u * l),
                  load_u16(input, rp + 2u * WINDOW_SHIFT + 2u * l), rp};
    const uint32_t stream_end = chunk_at + stream_bytes;
    const uint32_t raw_at = chunk_at + stream_bytes;
    uint32_t raw_base[HOISTED_PLANES];
    uint32_t rb = raw_at;
    for (uint32_t p = 0u; p < HOISTED_PLANES; p++) {
      raw_base[p] = rb;
      if (p < plane_count && (hoisted_a[p].x & 1u) == 0u) {
        rb += raw_plane_bytes(n, hoisted_a[p].z);
      }
    }
    if (l == 0u) {
      rb = raw_at;
      for (uint32_t p = 0u; p < plane_count; p++) {
        const uint32_t pd = seg + SEG_WORDS + p * PLANE_WORDS;
        if ((descs[pd] & 1u) == 0u) {
          if (!raw_padding_zero(input, rb, n, descs[pd + 2u])) {
            err |= RAW_PADDING;
          }
          rb += raw_plane_bytes(n, descs[pd + 2u]);
        }
      }
    }
    const bool aligned = (out_at & 3u) == 0u && (step_bytes & 3u) == 0u;
    const uint32_t steps = (n + K - 1u) / K;

    for (uint32_t s = 0u; s < steps; s++) {
      const uint32_t i = s * K + l;
      const bool on = l < K && i < n;
      Bits bits = {0u, 0u, 0u};
      if (plane_count <= HOISTED_PLANES) {
        for (uint32_t p = 0u; p < HOISTED_PLANES; p++) {
          if (p < plane_count) {
            const Bits d = decode_plane(hoisted_a[p], hoisted_b[p], on, l, below, i, raw_base[p], stream_end, x, rp, win, err, input, entries, descs);
            bits.x |= d.x;
            bits.y |= d.y;
            bits.z |= d.z;
          }
        }
      } else {
        uint32_t plane_at = raw_at;
        for (uint32_t p = 0u; p < plane_count; p++) {
          const uint32_t pd = seg + SEG_WORDS + p * PLANE_WORDS;
          const uint4 fa = make_uint4(descs[pd], descs[pd + 1u], descs[pd + 2u], descs[pd + 3u]);
          const uint4 fb = make_uint4(descs[pd + 4u], descs[pd + 5u], descs[pd + 6u], descs[pd + 7u]);
          const Bits d = decode_plane(fa, fb, on, l, below, i, plane_at, stream_end, x, rp, win, err, input, entries, descs);
          bits.x |= d.x;
          bits.y |= d.y;
          bits.z |= d.z;
          if ((fa.x & 1u) == 0u) {
            plane_at += raw_plane_bytes(n, fa.z);
          }
        }
      }
      const uint32_t head = bits.x;
      uint32_t lo = bits.y;
      uint32_t hi = bits.z;
      if (W <= 2u) {
        lo = head;
      } else if (W == 4u) {
        lo |= head << 16u;
      } else {
        hi |= head << 16u;
      }

      const uint32_t step_at = out_at + s * step_bytes;
      const uint32_t valid = min(n - min(s * K, n), K);
      if (aligned && W >= 4u) {
        if (on) {
          const uint32_t q = (step_at >> 2u) + l * (W >> 2u);
          output[q] = lo;  // WGSL atomicStore of a whole word: a plain 32-bit store
          if (W == 8u) {
            output[q + 1u] = hi;
          }
        }
      } else if (aligned) {
        // PAIRED_STORES (W = 1 or 2): butterflies over lanes l ^ 1 and (W = 1) l ^ 2.
        const uint32_t per = 4u / W;
        uint32_t word = lo | (__shfl_sync(FULL, lo, l ^ 1u) << (8u * W));
        if (W == 1u) {
          word = (word & 0xffffu) | (__shfl_sync(FULL, word, l ^ 2u) << 16u);
        }
        if ((l & (per - 1u)) == 0u && l < valid) {
          store_masked(output, (step_at >> 2u) + l / per, word, low_bytes((valid - l) * W));
        }
      } else if (on) {
        const uint32_t a = step_at + l * W;
        for (uint32_t b = 0u; b < W; b++) {
          // WGSL computes lo >> 8b for every b and then replaces it for b >= 4 (its shifts take the amount mod 32;
          // C++'s are undefined past 31), so the choice comes first here.
          const uint32_t byte = b < 4u ? (lo >> (8u * b)) & 0xffu : (hi >> (8u * (b - 4u))) & 0xffu;
          const uint32_t ab = a + b;
          const uint32_t sh = (ab & 3u) * 8u;
          store_masked(output, ab >> 2u, byte << sh, 0xffu << sh);
        }
      }
    }

    if (coded && live) {
      if (l < K && x != STATE_LOW) {
        err |= BAD_END_STATE;
      }
      if (l == 0u && rp != stream_end) {
        err |= WORDS_LEFT;
      }
    }
    if (live) {
      if (err != 0u) {
        atomicOr(&status[status_index], err);
      }
      if (l == 0u) {
        atomicOr(&status[status_index], DONE);
      }
    }
  }
}

// ---- the lean kernel (decode-lean.wgsl, lean-step.wgsl) ----

// A lean class (kernels.ts LeanSpec) as packed by dump-plan.ts packLean: P0 = pb | sb << 8 | fb << 16 | rawBits << 24,
// P1 = the coded plane's (lo1, w1, lo2, w2), P2 = the raw plane's, P3 = byte planes | byte0 << 8 | byte1 << 16.
template <uint32_t W_, uint32_t P0, uint32_t P1, uint32_t P2, uint32_t P3>
struct Lean {
  static constexpr uint32_t W = W_;
  static constexpr uint32_t PB = P0 & 0xffu, SB = (P0 >> 8) & 0xffu, FB = (P0 >> 16) & 0xffu, R_BITS = P0 >> 24;
  static constexpr uint32_t C_LO1 = P1 & 0xffu, C_W1 = (P1 >> 8) & 0xffu, C_LO2 = (P1 >> 16) & 0xffu, C_W2 = P1 >> 24;
  static constexpr uint32_t R_LO1 = P2 & 0xffu, R_W1 = (P2 >> 8) & 0xffu, R_LO2 = (P2 >> 16) & 0xffu, R_W2 = P2 >> 24;
  static constexpr uint32_t BYTE_PLANES = P3 & 0xffu, BYTE0 = (P3 >> 8) & 0xffu, BYTE1 = (P3 >> 16) & 0xffu;
  static_assert(SB + FB < 32, "a packed slot entry keeps bits for its bias");
};

// lean-step.wgsl word_bits: the 32 bits of the input that start `bit` bits after the start of word q.
__device__ __forceinline__ uint32_t lean_word_bits(const uint32_t* RESTRICT input, uint32_t q, uint32_t bit) {
  const uint32_t w = q + (bit >> 5u);
  const uint32_t sh = bit & 31u;
  return (input[w] >> sh) | ((input[w + 1u] << 1u) << (31u - sh));
}

__device__ __forceinline__ uint32_t lean_bits_at(const uint32_t* RESTRICT input, uint32_t byte, uint32_t bit) {
  return lean_word_bits(input, byte >> 2u, (byte & 3u) * 8u + bit);
}

__device__ __forceinline__ uint32_t lean_deposit(uint32_t sym, uint32_t lo1, uint32_t w1, uint32_t lo2, uint32_t w2) {
  return (((sym >> w2) & ((1u << w1) - 1u)) << lo1) | ((sym & ((1u << w2) - 1u)) << lo2);
}

// lean-step.wgsl's per-invocation state (its var<private>s).
struct LeanState {
  uint32_t x, cq, sp, sp_end, rq, rbit, pq, pbit, pn;
};

// lean-step.wgsl lean_begin.
template <class S>
__device__ __forceinline__ uint32_t lean_begin(const uint32_t* RESTRICT input, LeanState& st, uint32_t chunk_at, uint32_t stream_bytes, uint32_t n,
                                               uint32_t l, bool live) {
  constexpr uint32_t LANES = 32u;
  uint32_t err = 0u;
  st.x = lean_bits_at(input, chunk_at, 32u * l);
  if (live && st.x < STATE_LOW) err |= BAD_START_STATE;
  if (!live) st.x = STATE_LOW;
  st.cq = chunk_at >> 2u;
  st.sp = (chunk_at & 3u) * 8u + 8u * 4u * LANES;
  st.sp_end = (chunk_at & 3u) * 8u + 8u * stream_bytes;
  const uint32_t raw_at = chunk_at + stream_bytes;
  st.rq = raw_at >> 2u;
  st.rbit = (raw_at & 3u) * 8u + l * S::R_BITS;
  const uint32_t used = (n * S::R_BITS) & 7u;
  if (l == 0u && used != 0u && (lean_bits_at(input, raw_at, n * S::R_BITS) & ((1u << (8u - used)) - 1u)) != 0u) err |= RAW_PADDING;
  const uint32_t planes_at = raw_at + ((n * S::R_BITS + 7u) >> 3u);
  st.pq = planes_at >> 2u;
  st.pbit = (planes_at & 3u) * 8u + 8u * l;
  st.pn = 8u * n;
  return err;
}

// lean-step.wgsl decode_value.
template <class S>
__device__ __forceinline__ uint32_t lean_value(const uint32_t* RESTRICT input, LeanState& st, bool on, uint32_t below) {
  constexpr uint32_t LANES = 32u;
  const uint32_t e = wg_tab[st.x & ((1u << S::PB) - 1u)];
  const uint32_t sym = e & ((1u << S::SB) - 1u);
  uint32_t y = (((e >> S::SB) & ((1u << S::FB) - 1u)) + 1u) * (st.x >> S::PB) + (e >> (S::SB + S::FB));
  const bool need = on && y < STATE_LOW;
  const uint32_t mask = __ballot_sync(FULL, need);
  const uint32_t word = lean_word_bits(input, st.cq, st.sp + 16u * __popc(mask & below)) & 0xffffu;
  y = need ? ((y << 16u) | word) : y;
  st.sp += 16u * __popc(mask);
  st.x = on ? y : st.x;
  uint32_t head = lean_deposit(sym, S::C_LO1, S::C_W1, S::C_LO2, S::C_W2);
  const uint32_t r = lean_word_bits(input, st.rq, st.rbit) & ((1u << S::R_BITS) - 1u);
  st.rbit += LANES * S::R_BITS;
  head |= lean_deposit(r, S::R_LO1, S::R_W1, S::R_LO2, S::R_W2);
  if (S::W == 2u) return head;
  uint32_t v = head << 16u;
  if (S::BYTE_PLANES >= 1u) v |= (lean_word_bits(input, st.pq, st.pbit) & 0xffu) << (8u * S::BYTE0);
  if (S::BYTE_PLANES >= 2u) v |= (lean_word_bits(input, st.pq, st.pbit + st.pn) & 0xffu) << (8u * S::BYTE1);
  st.pbit += 8u * LANES;
  return v;
}

// lean-step.wgsl lean_end.
__device__ __forceinline__ uint32_t lean_end(const LeanState& st, uint32_t l) {
  uint32_t err = 0u;
  if (st.x != STATE_LOW) err |= BAD_END_STATE;
  if (l == 0u && st.sp > st.sp_end) err |= RAN_OUT;
  if (l == 0u && st.sp < st.sp_end) err |= WORDS_LEFT;
  return err;
}

// decode-lean.wgsl store_full (whole words by plain stores, as the WGSL's atomicStore).
template <class S>
__device__ __forceinline__ void lean_store_full(uint32_t* output, uint32_t v, uint32_t l, uint32_t q0) {
  if (S::W == 4u) {
    output[q0 + l] = v;
    return;
  }
  const uint32_t word = v | (__shfl_sync(FULL, v, l ^ 1u) << 16u);
  if ((l & 1u) == 0u) output[q0 + (l >> 1u)] = word;
}

// decode-lean.wgsl store_last.
template <class S>
__device__ __forceinline__ void lean_store_last(uint32_t* output, uint32_t v, uint32_t l, uint32_t q0, uint32_t valid) {
  if (S::W == 4u) {
    if (l < valid) output[q0 + l] = v;
    return;
  }
  const uint32_t word = v | (__shfl_sync(FULL, v, l ^ 1u) << 16u);
  if ((l & 1u) == 0u && l < valid) {
    const uint32_t q = q0 + (l >> 1u);
    if (l + 1u < valid) {
      output[q] = word;
    } else {
      atomicAnd(&output[q], 0xffff0000u);
      atomicOr(&output[q], word & 0xffffu);
    }
  }
}

// decode-lean.wgsl decode_chunks, with the arguments of decode_chunks (entries unused).
template <class S>
__global__ void __launch_bounds__(WORKGROUP_SIZE)
    lean_chunks(const uint32_t* RESTRICT input, uint32_t* output, const uint2* RESTRICT, const uint32_t* RESTRICT descs,
                const uint32_t* RESTRICT jobs, uint32_t* status, uint32_t job_count, uint32_t groups_x, uint32_t job_base, uint32_t table_words) {
  constexpr uint32_t LANES = 32u;
  const uint32_t li = threadIdx.x;
  const uint32_t g = li / 32u;
  const uint32_t l = li & 31u;
  const uint32_t first = (blockIdx.y * groups_x + blockIdx.x) * JOBS_PER_WORKGROUP;
  if (first >= job_count) return;
  const uint32_t seg = jobs[(job_base + first) * JOB_WORDS];
  const uint32_t image_at = descs[seg + 4u];
  const uint32_t image_words = min(descs[seg + 5u], table_words);
  for (uint32_t k = li; k < image_words; k += WORKGROUP_SIZE) wg_tab[k] = descs[image_at + k];
  __syncthreads();

  const uint32_t below = (1u << l) - 1u;
  for (uint32_t c = 0; c < CHUNKS_PER_GROUP; c++) {
    const uint32_t job = first + c * GROUPS + g;
    const uint32_t jb = (job_base + min(job, job_count - 1u)) * JOB_WORDS;
    const uint32_t chunk_at = jobs[jb + 1u];
    const uint32_t stream_bytes = jobs[jb + 2u];
    uint32_t n = jobs[jb + 3u];
    const uint32_t out_at = jobs[jb + 4u];
    const uint32_t status_index = jobs[jb + 5u];
    const bool live = job < job_count && status_index != NO_STATUS;
    if (!live) n = 0u;
    LeanState st;
    uint32_t err = lean_begin<S>(input, st, chunk_at, stream_bytes, n, l, live);
    constexpr uint32_t words_per_step = LANES * S::W / 4u;
    uint32_t q = out_at >> 2u;
    const uint32_t full = n / LANES;
    for (uint32_t s = 0; s < full; s++) {
      lean_store_full<S>(output, lean_value<S>(input, st, true, below), l, q);
      q += words_per_step;
    }
    const uint32_t rest = n - full * LANES;
    if (rest > 0u) {
      const bool on = l < rest;
      const uint32_t v = lean_value<S>(input, st, on, below);
      lean_store_last<S>(output, on ? v : 0u, l, q, rest);
    }
    if (live) {
      err |= lean_end(st, l);
      if (err != 0u) atomicOr(&status[status_index], err);
      if (l == 0u) atomicOr(&status[status_index], DONE);
    }
  }
}

// ---- host ----

using Kernel = void (*)(const uint32_t*, uint32_t*, const uint2*, const uint32_t*, const uint32_t*, uint32_t*, uint32_t, uint32_t,
                        uint32_t, uint32_t);

// kind: 0 a specialised class of decode_chunks, 2 a lean class (the plan's dispatch field `generic`: 1 generic).
struct KernelClass {
  uint32_t W, planes, K, coded, p[4];
  Kernel kernel;
  uint32_t kind;
};

#define TWIN_SPEC(W, P, K, C, P0, P1, P2, P3) \
  KernelClass{W, P, K, C, {P0, P1, P2, P3}, decode_chunks<Spec<W, P, K, (C) != 0, P0, P1, P2, P3>>, 0},
#define LEAN_SPEC(W, P0, P1, P2, P3) KernelClass{W, W, 32, 1, {P0, P1, P2, P3}, lean_chunks<Lean<W, P0, P1, P2, P3>>, 2},

// Classes of synthetic BF16, F16 and F32 weights (tools/synthetic-weights.ts) in format version 4: the default,
// --profile gpu and --fast-decode containers; K = 1 are the norm vectors (lanes by chunk size). Then TWIN_SPECS's.
static const KernelClass CLASSES[] = {
    TWIN_SPEC(2, 2, 32, 1, 0xfu, 0x7010au, 0x0u, 0x0u)              // BF16 e8m2 coded, sm5 raw
    TWIN_SPEC(2, 2, 32, 1, 0xfu, 0x9010au, 0x0u, 0x0u)              // F16 e5m3 coded, sm7 raw
    TWIN_SPEC(2, 2, 32, 1, 0xfu, 0xfu, 0x0u, 0x0u)                  // BF16 / F16, both head planes coded
    TWIN_SPEC(2, 2, 1, 1, 0xfu, 0xfu, 0x0u, 0x0u)                   //
    TWIN_SPEC(2, 2, 1, 1, 0xfu, 0x7010au, 0x0u, 0x0u)               //
    TWIN_SPEC(4, 4, 32, 1, 0xfu, 0x7010au, 0x2090200u, 0x1090300u)  // F32 e8m2 coded, sm5 raw, bytes 1 and 0 raw
    TWIN_SPEC(4, 4, 32, 1, 0xfu, 0xfu, 0x2090100u, 0x1090200u)      // F32 both head planes coded, bytes 1 and 0 raw
    TWIN_SPEC(4, 4, 1, 1, 0xfu, 0xfu, 0x2090100u, 0x1090200u)       //
    TWIN_SPEC(4, 4, 1, 1, 0xfu, 0x7010au, 0x2090200u, 0x1090300u)   //
    LEAN_SPEC(2, 0x060b0a0cu, 0x02050807u, 0x0500010fu, 0x0u)       // lean BF16: e8m2 coded (12-bit), sm5 raw
    LEAN_SPEC(2, 0x080c080cu, 0x0307050au, 0x0700010fu, 0x0u)       // lean F16: e5m3 coded, sm7 raw
    LEAN_SPEC(4, 0x060b0a0cu, 0x02050807u, 0x0500010fu, 0x102u)     // lean F32: as BF16, then bytes 1 and 0 raw
#ifdef TWIN_SPECS
#include TWIN_SPECS
#endif
};

struct Dispatch {
  uint64_t job_base, job_count, groups_x, groups_y, input_offset, output_offset, window_bytes;
  uint32_t generic, W, planes, K, coded, p[4];
  Kernel kernel;
  const char* name;
  cudaFuncAttributes attr;
  int blocks_per_sm;
};

struct Plan {
  uint64_t groups = 0, chunks_per_group = 0, table_words = 0, status_words = 0, input_bytes = 0, output_bytes = 0;
  uint64_t entries_words = 0, descs_words = 0, jobs_words = 0, original_bytes = 0;
  std::string dtypes;
  std::vector<Dispatch> dispatches;
};

static void fail(const std::string& what) {
  fprintf(stderr, "decode-twin: %s\n", what.c_str());
  exit(1);
}

static Plan read_plan(const std::string& path) {
  FILE* f = fopen(path.c_str(), "r");
  if (!f) fail("cannot open " + path);
  Plan plan;
  char key[64];
  if (fscanf(f, "%63s", key) != 1 || strcmp(key, "twin-plan") != 0) fail(path + ": not a twin plan");
  unsigned version = 0;
  if (fscanf(f, "%u", &version) != 1 || version != 1) fail(path + ": plan version is not 1");
  uint64_t count = 0;
  while (fscanf(f, "%63s", key) == 1) {
    std::string k = key;
    if (k == "dtypes") {
      char v[256];
      if (fscanf(f, "%255s", v) != 1) fail(path + ": bad dtypes");
      plan.dtypes = v;
      continue;
    }
    if (k == "dispatch") {
      Dispatch d{};
      unsigned long long a[7];
      unsigned b[9];
      if (fscanf(f, "%llu %llu %llu %llu %llu %llu %llu", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6]) != 7 ||
          fscanf(f, "%u %u %u %u %u %u %u %u %u", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7], &b[8]) != 9) {
        fail(path + ": bad dispatch line");
      }
      d.job_base = a[0], d.job_count = a[1], d.groups_x = a[2], d.groups_y = a[3], d.input_offset = a[4], d.output_offset = a[5], d.window_bytes = a[6];
      d.generic = b[0], d.W = b[1], d.planes = b[2], d.K = b[3], d.coded = b[4];
      for (int p = 0; p < 4; p++) d.p[p] = b[5 + p];
      plan.dispatches.push_back(d);
      continue;
    }
    unsigned long long v = 0;
    if (fscanf(f, "%llu", &v) != 1) fail(path + ": no value for " + k);
    if (k == "groups") plan.groups = v;
    else if (k == "chunks_per_group") plan.chunks_per_group = v;
    else if (k == "table_words") plan.table_words = v;
    else if (k == "status_words") plan.status_words = v;
    else if (k == "input_bytes") plan.input_bytes = v;
    else if (k == "output_bytes") plan.output_bytes = v;
    else if (k == "entries_words") plan.entries_words = v;
    else if (k == "descs_words") plan.descs_words = v;
    else if (k == "jobs_words") plan.jobs_words = v;
    else if (k == "original_bytes") plan.original_bytes = v;
    else if (k == "dispatches") count = v;
    else fail(path + ": unknown key " + k);
  }
  fclose(f);
  if (plan.dispatches.size() != count) fail(path + ": dispatch count differs from its lines");
  return plan;
}

static std::vector<uint8_t> read_file(const std::string& path, uint64_t expect) {
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) fail("cannot open " + path);
  fseek(f, 0, SEEK_END);
  const long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (size < 0 || (uint64_t)size != expect) fail(path + ": " + std::to_string(size) + " bytes, the plan says " + std::to_string(expect));
  std::vector<uint8_t> v(size);
  if (size > 0 && fread(v.data(), 1, size, f) != (size_t)size) fail("cannot read " + path);
  fclose(f);
  return v;
}

template <class T>
static T* upload(const std::vector<uint8_t>& bytes, size_t slack) {
  T* d = nullptr;
  const size_t size = bytes.size() + slack < 16 ? 16 : bytes.size() + slack;
  CK(cudaMalloc(&d, size));
  CK(cudaMemset(d, 0, size));
  if (!bytes.empty()) CK(cudaMemcpy(d, bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
  return d;
}

struct Device {
  const uint32_t* input;
  uint32_t* output;
  const uint2* entries;
  const uint32_t* descs;
  const uint32_t* jobs;
  uint32_t* status;
};

static void launch(const Plan& plan, const Dispatch& d, const Device& dev, cudaStream_t stream) {
  if (d.groups_x == 0) return;
  const dim3 grid((unsigned)d.groups_x, (unsigned)d.groups_y);
  d.kernel<<<grid, WORKGROUP_SIZE, plan.table_words * 4, stream>>>(
      dev.input + d.input_offset / 4, dev.output + d.output_offset / 4, dev.entries, dev.descs, dev.jobs, dev.status,
      (uint32_t)d.job_count, (uint32_t)d.groups_x, (uint32_t)d.job_base, (uint32_t)plan.table_words);
  CK(cudaGetLastError());
}

// One pass: clear the status words, then every dispatch (all of them when only < 0, else that one).
static void pass(const Plan& plan, const Device& dev, cudaStream_t stream, int only) {
  CK(cudaMemsetAsync(dev.status, 0, plan.status_words * 4 > 0 ? plan.status_words * 4 : 4, stream));
  for (size_t k = 0; k < plan.dispatches.size(); k++) {
    if (only < 0 || (size_t)only == k) launch(plan, plan.dispatches[k], dev, stream);
  }
}

// Passes for at least this long before timing: the GPU leaves its idle clocks only under sustained load (an H100
// sat at 705-990 MHz through batches of ten 1-ms decodes separated by host work, at 1980 MHz through 200).
static const float WARM_UP_MS = 300.0f;

// Milliseconds of `reps` passes between events a and b.
static float batch_ms(const Plan& plan, const Device& dev, cudaStream_t stream, int reps, int only, cudaEvent_t a, cudaEvent_t b) {
  CK(cudaEventRecord(a, stream));
  for (int r = 0; r < reps; r++) pass(plan, dev, stream, only);
  CK(cudaEventRecord(b, stream));
  CK(cudaEventSynchronize(b));
  float ms = 0;
  CK(cudaEventElapsedTime(&ms, a, b));
  return ms;
}

// Best of 3 batches of `reps` passes, ms per pass, after WARM_UP_MS of passes.
static double time_passes(const Plan& plan, const Device& dev, cudaStream_t stream, int reps, int only) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (float warm = 0; warm < WARM_UP_MS;) warm += batch_ms(plan, dev, stream, reps, only, a, b);
  double best = 1e30;
  for (int batch = 0; batch < 3; batch++) {
    const double ms = batch_ms(plan, dev, stream, reps, only, a, b) / reps;
    if (ms < best) best = ms;
  }
  CK(cudaEventDestroy(a));
  CK(cudaEventDestroy(b));
  return best;
}

struct Check {
  uint64_t bad_status = 0, mismatched = 0, first_mismatch = UINT64_MAX;
  std::string bad_jobs, mismatch_job;
  bool exact() const { return bad_status == 0 && mismatched == 0; }
};

// Status words and output against the plan's jobs and expected.bin; names the first 5 failed jobs.
static Check check(const Plan& plan, const Device& dev, const std::vector<uint8_t>& expected, const std::vector<uint8_t>& jobs_bytes,
                   const std::vector<uint8_t>& descs_bytes, std::vector<uint8_t>& out) {
  Check c;
  std::vector<uint32_t> status(plan.status_words);
  if (!status.empty()) CK(cudaMemcpy(status.data(), dev.status, status.size() * 4, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(out.data(), dev.output, out.size(), cudaMemcpyDeviceToHost));
  for (uint32_t s : status) c.bad_status += s != DONE;
  const uint32_t* jobs = reinterpret_cast<const uint32_t*>(jobs_bytes.data());
  const uint32_t* descs = reinterpret_cast<const uint32_t*>(descs_bytes.data());
  int listed = 0;
  for (size_t k = 0; k < plan.dispatches.size(); k++) {
    const Dispatch& d = plan.dispatches[k];
    for (uint64_t j = d.job_base; j < d.job_base + d.job_count; j++) {
      const uint32_t si = jobs[j * JOB_WORDS + 5];
      if (si == NO_STATUS || si >= plan.status_words || status[si] == DONE) continue;
      if (listed++ < 5) {
        char line[160];
        snprintf(line, sizeof line, "%s{\"dispatch\":%zu,\"job\":%llu,\"status_index\":%u,\"status\":%u}", c.bad_jobs.empty() ? "" : ",", k,
                 (unsigned long long)j, si, status[si]);
        c.bad_jobs += line;
      }
    }
  }
  for (size_t i = 0; i < out.size(); i++) {
    if (out[i] != expected[i]) {
      if (c.mismatched++ == 0) c.first_mismatch = i;
    }
  }
  if (c.mismatched > 0) {
    // The live job whose output range holds the first wrong byte.
    for (size_t k = 0; k < plan.dispatches.size() && c.mismatch_job.empty(); k++) {
      const Dispatch& d = plan.dispatches[k];
      for (uint64_t j = d.job_base; j < d.job_base + d.job_count; j++) {
        const uint32_t* w = jobs + j * JOB_WORDS;
        if (w[5] == NO_STATUS) continue;
        const uint64_t from = d.output_offset + w[4], to = from + (uint64_t)w[3] * descs[w[0]];
        if (c.first_mismatch >= from && c.first_mismatch < to) {
          char line[200];
          snprintf(line, sizeof line, "{\"dispatch\":%zu,\"job\":%llu,\"status_index\":%u,\"byte_in_chunk\":%llu}", k, (unsigned long long)j, w[5],
                   (unsigned long long)(c.first_mismatch - from));
          c.mismatch_job = line;
          break;
        }
      }
    }
  }
  return c;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) fail("usage: decode-twin OUTDIR [REPS=10]");
  const std::string dir = argv[1];
  const int reps = argc > 2 ? atoi(argv[2]) : 10;
  if (reps < 1) fail("REPS must be at least 1");
  Plan plan = read_plan(dir + "/plan.txt");
  if (plan.groups != GROUPS || plan.chunks_per_group != CHUNKS_PER_GROUP) {
    fail("the plan has groups " + std::to_string(plan.groups) + ", chunks_per_group " + std::to_string(plan.chunks_per_group) +
         "; this binary was built for " + std::to_string(GROUPS) + ", " + std::to_string(CHUNKS_PER_GROUP) +
         " (-DTWIN_GROUPS, -DTWIN_CHUNKS_PER_GROUP)");
  }
  const std::vector<uint8_t> input = read_file(dir + "/input.bin", plan.input_bytes);
  const std::vector<uint8_t> entries = read_file(dir + "/entries.bin", plan.entries_words * 4);
  const std::vector<uint8_t> descs = read_file(dir + "/descs.bin", plan.descs_words * 4);
  const std::vector<uint8_t> jobs = read_file(dir + "/jobs.bin", plan.jobs_words * 4);
  const std::vector<uint8_t> expected = read_file(dir + "/expected.bin", plan.output_bytes);

  int device = 0;
  CK(cudaGetDevice(&device));
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, device));
  const size_t shared = plan.table_words * 4;
  if (shared > prop.sharedMemPerBlockOptin) fail("TABLE_WORDS " + std::to_string(plan.table_words) + " exceed the device's shared memory per block");

  for (Dispatch& d : plan.dispatches) {
    d.kernel = decode_chunks<Generic>;
    d.name = "generic";
    if (d.generic != 1) {
      bool found = false;
      for (const KernelClass& k : CLASSES) {
        if (k.kind == d.generic && k.W == d.W && k.planes == d.planes && k.K == d.K && k.coded == d.coded && k.p[0] == d.p[0] && k.p[1] == d.p[1] &&
            k.p[2] == d.p[2] && k.p[3] == d.p[3]) {
          d.kernel = k.kernel;
          d.name = k.kind == 2 ? "lean" : "specialised";
          found = true;
          break;
        }
      }
      // A lean class has no generic stand-in (its descriptor holds packed slot entries, not decode.wgsl's tables).
      if (!found && d.generic == 2) fail("a lean class that this binary was not built with (add its LEAN_SPEC line, run.sh does)");
    }
    if (shared > 48 * 1024) CK(cudaFuncSetAttribute(d.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shared));
    CK(cudaFuncGetAttributes(&d.attr, d.kernel));
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&d.blocks_per_sm, d.kernel, WORKGROUP_SIZE, shared));
  }

  Device dev;
  dev.input = upload<uint32_t>(input, INPUT_SLACK);
  dev.entries = upload<uint2>(entries, 0);
  dev.descs = upload<uint32_t>(descs, 0);
  dev.jobs = upload<uint32_t>(jobs, 0);
  CK(cudaMalloc(&dev.output, plan.output_bytes < 4 ? 4 : plan.output_bytes));
  CK(cudaMalloc(&dev.status, plan.status_words < 1 ? 4 : plan.status_words * 4));
  cudaStream_t stream;
  CK(cudaStreamCreate(&stream));
  std::vector<uint8_t> out(plan.output_bytes);

  // Checked run: output poisoned with 0xA5 (expected.bin holds 0xA5 where no tensor's bytes go).
  CK(cudaMemset(dev.output, 0xA5, plan.output_bytes));
  pass(plan, dev, stream, -1);
  CK(cudaStreamSynchronize(stream));
  const Check first = check(plan, dev, expected, jobs, descs, out);

  const double ms = time_passes(plan, dev, stream, reps, -1);
  std::vector<double> per(plan.dispatches.size());
  for (size_t k = 0; k < plan.dispatches.size(); k++) per[k] = time_passes(plan, dev, stream, reps, (int)k);
  // The status of the last pass (one dispatch only) covers only that dispatch: one more full pass for the check.
  pass(plan, dev, stream, -1);
  CK(cudaStreamSynchronize(stream));
  const Check after = check(plan, dev, expected, jobs, descs, out);

  printf("{\"kernel\":\"twin\",\"dtypes\":\"%s\",\"bytes\":%llu,\"ms\":%.4f,\"GBps\":%.2f,\"exact\":%s,\"bad_status\":%llu", plan.dtypes.c_str(),
         (unsigned long long)plan.original_bytes, ms, plan.original_bytes / (ms / 1e3) / 1e9, first.exact() && after.exact() ? "true" : "false",
         (unsigned long long)first.bad_status);
  printf(",\"bad_jobs\":[%s],\"mismatched_bytes\":%llu", first.bad_jobs.c_str(), (unsigned long long)first.mismatched);
  if (first.mismatched > 0) printf(",\"first_mismatch\":%llu,\"mismatch_job\":%s", (unsigned long long)first.first_mismatch, first.mismatch_job.empty() ? "null" : first.mismatch_job.c_str());
  printf(",\"after_timing\":{\"bad_status\":%llu,\"mismatched_bytes\":%llu}", (unsigned long long)after.bad_status, (unsigned long long)after.mismatched);
  printf(",\"reps\":%d,\"groups\":%u,\"chunks_per_group\":%u,\"table_words\":%llu,\"chunks\":%llu,\"device\":\"%s\",\"dispatches\":[", reps, GROUPS,
         CHUNKS_PER_GROUP, (unsigned long long)plan.table_words, (unsigned long long)plan.status_words, prop.name);
  for (size_t k = 0; k < plan.dispatches.size(); k++) {
    const Dispatch& d = plan.dispatches[k];
    printf("%s{\"kernel\":\"%s\",\"W\":%u,\"planes\":%u,\"K\":%u,\"p\":[%u,%u,%u,%u],\"jobs\":%llu,\"grid\":[%llu,%llu],\"ms\":%.4f,\"regs\":%d,\"local_bytes\":%zu,\"blocks_per_sm\":%d}",
           k ? "," : "", d.name, d.W, d.planes, d.K, d.p[0], d.p[1], d.p[2], d.p[3], (unsigned long long)d.job_count, (unsigned long long)d.groups_x,
           (unsigned long long)d.groups_y, per[k], d.attr.numRegs, d.attr.localSizeBytes, d.blocks_per_sm);
  }
  printf("]}\n");
  CK(cudaStreamDestroy(stream));
  CK(cudaFree((void*)dev.input));
  CK(cudaFree((void*)dev.entries));
  CK(cudaFree((void*)dev.descs));
  CK(cudaFree((void*)dev.jobs));
  CK(cudaFree(dev.output));
  CK(cudaFree(dev.status));
  return first.exact() && after.exact() ? 0 : 2;
}
