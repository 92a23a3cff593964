// The calling thread's own coders of the segments whose tasks are in a window (ChunkWindow): each is built when the
// thread first codes a run of its segment and disposed after the segment's last run, the rest after an error.

/** The calling thread's coders of the segments whose tasks are in a window: each disposed after its segment, the rest after an error. */
export class CallerCoders<T extends { dispose(): void }> {
  private live = new Set<T>();

  /** Keeps `coder` until dispose or disposeAll; returns it. */
  add(coder: T): T {
    this.live.add(coder);
    return coder;
  }

  /** Disposes `coder` (once: a coder already disposed is left alone). */
  dispose(coder: T): void {
    if (this.live.delete(coder)) coder.dispose();
  }

  /** Disposes every coder still kept. */
  disposeAll(): void {
    for (const c of this.live) c.dispose();
    this.live.clear();
  }
}
