// Vitest global setup: one ephemeral cluster per run, started once, handed to every suite file
// through `provide`, and removed once — on success, failure, and Ctrl-C/SIGTERM.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { loadImageManifest, type ImageManifest } from "../../helpers/cache.ts";
import { startEphemeralCluster, stopEphemeralCluster, type EphemeralCluster } from "../../helpers/cluster.ts";
import { progress } from "../../helpers/progress.ts";

export interface ProvidedCluster {
  cluster: EphemeralCluster;
  images: ImageManifest;
}

declare module "vitest" {
  export interface ProvidedContext {
    ephemeral: ProvidedCluster;
  }
}

function envMs(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`invalid ${name}: got "${raw}", expected a positive integer (milliseconds)`);
  return value;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // No reaper image can be pulled here: cleanup is ours, by label (also `npm run sweep`).
  process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
  const runId = process.env.METALLB_CONFORMANCE_RUN_ID ?? `r${randomBytes(3).toString("hex")}`;
  const images = await loadImageManifest();
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= process.env.METALLB_CONFORMANCE_KEEP_CLUSTER === "1"
    ? Promise.resolve(progress("cluster", `kept run ${runId} (METALLB_CONFORMANCE_KEEP_CLUSTER=1)`))
    : stopEphemeralCluster(runId));
  const onSignal = (signal: NodeJS.Signals) => {
    progress("cluster", `${signal}: removing run ${runId}`);
    void stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const cluster = await startEphemeralCluster({
    runId,
    images,
    nodeStartTimeoutMs: envMs("METALLB_CONFORMANCE_TIMEOUT_NODE_START_MS", 180_000),
    nodesReadyTimeoutMs: envMs("METALLB_CONFORMANCE_TIMEOUT_CLUSTER_READY_MS", 180_000),
    nodeLogDir: join("reports", "diagnostics", "nodes"),
  });
  project.provide("ephemeral", { cluster, images });
  return async () => {
    await stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
