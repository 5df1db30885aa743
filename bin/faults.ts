// `npm run faults [-- --only a,b] [--cluster RUNID]`: proves the suites fail for the right reason.
// On one ephemeral cluster with MetalLB (started here, or one left running by `npm run cluster --
// up`), a healthy baseline run must pass; then each fault of fixtures/faults is applied, judged by
// a real verify-only conformance run through the cluster's kubeconfig, and undone. Prints fault ->
// expected -> observed -> verdict; exit 0 only when every fault was caught by the right criterion.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { execa } from "execa";
import { stringify } from "yaml";
import { loadImageManifest } from "../helpers/cache.ts";
import {
  nodePlanFromProfile,
  startEphemeralCluster,
  stateDirFor,
  stopEphemeralCluster,
  type EphemeralCluster,
} from "../helpers/cluster.ts";
import { DEFAULT_PROFILE } from "../helpers/config.ts";
import { faultProfile, judge, loadFaults, resolvePlaceholders, type Fault } from "../helpers/fault-catalog.ts";
import { applyStep, waitHealthy, type FaultEnvironment } from "../helpers/fault-steps.ts";
import { kubeClients } from "../helpers/kube.ts";
import { installMetallbForProfile } from "../helpers/metallb-setup.ts";
import { deriveEphemeralProfile, loadProfile, type Profile } from "../helpers/profile.ts";
import { progress } from "../helpers/progress.ts";
import { randomRunId } from "../helpers/run-id.ts";
import type { Verdict } from "../helpers/verdict.ts";

process.env.TESTCONTAINERS_RYUK_DISABLED = "true";

// A broken cluster fails by running out a deadline: shorter ones than a real run's keep the whole
// catalog to minutes. Each is far above what a healthy cluster needs (see `npm run bench`).
const FAULT_RUN_TIMEOUTS = [
  "--timeout-metallb-ready",
  "20000",
  "--timeout-load-balancer-ip",
  "20000",
  "--timeout-http-ready",
  "30000",
  "--timeout-arp",
  "10000",
];

interface Row {
  fault: string;
  expected: string;
  observed: string;
  ok: boolean;
  detail: string;
}

const program = new Command("faults")
  .description("apply each fault of fixtures/faults to an ephemeral cluster and check the right criterion fails")
  .option("--only <names>", "comma-separated fault names (default: all)")
  .option("--cluster <runId>", "use a cluster started by `npm run cluster -- up` instead of a new one")
  .option("--reports-dir <dir>", "where each run's reports go", "reports/faults")
  .parse();
const opts = program.opts<{ only?: string; cluster?: string; reportsDir: string }>();

const runId = randomRunId();
const faults = loadFaults(
  undefined,
  opts.only?.split(",").map((s) => s.trim()),
);
const images = await loadImageManifest();
const homelab = loadProfile(DEFAULT_PROFILE);
let owned: string | undefined;
const onSignal = () => {
  if (owned) void stopEphemeralCluster(owned).finally(() => process.exit(130));
  else process.exit(130);
};
process.on("SIGINT", onSignal).on("SIGTERM", onSignal);

let exitCode = 1;
try {
  const cluster = opts.cluster ? await existingCluster(opts.cluster) : await newCluster();
  const profile = deriveEphemeralProfile(homelab, cluster.network.subnet);
  const env: FaultEnvironment = {
    kube: kubeClients({ path: cluster.kubeconfigPath }),
    cluster,
    images,
    profile,
    timeoutMs: profile.timeouts.metallbReadyMs,
  };
  await rm(opts.reportsDir, { recursive: true, force: true });
  const rows: Row[] = [];
  const baseline = await conformance(cluster, profile, "healthy-baseline");
  rows.push({
    fault: "(healthy baseline)",
    expected: "all pass",
    observed: baseline.status,
    ok: baseline.status === "passed",
    detail: baseline.status === "passed" ? "" : failedChecks(baseline),
  });
  for (const raw of faults) rows.push(await runFault(env, resolvePlaceholders(raw, profile)));
  const after = await conformance(cluster, profile, "healthy-after");
  rows.push({
    fault: "(healthy after all)",
    expected: "all pass",
    observed: after.status,
    ok: after.status === "passed",
    detail: after.status === "passed" ? "" : failedChecks(after),
  });
  printTable(rows);
  await writeFile(join(opts.reportsDir, "faults.json"), JSON.stringify(rows, null, 2));
  const missed = rows.filter((r) => !r.ok).length;
  process.stdout.write(
    `${rows.length - missed} of ${rows.length} as expected${missed ? `; ${missed} MISSED` : ""} (reports: ${opts.reportsDir})\n`,
  );
  exitCode = missed ? 1 : 0;
} catch (error) {
  process.stderr.write(`faults: ${(error as Error).message}\n`);
} finally {
  if (owned) await stopEphemeralCluster(owned);
}
process.exit(exitCode);

async function newCluster(): Promise<EphemeralCluster> {
  owned = runId;
  const cluster = await startEphemeralCluster({
    runId,
    images,
    nodes: nodePlanFromProfile(homelab),
    nodeStartTimeoutMs: homelab.timeouts.clusterReadyMs,
    nodesReadyTimeoutMs: homelab.timeouts.clusterReadyMs,
    nodeLogDir: join(opts.reportsDir, "nodes"),
  });
  const profile = deriveEphemeralProfile(homelab, cluster.network.subnet);
  await installMetallbForProfile(cluster, images, profile, profile.timeouts.metallbReadyMs);
  return cluster;
}

async function existingCluster(id: string): Promise<EphemeralCluster> {
  const text = await readFile(join(stateDirFor(id), "state.json"), "utf8").catch(() => {
    throw new Error(`no cluster ${id} of this suite is running (npm run cluster -- status)`);
  });
  return JSON.parse(text) as EphemeralCluster;
}

async function runFault(env: FaultEnvironment, fault: Fault): Promise<Row> {
  const base = { fault: fault.name, expected: fault.expect.criterion };
  progress("faults", `${fault.name}: ${fault.description}`);
  const undo: (() => Promise<void>)[] = [];
  try {
    for (const step of fault.break) undo.unshift(await applyStep(env, step));
    const verdict = await conformance(env.cluster, faultProfile(env.profile, fault), fault.name);
    const j = judge(fault, verdict);
    progress("faults", `${fault.name}: ${j.ok ? "caught by" : "MISSED, observed"} ${j.observed}: ${j.why}`);
    return { ...base, observed: j.observed, ok: j.ok, detail: j.why };
  } catch (error) {
    return { ...base, observed: "error", ok: false, detail: (error as Error).message };
  } finally {
    for (const u of undo) await u();
    await waitHealthy(env);
  }
}

/** A verify-only conformance run against the cluster, as the nightly runs against the homelab. */
async function conformance(cluster: EphemeralCluster, profile: Profile, name: string): Promise<Verdict> {
  const dir = join(opts.reportsDir, name);
  await mkdir(dir, { recursive: true });
  const profilePath = join(dir, "profile.yaml");
  await writeFile(profilePath, stringify(JSON.parse(JSON.stringify(profile))));
  const id = `f${(Math.random() * 1e6).toFixed(0)}`;
  // prettier-ignore
  const r = await execa("tsx", [
    "bin/conformance.ts", "--target", "kubeconfig", "--kubeconfig", cluster.kubeconfigPath,
    "--profile", profilePath, "--reports-dir", dir, "--run-id", id, ...FAULT_RUN_TIMEOUTS,
  ], { preferLocal: true, reject: false, all: true, env: { GITHUB_STEP_SUMMARY: "" } });
  await writeFile(join(dir, "run.log"), r.all ?? "");
  const verdict = await readFile(join(dir, "verdict.json"), "utf8").catch(() => undefined);
  if (!verdict) throw new Error(`conformance run for ${name} wrote no verdict (exit ${r.exitCode}; log ${join(dir, "run.log")})`);
  return JSON.parse(verdict) as Verdict;
}

function failedChecks(v: Verdict): string {
  return v.criteria
    .flatMap((c) => c.checks.filter((k) => k.status !== "passed").map((k) => `${c.id}: ${k.message ?? k.status}`))
    .join("; ");
}

function printTable(rows: readonly Row[]): void {
  const header = ["FAULT", "EXPECTED", "OBSERVED", "VERDICT", "DETAIL"];
  const cells = rows.map((r) => [r.fault, r.expected, r.observed, r.ok ? "ok" : "MISSED", r.detail.slice(0, 160)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  for (const line of [header, ...cells]) process.stdout.write(`${line.map((c, i) => c.padEnd(widths[i]!)).join("  ")}\n`);
}
