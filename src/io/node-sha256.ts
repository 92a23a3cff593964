// Registers node:crypto's SHA-256 as the hasher (Node only): identical digests, several times faster
// than the portable implementation. Imported for its side effect by the Node entry points.

import { createHash } from 'node:crypto';
import { setSha256Factory, type Sha256 } from '../format/sha256.js';

setSha256Factory((): Sha256 => {
  const h = createHash('sha256');
  return {
    update: (bytes) => void h.update(bytes),
    digest: () => new Uint8Array(h.digest()),
  };
});
