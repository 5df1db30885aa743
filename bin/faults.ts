// `npm run faults [-- --only a,b] [--cluster RUNID]`: proves the suites fail for the right reason.
// On one ephemeral cluster with MetalLB (started here, or one left running by `npm run cluster --
// up`), a healthy baseline run must pass; then each fault of fixtures/faults is applied, judged by
// a real verify-only conformance run through the cluster's kubeconfig, and undone; a last healthy
// run must pass again. Prints fault -> expected -> observed -> verdict; exit 0 only when every
// fault was caught by the right criterion.
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { loadImageManifest, type ImageManifest } from "../helpers/cache.ts";
import { stateDirFor, stopEphemeralCluster, type EphemeralCluster } from "../helpers/cluster.ts";
import { startHomelabCluster } from "../helpers/homelab-cluster.ts";
import { DEFAULT_PROFILE } from "../helpers/config.ts";
import { loadFaults, type Fault } from "../helpers/fault-catalog.ts";
import { conformanceVerdict, runFault, runFaultOnItsOwnCluster } from "../helpers/fault-runner.ts";
import type { FaultEnvironment } from "../helpers/fault-steps.ts";
import { kubeClients } from "../helpers/kube.ts";
import { deriveEphemeralProfile, loadProfile, type Profile } from "../helpers/profile.ts";
import { randomRunId } from "../helpers/run-id.ts";
import type { Verdict } from "../helpers/verdict.ts";

process.env.TESTCONTAINERS_RYUK_DISABLED = "true";

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
const started: string[] = [];
const onSignal = () => void Promise.all(started.map(stopEphemeralCluster)).finally(() => process.exit(130));
process.on("SIGINT", onSignal).on("SIGTERM", onSignal);

let exitCode = 1;
try {
  const faults = loadFaults(
    undefined,
    opts.only?.split(",").map((s) => s.trim()),
  );
  const images = await loadImageManifest();
  const homelab = loadProfile(DEFAULT_PROFILE);
  await rm(opts.reportsDir, { recursive: true, force: true });
  const cluster = opts.cluster ? await existingCluster(opts.cluster) : await newCluster(images, homelab);
  const profile = deriveEphemeralProfile(homelab, cluster.network.subnet);
  const env: FaultEnvironment = {
    kube: kubeClients({ path: cluster.kubeconfigPath }),
    cluster,
    images,
    profile,
    timeoutMs: profile.timeouts.metallbReadyMs,
  };
  const healthy = async (name: string): Promise<Row> => {
    const v = await conformanceVerdict(cluster.kubeconfigPath, profile, join(opts.reportsDir, name), false);
    return { fault: `(${name})`, expected: "all pass", observed: v.status, ok: v.status === "passed", detail: failedChecks(v) };
  };
  const rows: Row[] = [await healthy("healthy-baseline")];
  for (const fault of faults) {
    const row = (observed: string, ok: boolean, detail: string): Row => ({
      fault: fault.name,
      expected: fault.expect.criterion,
      observed,
      ok,
      detail,
    });
    try {
      const j = fault.cluster ? await runOnItsOwnCluster(fault, images, homelab) : await runFault(env, fault, opts.reportsDir);
      rows.push(row(j.observed, j.ok, j.why));
    } catch (error) {
      rows.push(row("error", false, (error as Error).message.split("\n")[0]!));
    }
  }
  rows.push(await healthy("healthy-after"));
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
  for (const id of started) await stopEphemeralCluster(id);
}
process.exit(exitCode);

async function newCluster(images: ImageManifest, homelab: Profile): Promise<EphemeralCluster> {
  started.push(runId);
  return (await startHomelabCluster({ runId, images, homelab, nodeLogDir: join(opts.reportsDir, "nodes") })).cluster;
}

async function runOnItsOwnCluster(fault: Fault, images: ImageManifest, homelab: Profile) {
  const id = `${runId}-${started.length}`;
  started.push(id);
  return runFaultOnItsOwnCluster(fault, { runId: id, images, homelab, reportsDir: opts.reportsDir });
}

async function existingCluster(id: string): Promise<EphemeralCluster> {
  const text = await readFile(join(stateDirFor(id), "state.json"), "utf8").catch(() => {
    throw new Error(`no cluster ${id} of this suite is running (npm run cluster -- status)`);
  });
  return JSON.parse(text) as EphemeralCluster;
}

function failedChecks(v: Verdict): string {
  return v.criteria
    .flatMap((c) => c.checks.filter((k) => k.status !== "passed").map((k) => `${c.id}: ${k.message ?? k.status}`))
    .join("; ");
}

function printTable(rows: readonly Row[]): void {
  const header = ["FAULT", "EXPECTED", "OBSERVED", "VERDICT", "DETAIL"];
  const cells = rows.map((r) => [
    r.fault,
    r.expected,
    r.observed,
    r.ok ? "ok" : "MISSED",
    r.detail.split("\n")[0]!.slice(0, 160),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  for (const line of [header, ...cells]) process.stdout.write(`${line.map((c, i) => c.padEnd(widths[i]!)).join("  ")}\n`);
}
