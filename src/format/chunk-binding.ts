// How a version 4 chunk record's digest is bound to its place (FORMAT.md §7.5 "Binding"): the record stores the
// chunk digest of the chunk's decoded bytes XOR a value derived from its segment's SHA-256, its stream and its chunk
// number, so that chunk records moved to another segment or another position (with their digests) fail the check.

/** K7 of the chunk digest (FORMAT.md §7.5): spreads the position over all 64 bits. */
const POSITION_KEY = 0xc4ceb9fe1a85ec53n;
const MASK64 = (1n << 64n) - 1n;

/**
 * The binding value of chunk `chunk` (from 0) of stream `stream` (0: the segment's own chunks; k + 1: stream k of a
 * transformed segment) of a segment whose SHA-256 is `sha256`: its first 8 bytes as a little-endian u64, XOR
 * ((stream × 2^32 + chunk) × K7 mod 2^64). A record stores digest XOR this value.
 */
export function chunkBinding(sha256: Uint8Array, stream: number, chunk: number): bigint {
  let lead = 0n;
  for (let i = 7; i >= 0; i--) lead = (lead << 8n) | BigInt(sha256[i]);
  const position = (BigInt(stream) << 32n) + BigInt(chunk);
  return lead ^ ((position * POSITION_KEY) & MASK64);
}
