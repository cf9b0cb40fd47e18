/**
 * Calls of one kind made in the same tick, sent to Redis as one script call. A worker
 * running many computations at once claims and ends them in bursts (BullMQ hands out
 * jobs as its replies arrive); one script call per burst instead of one per computation
 * saves Redis the per-call cost of a script and ioredis the cost of a command, which
 * together were most of a claim's or a result's price. Each call keeps its own answer:
 * the script reports one result (or one error) per item, so one bad record never fails
 * the others.
 */
export class ScriptBatch<Item, Result> {
  readonly #send: (items: readonly Item[]) => Promise<readonly (Result | Error)[]>;
  readonly #maxSize: number;
  readonly #weigh: ((item: Item) => number) | undefined;
  readonly #maxWeight: number;
  #queued: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];

  /**
   * @param send runs one script for the items, in their order, and resolves to one result
   *   or error per item; a rejection (e.g. the connection is gone) fails every item.
   * @param maxSize the most items of one script call (a bigger burst is split).
   * @param weight the size of an item's arguments (e.g. bytes) and the most one script call
   *   carries: Redis buffers a whole command before it runs it, so large values (a few MB
   *   each) are not gathered into one huge call; an item heavier than that goes alone.
   */
  constructor(
    send: (items: readonly Item[]) => Promise<readonly (Result | Error)[]>,
    maxSize: number,
    weight?: { of: (item: Item) => number; max: number },
  ) {
    this.#send = send;
    this.#maxSize = maxSize;
    this.#weigh = weight?.of;
    this.#maxWeight = weight?.max ?? Number.POSITIVE_INFINITY;
  }

  /** Queues one call; it is sent with the other calls of this tick. */
  add(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      // The same tick boundary as ioredis's auto-pipelining: what is queued by then goes out.
      if (this.#queued.length === 0) process.nextTick(() => this.#flush());
      this.#queued.push({ item, resolve, reject });
    });
  }

  #flush(): void {
    const queued = this.#queued;
    this.#queued = [];
    let chunk: typeof queued = [];
    let weight = 0;
    for (const call of queued) {
      const itemWeight = this.#weigh?.(call.item) ?? 0;
      if (chunk.length > 0 && (chunk.length >= this.#maxSize || weight + itemWeight > this.#maxWeight)) {
        this.#run(chunk);
        chunk = [];
        weight = 0;
      }
      chunk.push(call);
      weight += itemWeight;
    }
    if (chunk.length > 0) this.#run(chunk);
  }

  #run(chunk: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[]): void {
    this.#send(chunk.map((call) => call.item)).then(
      (results) => {
        for (const [index, call] of chunk.entries()) {
          const result = results[index];
          if (result instanceof Error) call.reject(result);
          else call.resolve(result as Result);
        }
      },
      (error: unknown) => {
        for (const call of chunk) call.reject(error);
      },
    );
  }
}
