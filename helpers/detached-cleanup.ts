// Hands a run's cleanup to bin/cleanup-run.ts in a detached process (see there for why).
import { spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";

export interface CleanupOrder {
  runId: string;
  target: "k3s" | "kubeconfig";
  kubeconfigPath?: string;
  context?: string;
  namespace?: string;
}

export function spawnDetachedCleanup(order: CleanupOrder, logFile: string): number | undefined {
  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, "a");
  const child = spawn(process.execPath, ["--import", "tsx", resolve("bin/cleanup-run.ts")], {
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, METALLB_CONFORMANCE_CLEANUP: JSON.stringify(order) },
  });
  child.unref();
  return child.pid;
}
