// Header forms and how the safetensors library (serde_json into typed structs) reads each, for the table-driven
// conformance test of FORMAT.md §4.4. `reference` is what the library does with the file; `wcodec` what the encoder does.

/** One case: a header text (padded with spaces to a multiple of 8 by the test) and the data bytes after it. */
export interface HeaderForm {
  what: string;
  header: string;
  dataBytes: number;
  /** The safetensors library loads the file ('accepts') or refuses it. */
  reference: 'accepts' | 'refuses';
  /**
   * 'split': header and tensor segments. 'BAD_SAFETENSORS' / 'LIMIT_EXCEEDED': stored as bytes with that warning
   * (refused with `strict`); with reference 'accepts', a form outside the written format or beyond wcodec's bounds.
   */
  wcodec: 'split' | 'BAD_SAFETENSORS' | 'LIMIT_EXCEEDED';
}

const t = (dtype: string, shape: string, offsets: string): string => `{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}`;
const one = (entry: string): string => `{"a":${entry}}`;
const F32 = (extra = ''): string => `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]${extra}}}`;

export const HEADER_FORMS: readonly HeaderForm[] = [
  { what: 'one F32 tensor', header: F32(), dataBytes: 4, reference: 'accepts', wcodec: 'split' },
  { what: 'no tensors', header: '{}', dataBytes: 0, reference: 'accepts', wcodec: 'split' },
  { what: 'empty tensor name', header: `{"":${t('F32', '[1]', '[0,4]')}}`, dataBytes: 4, reference: 'accepts', wcodec: 'split' },
  { what: 'trailing tab, LF, CR, space', header: '{}\t\n\r ', dataBytes: 0, reference: 'accepts', wcodec: 'split' },
  { what: 'whitespace inside', header: '{  "a" : { "dtype" : "F32" , "shape" : [ 1 ] , "data_offsets" : [ 0 , 4 ] } }', dataBytes: 4, reference: 'accepts', wcodec: 'split' },
  { what: '__metadata__ of strings', header: `{"__metadata__":{"format":"pt","":""},"a":${t('F32', '[1]', '[0,4]')}}`, dataBytes: 4, reference: 'accepts', wcodec: 'split' },
  { what: 'two empty tensors at one offset', header: `{"a":${t('F32', '[0]', '[4,4]')},"b":${t('F32', '[0]', '[4,4]')},"c":${t('F32', '[1]', '[0,4]')}}`, dataBytes: 4, reference: 'accepts', wcodec: 'split' },
  { what: 'shape [0, 2^64-1]', header: one(t('F32', '[0,18446744073709551615]', '[0,0]')), dataBytes: 0, reference: 'accepts', wcodec: 'LIMIT_EXCEEDED' },
  { what: 'shape [0, 2^32, 2^32]: the product stays 0', header: one(t('F32', '[0,4294967296,4294967296]', '[0,0]')), dataBytes: 0, reference: 'accepts', wcodec: 'split' },
  { what: 'shape [2^30, 2^30, 0]: product 2^60 then 0', header: one(t('U8', '[1073741824,1073741824,0]', '[0,0]')), dataBytes: 0, reference: 'accepts', wcodec: 'LIMIT_EXCEEDED' },
  { what: 'shape [2^32, 2^32, 0]: overflows before the 0', header: one(t('F32', '[4294967296,4294967296,0]', '[0,0]')), dataBytes: 0, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'shape [2^61, 0] of F32: elements 0, no bit overflow', header: one(t('F32', '[2305843009213693952,0]', '[0,0]')), dataBytes: 0, reference: 'accepts', wcodec: 'LIMIT_EXCEEDED' },
  { what: 'shape [2^64, 0]: a float to serde_json', header: one(t('F32', '[18446744073709551616,0]', '[0,0]')), dataBytes: 0, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'shape 1.0', header: one(t('F32', '[1.0]', '[0,4]')), dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'shape 1e0', header: one(t('F32', '[1e0]', '[0,4]')), dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'shape 8.0 of U8', header: one(t('U8', '[8.0]', '[0,8]')), dataBytes: 8, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'shape -0', header: one(t('F32', '[-0,1]', '[0,0]')), dataBytes: 0, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'shape -1', header: one(t('F32', '[-1]', '[0,4]')), dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'data_offsets 0.0', header: one(t('F32', '[1]', '[0.0,4]')), dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'data_offsets 3.2e1', header: one(t('U8', '[32]', '[0,3.2e1]')), dataBytes: 32, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'data_offsets 4E0', header: one(t('F32', '[1]', '[0,4E0]')), dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'data_offsets of 3 items', header: one(t('F32', '[1]', '[0,4,4]')), dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'data_offsets as an object', header: one(t('F32', '[1]', '{"0":0,"1":4}')), dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'F4 [3]: 12 bits', header: one(t('F4', '[3]', '[0,2]')), dataBytes: 2, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'F4 [4]', header: one(t('F4', '[4]', '[0,2]')), dataBytes: 2, reference: 'accepts', wcodec: 'split' },
  { what: 'F6_E2M3 [4]', header: one(t('F6_E2M3', '[4]', '[0,3]')), dataBytes: 3, reference: 'accepts', wcodec: 'split' },
  { what: 'C64 [1]', header: one(t('C64', '[1]', '[0,8]')), dataBytes: 8, reference: 'accepts', wcodec: 'split' },
  { what: 'unknown dtype Q4_0', header: one(t('Q4_0', '[4]', '[0,2]')), dataBytes: 2, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'dtype in lower case', header: one(t('f32', '[1]', '[0,4]')), dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'missing shape', header: one('{"dtype":"F32","data_offsets":[0,4]}'), dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'dtype twice', header: one('{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}'), dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: '__metadata__ twice', header: F32().slice(0, -1) + ',"__metadata__":{},"__metadata__":{}}', dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: '__metadata__ with a number', header: F32().slice(0, -1) + ',"__metadata__":{"x":1}}', dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'a tensor entry null', header: '{"a":null}', dataBytes: 0, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'top level an array', header: '[]', dataBytes: 0, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'NUL padding', header: '{}\u0000', dataBytes: 0, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'byte-order mark', header: '\ufeff{}', dataBytes: 0, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'lone surrogate escape in a name', header: `{"\\ud800":${t('F32', '[1]', '[0,4]')}}`, dataBytes: 4, reference: 'refuses', wcodec: 'BAD_SAFETENSORS' },
  { what: 'rank 40', header: one(t('F32', `[${new Array(40).fill(1).join(',')}]`, '[0,4]')), dataBytes: 4, reference: 'accepts', wcodec: 'LIMIT_EXCEEDED' },
  // Accepted by the library, outside the format as written (README: the header MUST begin with '{', duplicate keys
  // are disallowed, a tensor is {"dtype", "shape", "data_offsets"}, __metadata__ a string-to-string map).
  { what: 'leading space', header: ' {}', dataBytes: 0, reference: 'accepts', wcodec: 'BAD_SAFETENSORS' },
  { what: 'duplicate tensor name (the library keeps the last)', header: `{"a":${t('F32', '[1]', '[0,99]')},"a":${t('F32', '[1]', '[0,4]')}}`, dataBytes: 4, reference: 'accepts', wcodec: 'BAD_SAFETENSORS' },
  { what: 'duplicate key in __metadata__', header: F32().slice(0, -1) + ',"__metadata__":{"x":"1","x":"2"}}', dataBytes: 4, reference: 'accepts', wcodec: 'BAD_SAFETENSORS' },
  { what: 'extra key in a tensor entry', header: F32(',"z":[1,{"q":null}]'), dataBytes: 4, reference: 'accepts', wcodec: 'BAD_SAFETENSORS' },
  { what: 'a tensor entry as an array', header: '{"a":["F32",[1],[0,4]]}', dataBytes: 4, reference: 'accepts', wcodec: 'BAD_SAFETENSORS' },
  { what: 'dtype as {"F32": null}', header: one('{"dtype":{"F32":null},"shape":[1],"data_offsets":[0,4]}'), dataBytes: 4, reference: 'accepts', wcodec: 'BAD_SAFETENSORS' },
  { what: '__metadata__ null', header: F32().slice(0, -1) + ',"__metadata__":null}', dataBytes: 4, reference: 'accepts', wcodec: 'BAD_SAFETENSORS' },
];
