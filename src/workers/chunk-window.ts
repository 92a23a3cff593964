// Keeps chunk jobs in submission order: results are taken oldest first, so the output order (and hence every
// byte) is the same for any number of workers, and at most `limit` jobs are outstanding.

/** An ordered window of outstanding jobs. */
export class ChunkWindow<T> {
  private queue: Promise<T>[] = [];

  constructor(private limit: number, private take: (result: T) => Promise<void> | void) {}

  /** Adds a job; when the window is full, first waits for the oldest and passes its result to `take`. */
  async push(job: Promise<T>): Promise<void> {
    // A job that fails while older ones are awaited must not count as unhandled: it is rethrown when its turn comes.
    job.catch(() => {});
    this.queue.push(job);
    if (this.queue.length >= this.limit) await this.takeOldest();
  }

  /** Waits for every outstanding job, in order. */
  async drain(): Promise<void> {
    while (this.queue.length > 0) await this.takeOldest();
  }

  private async takeOldest(): Promise<void> {
    await this.take(await this.queue.shift()!);
  }
}
