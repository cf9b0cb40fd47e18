const ignore = () => {};

/**
 * What aborts one run of a task: a cancel, a timeout or a shutdown. Cheaper than an
 * AbortController per computation: the AbortSignal is made only when the task asks for
 * `ctx.signal`, and waiting for an abort is a promise, not an event listener.
 */
export class AbortSource {
  aborted = false;
  reason: unknown;
  #promise: Promise<never> | undefined;
  #controller: AbortController | undefined;
  #reject: ((reason: unknown) => void) | undefined;

  /**
   * Rejects with the reason once aborted; never resolves. Made on first use: a task that
   * returns synchronously is never raced against it.
   */
  get promise(): Promise<never> {
    if (this.#promise === undefined) {
      this.#promise = this.aborted
        ? Promise.reject(this.reason)
        : new Promise<never>((_resolve, reject) => {
            this.#reject = reject;
          });
      this.#promise.catch(ignore);
    }
    return this.#promise;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.#controller?.abort(reason);
    this.#reject?.(reason);
  }

  /** Aborts when `signal` does; returns the unlink function. */
  follow(signal: AbortSignal): () => void {
    if (signal.aborted) {
      this.abort(signal.reason);
      return ignore;
    }
    const onAbort = () => this.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }
}
