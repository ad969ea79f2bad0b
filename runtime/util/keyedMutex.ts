/**
 * One queue per key: `run(key, fn)` waits for the previous holder of that key
 * to finish, then runs fn. Lifecycle operations and exit handling of one
 * container go through it, so they see each other's results and never
 * interleave; different containers never wait on each other.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.catch(() => undefined).then(fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
