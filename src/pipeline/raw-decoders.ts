// Chunk decoders of raw-only codings (every plane stored raw, FORMAT.md §6), kept across the segments of one member
// decode: a model's small tensors (biases, scales) mostly share one such coding, and building and disposing a decoder
// per tensor costs more than decoding the tensor.

import type { SegmentCoding } from '../entropy/chunk-codec.js';
import { createChunkDecoder, type ChunkDecoding } from '../wasm/chunk-engines.js';
import type { Kernels } from '../wasm/kernels.js';

/**
 * Raw-only codings whose decoders are kept at once: each holds kernel memory for a chunk of its size (up to
 * MAX_CHUNK_VALUES values), so the bound keeps a container of many distinct raw layouts from holding one per layout.
 */
export const MAX_RAW_DECODERS = 8;

/** Decoders of raw-only codings, by coding object (the index shares one object among segments of identical coding records). */
export class RawDecoders {
  private kept = new Map<SegmentCoding, { decoder: ChunkDecoding; maxValues: number; kernels: Kernels | undefined }>();

  /**
   * A decoder for chunks of at most `maxValues` values of `coding` on `kernels`. For a raw-only coding it is kept
   * (built on first use, reused after) and disposed by disposeAll or when a larger one replaces it, never by the caller
   * (`kept` true); any other is the caller's, to dispose after its segment (`kept` false).
   */
  decoderFor(coding: SegmentCoding, maxValues: number, kernels: Kernels | undefined): { decoder: ChunkDecoding; kept: boolean } {
    const have = this.kept.get(coding);
    if (have && have.maxValues >= maxValues && have.kernels === kernels) return { decoder: have.decoder, kept: true };
    // Tables are read from the index once, here, and handed on: an index's coding reads them on every access.
    const tables = coding.tables;
    // A byte-model or tensor-model coding (versions 8, 10) is not raw, though its planes have no table: never kept.
    const decoder = createChunkDecoder({ layout: coding.layout, tables, lanes: coding.lanes, byteModel: coding.byteModel, tensorModel: coding.tensorModel }, maxValues, kernels);
    if (coding.byteModel || coding.tensorModel || !tables.every((t) => t === undefined)) return { decoder, kept: false };
    if (have) {
      have.decoder.dispose();
      this.kept.delete(coding);
    } else if (this.kept.size >= MAX_RAW_DECODERS) {
      const [oldest, first] = this.kept.entries().next().value!;
      first.decoder.dispose();
      this.kept.delete(oldest);
    }
    this.kept.set(coding, { decoder, maxValues, kernels });
    return { decoder, kept: true };
  }

  /** Disposes every kept decoder. */
  disposeAll(): void {
    for (const { decoder } of this.kept.values()) decoder.dispose();
    this.kept.clear();
  }
}
