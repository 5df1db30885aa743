// The one wait helper. Every wait states its deadline; a probe that throws counts as "not yet"
// (the error is kept for the timeout message), never as success.

export type Observation<T> = { done: true; value: T } | { done: false; observed: string };

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

export class WaitTimeoutError extends Error {
  constructor(
    readonly description: string,
    readonly timeoutMs: number,
    readonly lastObserved: string | undefined,
    cause: unknown,
  ) {
    const parts = [`timed out after ${timeoutMs} ms waiting for ${description}`];
    if (lastObserved !== undefined) parts.push(`last observed: ${lastObserved}`);
    if (cause !== undefined) parts.push(`last error: ${errorMessage(cause)}`);
    super(parts.join("; "), { cause });
    this.name = "WaitTimeoutError";
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export const done = <T>(value: T): Observation<T> => ({ done: true, value });
export const notYet = (observed: string): Observation<never> => ({ done: false, observed });

/** Polls `probe` until it reports done or the deadline passes. */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<Observation<T>>,
  { timeoutMs, intervalMs = 250, signal }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastObserved: string | undefined;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const observation = await probe();
      if (observation.done) return observation.value;
      lastObserved = observation.observed;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new WaitTimeoutError(description, timeoutMs, lastObserved, lastError);
    await delay(Math.min(intervalMs, remaining), signal);
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
