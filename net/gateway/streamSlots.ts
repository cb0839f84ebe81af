// etcd's gateway reaches the server over one gRPC connection, so --max-concurrent-streams
// bounds the gateway's calls in flight: each HTTP request holds one HTTP/2 stream until its
// answer ends, and a request beyond the limit waits for one to end (etcd's e2e
// TestV3Curl_MaxStreams_* has a range time out behind N open watches). Tern's gateway
// calls the handlers in-process, so it keeps the same count itself.

/** A bound on requests waiting for a slot; beyond it they are refused at once. */
export const MAX_WAITING = 4096;

export class StreamSlots {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new Error(`a stream limit must be at least 1, got ${String(limit)}`);
  }

  /**
   * Runs `start` once a slot is free; `release` must be called when the call ends.
   * `abandon`: registers what to do if the caller goes away while waiting. False if the
   * wait queue is full (the caller answers "too many requests").
   */
  acquire(start: (release: () => void) => void, abandon: (onGone: () => void) => void): boolean {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.waiting.shift()?.();
    };
    const run = (): void => {
      this.inFlight++;
      start(release);
    };
    if (this.inFlight < this.limit) {
      run();
      return true;
    }
    if (this.waiting.length >= MAX_WAITING) return false;
    this.waiting.push(run);
    abandon(() => {
      const at = this.waiting.indexOf(run);
      if (at >= 0) this.waiting.splice(at, 1);
    });
    return true;
  }
}
