/** One injected fault: which method, on which calls, and what happens. */
export interface Fault<Method extends string> {
  /** The method that misbehaves. */
  method: Method;
  /**
   * Which calls of that method (counted from 1, per method): a number, a list, a
   * predicate of the call number and arguments, or `'always'`. @default 'always'
   */
  on?: number | readonly number[] | 'always' | ((call: number, args: readonly unknown[]) => boolean);
  /** Thrown (or made by the function) instead of the result. Without it the call only gets `latency`. */
  error?: unknown;
  /**
   * `before`: the call never reaches the wrapped object (nothing happened).
   * `after`: the call goes through, then the error is thrown (it happened, the caller
   * is told it failed: a lost acknowledgement). @default 'before'
   */
  phase?: 'before' | 'after';
  /** Milliseconds (real time) added before the call. @default 0 */
  latency?: number;
}

/** What every wrapper made by `faultyStore` / `flakyBackend` exposes besides the wrapped API. */
export interface FaultControl<Method extends string> {
  /** Calls seen so far, per method (faulty ones included). */
  readonly calls: Readonly<Partial<Record<Method, number>>>;
  /** Faults injected so far, in order. */
  readonly injected: readonly { method: Method; call: number; error: unknown }[];
  /** Replaces the faults (e.g. to heal the wrapper mid-test). */
  setFaults(faults: readonly Fault<Method>[]): void;
}

/**
 * Wraps `target` in a proxy whose listed methods misbehave per `faults`. Other
 * properties and methods pass through (methods bound to `target`, so private fields work).
 */
export function injectFaults<T extends object, Method extends string>(
  target: T,
  initial: readonly Fault<Method>[],
  component: string,
): T & FaultControl<Method> {
  let faults = [...initial];
  const calls: Partial<Record<Method, number>> = {};
  const injected: { method: Method; call: number; error: unknown }[] = [];
  const control: FaultControl<Method> = {
    calls,
    injected,
    setFaults(next) {
      faults = [...next];
    },
  };
  return new Proxy(target, {
    get(object, property) {
      if (property in control) return control[property as keyof FaultControl<Method>];
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value !== 'function') return value;
      const method = property as Method;
      const bound = (value as (...args: unknown[]) => unknown).bind(object);
      if (typeof property !== 'string') return bound;
      return (...args: unknown[]) => {
        const call = (calls[method] ?? 0) + 1;
        calls[method] = call;
        const active = faults.filter((fault) => fault.method === method && applies(fault, call, args));
        if (active.length === 0) return bound(...args);
        return run(
          bound,
          args,
          active,
          (error) => injected.push({ method, call, error }),
          component,
          method,
          call,
        );
      };
    },
  }) as T & FaultControl<Method>;
}

// ---- private helpers --------------------------------------------------------------

function applies<Method extends string>(
  fault: Fault<Method>,
  call: number,
  args: readonly unknown[],
): boolean {
  const on = fault.on ?? 'always';
  if (on === 'always') return true;
  if (typeof on === 'number') return on === call;
  if (typeof on === 'function') return on(call, args);
  return on.includes(call);
}

async function run<Method extends string>(
  bound: (...args: unknown[]) => unknown,
  args: unknown[],
  active: readonly Fault<Method>[],
  record: (error: unknown) => void,
  component: string,
  method: string,
  call: number,
): Promise<unknown> {
  const latency = active.reduce((sum, fault) => sum + (fault.latency ?? 0), 0);
  if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
  const failing = active.find((fault) => fault.error !== undefined);
  if (failing === undefined) return bound(...args);
  const error =
    typeof failing.error === 'function'
      ? (failing.error as () => unknown)()
      : (failing.error ?? new Error(`[au] [${component}] injected fault in ${method} call ${call}`));
  if ((failing.phase ?? 'before') === 'after') await bound(...args);
  record(error);
  throw error;
}
