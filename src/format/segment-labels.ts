// The labels of a segment record (FORMAT.md §3.3) that the label rules of §4.4, §4.6 and §4.7 compare with what a
// member's stored bytes say: its kind, name, dtype, shape and size.

/** The labels of one segment, in member order. */
export interface LabelledSegment {
  kind: 'tensor' | 'bytes';
  name: string;
  dtype: string;
  shape: number[];
  originalBytes: number;
}
