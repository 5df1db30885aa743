// Running the fault catalog: apply a fault to an ephemeral cluster (or start one the fault's way),
// judge a real verify-only conformance run through the cluster's kubeconfig, undo the fault and
// wait until MetalLB is healthy again. Used by `npm run faults` and by the fault suite of
// `npm test`; returns judgements, never asserts.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { stringify } from "yaml";
import type { ImageManifest } from "./cache.ts";
import { stopEphemeralCluster } from "./cluster.ts";
import { faultProfile, judge, resolvePlaceholders, type Fault, type FaultJudgement } from "./fault-catalog.ts";
import { applyStep, waitHealthy, type FaultEnvironment } from "./fault-steps.ts";
import { startHomelabCluster } from "./homelab-cluster.ts";
import type { Profile } from "./profile.ts";
import { userEnv } from "./user-env.ts";
import { progress } from "./progress.ts";
import type { Verdict } from "./verdict.ts";

// A broken cluster fails by running out a deadline: shorter ones than a real run's keep the whole
// catalog to minutes. Each is far above what a healthy cluster needs (see `npm run bench`).
// prettier-ignore
const FAULT_RUN_TIMEOUTS = [
  "--timeout-metallb-ready", "20000", "--timeout-load-balancer-ip", "20000",
  "--timeout-http-ready", "30000", "--timeout-arp", "10000",
];

/** A verify-only conformance run against the cluster, as the nightly runs against the homelab;
 * its reports, profile and log go to `dir`. */
export async function conformanceVerdict(
  kubeconfigPath: string,
  profile: Profile,
  dir: string,
  faultTimeouts = true,
): Promise<Verdict> {
  await mkdir(dir, { recursive: true });
  const profilePath = join(dir, "profile.yaml");
  await writeFile(profilePath, stringify(JSON.parse(JSON.stringify(profile))));
  const runId = `f${Math.floor(Math.random() * 1e6)}`;
  // prettier-ignore
  const r = await execa("tsx", [
    "bin/conformance.ts", "--target", "kubeconfig", "--kubeconfig", kubeconfigPath,
    "--profile", profilePath, "--reports-dir", dir, "--run-id", runId,
    ...(faultTimeouts ? FAULT_RUN_TIMEOUTS : []),
  ], { preferLocal: true, reject: false, all: true, env: userEnv(), extendEnv: false });
  await writeFile(join(dir, "run.log"), r.all ?? "");
  const text = await readFile(join(dir, "verdict.json"), "utf8").catch(() => undefined);
  const verdict = text ? (JSON.parse(text) as Verdict) : undefined;
  if (!verdict || verdict.runId !== runId)
    throw new Error(`the conformance run wrote no verdict (exit ${r.exitCode}; log ${join(dir, "run.log")})`);
  return verdict;
}

/** Applies `fault` to the environment's cluster, judges a conformance run, and undoes it. */
export async function runFault(env: FaultEnvironment, raw: Fault, reportsDir: string): Promise<FaultJudgement> {
  const fault = resolvePlaceholders(raw, env.profile);
  progress("faults", `${fault.name}: ${fault.description}`);
  const undo: (() => Promise<void>)[] = [];
  try {
    for (const step of fault.break) undo.unshift(await applyStep(env, step));
    const verdict = await conformanceVerdict(
      env.cluster.kubeconfigPath,
      faultProfile(env.profile, fault),
      join(reportsDir, fault.name),
    );
    return report(fault, judge(fault, verdict));
  } finally {
    for (const u of undo) await u();
    await waitHealthy(env);
  }
}

export interface OwnClusterOptions {
  runId: string;
  images: ImageManifest;
  homelab: Profile;
  reportsDir: string;
}

/** A fault that is a way of starting the cluster: a cluster of its own, removed afterwards. */
export async function runFaultOnItsOwnCluster(raw: Fault, o: OwnClusterOptions): Promise<FaultJudgement> {
  progress("faults", `${raw.name}: ${raw.description} (a cluster of its own)`);
  try {
    const { cluster, profile } = await startHomelabCluster({
      runId: o.runId,
      images: o.images,
      homelab: o.homelab,
      keepServiceLB: raw.cluster?.keepServiceLB ?? false,
      nodeLogDir: join(o.reportsDir, raw.name, "nodes"),
    });
    const fault = resolvePlaceholders(raw, profile);
    const verdict = await conformanceVerdict(
      cluster.kubeconfigPath,
      faultProfile(profile, fault),
      join(o.reportsDir, fault.name),
    );
    return report(fault, judge(fault, verdict));
  } finally {
    await stopEphemeralCluster(o.runId);
  }
}

function report(fault: Fault, j: FaultJudgement): FaultJudgement {
  progress("faults", `${fault.name}: ${j.ok ? "caught by" : "MISSED, observed"} ${j.observed}: ${j.why}`);
  return j;
}
