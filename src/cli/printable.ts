// Text from containers and inputs made safe for a terminal (docs/SECURITY.md, "Terminal output"): tensor names,
// member paths and dtypes come from strangers' files, and an escape sequence in one could rewrite the screen,
// set the window title or hide text; bidirectional overrides could reorder what is shown.

/** C0 controls, DEL, C1 controls (U+009B is a one-character CSI), bidi embeddings, overrides and isolates. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every control or bidirectional-formatting character replaced by a visible escape (`\x1b`, `\u202e`).
 * @param text any string; printable text is returned unchanged
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
