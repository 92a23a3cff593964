// The tensor name of a NumPy array or raw array member (FORMAT.md §4.8, §4.9): its path without the last extension.

/**
 * The name of the one tensor of a `.npy` or raw array member at `path`: the path up to the last `.` of its last
 * component, when that `.` is not the component's first character (`weights/emb.npy` → `weights/emb`, `x` → `x`,
 * `.npy` → `.npy`).
 */
export function arrayTensorName(path: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash + 1 ? path.slice(0, dot) : path;
}
