// Live target safety (issue 6): a verify-only conformance run, pointed at this cluster through its
// kubeconfig as the nightly points at the homelab, changes no existing object and leaves nothing
// of its own behind. Proven by recording every protected object's resourceVersion around a real
// run of the command (`npm run conformance -- --target kubeconfig`).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type Result } from "execa";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { diffSnapshots, snapshotProtectedObjects, type Snapshot, type SnapshotDiff } from "../../helpers/cluster-snapshot.ts";
import { kubeClients, type KubeClients } from "../../helpers/kube.ts";
import { discoverMetallbNamespace } from "../../helpers/metallb.ts";
import { userEnv } from "../../helpers/user-env.ts";
import { done, errorMessage, notYet, waitFor } from "../../helpers/wait.ts";
import { RUN_ID_LABEL } from "../../helpers/workloads.ts";

const run = inject("run");
const auditRunId = `${run.runId}-audit`.slice(0, 20).replace(/-+$/, "");
const CHILD_TIMEOUT_MS = 600_000;
let kube: KubeClients;
let dir: string;
let metallbNs: string | undefined;
let before: Snapshot | undefined;
let child: Result | undefined;
let setupError = "not started";

beforeAll(async () => {
  kube = kubeClients({ path: run.kubeconfigPath, context: run.context });
  dir = await mkdtemp(join(tmpdir(), "metallb-conformance-audit-"));
  try {
    metallbNs = await discoverMetallbNamespace(kube);
    if (!metallbNs) throw new Error("MetalLB is not installed: nothing to audit");
    const profilePath = join(dir, "profile.yaml");
    await writeFile(profilePath, stringify(JSON.parse(JSON.stringify(run.profile))));
    before = await snapshotProtectedObjects(kube, metallbNs);
    // prettier-ignore
    child = await execa("npx", [
      "tsx", "bin/conformance.ts", "--target", "kubeconfig", "--kubeconfig", run.kubeconfigPath,
      ...(run.context ? ["--context", run.context] : []),
      "--profile", profilePath, "--reports-dir", join(dir, "reports"), "--run-id", auditRunId,
    ], { reject: false, all: true, env: userEnv(), extendEnv: false, timeout: CHILD_TIMEOUT_MS });
  } catch (error) {
    setupError = errorMessage(error);
  }
}, CHILD_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function requireRun(): { before: Snapshot; child: Result } {
  expect(child, `live target: the verify-only run could not be started: ${setupError}`).toBeDefined();
  return { before: before!, child: child! };
}

describe("Live target: a verify-only run changes no existing object and leaves nothing behind", () => {
  it("runs the verify-only conformance against this cluster through its kubeconfig, and it passes", () => {
    const { child } = requireRun();
    const tail = String(child.all ?? "")
      .split("\n")
      .slice(-25)
      .join("\n");
    expect(child.exitCode, `live target: verify-only run ${auditRunId} exited ${child.exitCode}:\n${tail}`).toBe(0);
  });

  it("changes no MetalLB object, Helm release secret, node or namespace", async ({ annotate }) => {
    const { before } = requireRun();
    const diff = diffSnapshots(before, await snapshotProtectedObjects(kube, metallbNs!));
    const written = [...diff.changed.map((k) => `${k} changed`), ...diff.removed.map((k) => `${k} deleted`)];
    expect(written, `live target: verify-only run ${auditRunId} modified existing objects: ${written.join("; ")}`).toEqual([]);
    // MetalLB's pool status controller recounts assigned addresses and the kubelet reports node
    // status: status written by an object's own controller is not a change by the run.
    if (diff.statusOnly.length > 0) await annotate(`status-only updates by controllers: ${diff.statusOnly.join(", ")}`);
  });

  it("leaves no namespace, Service, pod or MetalLB object of its own", async () => {
    const { before } = requireRun();
    const leftovers = await waitFor(
      `nothing of run ${auditRunId} left`,
      async () => {
        const found = await remainsOf(kube, auditRunId, before);
        return found.length === 0 ? done(found) : notYet(found.join(", "));
      },
      { timeoutMs: run.timeouts.cleanupMs, intervalMs: 500 },
    ).catch((error: unknown) => [errorMessage(error)]);
    expect(leftovers, `live target: verify-only run ${auditRunId} left objects behind: ${leftovers.join("; ")}`).toEqual([]);
  });
});

/** Objects of the run still in the cluster: labelled ones, and protected kinds that were not there before. */
async function remainsOf(kube: KubeClients, runId: string, before: Snapshot): Promise<string[]> {
  const labelSelector = `${RUN_ID_LABEL}=${runId}`;
  const found = [
    ...(await kube.core.listNamespace({ labelSelector })).items.map((n) => `Namespace ${n.metadata?.name}`),
    ...(await kube.core.listServiceForAllNamespaces({ labelSelector })).items.map(
      (s) => `Service ${s.metadata?.namespace}/${s.metadata?.name}`,
    ),
    ...(await kube.core.listPodForAllNamespaces({ labelSelector })).items.map(
      (p) => `Pod ${p.metadata?.namespace}/${p.metadata?.name}`,
    ),
  ];
  const diff: SnapshotDiff = diffSnapshots(before, await snapshotProtectedObjects(kube, metallbNs!));
  return [...found, ...diff.added.map((k) => `${k} (new)`)];
}
