// What the global setup hands every suite file: the target, the expected facts (profile, with
// the ephemeral subnet applied), where to reach the cluster, and the run's own namespace.
import type { ImageManifest } from "./cache.ts";
import type { MetricsAccess } from "./metallb-metrics.ts";
import type { EphemeralCluster } from "./cluster.ts";
import type { Mode, Target } from "./config.ts";
import type { Profile, Timeouts } from "./profile.ts";

/** The per-run namespace of the suites' own objects on any target. */
export function runNamespaceName(runId: string): string {
  return `metallb-conformance-${runId}`;
}

export interface RunContext {
  target: Target;
  mode: Mode;
  runId: string;
  profile: Profile;
  timeouts: Timeouts;
  kubeconfigPath: string;
  context?: string;
  /** the AC3/AC4 backend image (the local build on the ephemeral target; pulled elsewhere) */
  nginxImage: string;
  /** per-run namespace for the suites' own objects (labelled, removed at the end) */
  testNamespace: string;
  /** how MetalLB's HTTPS metrics (0.16+) may be read: a token, or why there is none */
  metricsAccess: MetricsAccess;
  /** only on the ephemeral target */
  ephemeral?: {
    cluster: EphemeralCluster;
    images: ImageManifest;
    probe: { containerId: string; address: string };
  };
}

/** Shared between the global setup and the verdict reporter (same process). */
export interface RunState {
  phases: { name: string; durationMs: number }[];
  context?: RunContext;
  failed: boolean;
  startedAt: Date;
  reportsDir: string;
}

const KEY = Symbol.for("metallb-conformance.run-state");

export function runState(): RunState {
  const g = globalThis as unknown as Record<symbol, RunState | undefined>;
  return (g[KEY] ??= { phases: [], failed: false, startedAt: new Date(), reportsDir: "reports" });
}
