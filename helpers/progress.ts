// Progress lines for long steps, on stderr so they never mix with reports on stdout.

export type ProgressSink = (line: string) => void;

const start = Date.now();
export const stderrSink: ProgressSink = (line) => process.stderr.write(`${line}\n`);

export function progress(step: string, message: string, sink: ProgressSink = stderrSink): void {
  const elapsed = ((Date.now() - start) / 1000).toFixed(1).padStart(6);
  sink(`[${elapsed}s] ${step}: ${message}`);
}

export interface PhaseTiming {
  name: string;
  durationMs: number;
}

/** Runs `fn`, records its duration under `name` (also when it throws). */
export async function timed<T>(phases: PhaseTiming[], name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    phases.push({ name, durationMs: Math.round(performance.now() - t0) });
  }
}
