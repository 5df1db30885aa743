// The Traefik merge gate (issue 6) against a real cluster: a Service asking for the reserved address
// closes it, Traefik's own Service holding it keeps it open, and `npm run gate` says so with its
// exit code. Safe in verify-only mode: the "reserved" address is a free, unreserved pool address
// picked for this run, "Traefik" lives in the run's namespace, and the verdict is a fake green one.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { resourceDeleted, serviceHasIngressIP } from "../../helpers/conditions.ts";
import { evaluateGate, TRAEFIK, type GateResult } from "../../helpers/gate.ts";
import { isNotFound, kubeClients, type KubeClients } from "../../helpers/kube.ts";
import { loadBalancerAddressesInUse, pickFreeUnreservedAddress } from "../../helpers/pool-addresses.ts";
import { validateProfile, type Profile } from "../../helpers/profile.ts";
import type { ProfileData } from "../../helpers/profile-schema.ts";
import { toJson } from "../../helpers/report-formats.ts";
import { buildVerdict, STORY_CRITERIA, type Verdict } from "../../helpers/verdict.ts";
import { errorMessage, waitFor } from "../../helpers/wait.ts";
import { createLoadBalancerService } from "../../helpers/workloads.ts";

const run = inject("run");
const { timeouts, testNamespace: namespace } = run;
const SQUATTER = "squatter";
const CLI_DEADLINE_MS = 60_000;
let kube: KubeClients;
let address: string;
let profile: Profile;
let verdict: Verdict;
let dir: string;
const created: string[] = [];

/** The run's profile with Traefik's reservation moved to `reserved`, owned by `<run namespace>/traefik`. */
function gateProfile(base: Profile, reserved: string): Profile {
  const data = structuredClone(base) as ProfileData;
  data.name = `${base.name}-gate`;
  data.pool.reserved = [
    ...data.pool.reserved.filter((r) => r.purpose !== TRAEFIK),
    { address: reserved, purpose: TRAEFIK, service: { namespace, name: TRAEFIK } },
  ];
  return validateProfile(data, data.name);
}

/** What a green conformance run of `gated` would have written a minute ago. */
function greenVerdict(gated: Profile): Verdict {
  return buildVerdict({
    target: run.target,
    profile: gated.name,
    runId: run.runId,
    startedAt: new Date(Date.now() - 60_000),
    criteria: STORY_CRITERIA.map((c) => ({
      ...c,
      checks: [{ name: "fake for the gate test", status: "passed", durationMs: 0 }],
    })),
  });
}

async function gateNow(): Promise<GateResult> {
  const { items } = await kube.core.listServiceForAllNamespaces();
  return evaluateGate({
    profile,
    services: items,
    verdict,
    verdictSource: "the test's green verdict",
    now: new Date(),
    maxAgeHours: 26,
  });
}

async function createClaimant(name: string): Promise<void> {
  await createLoadBalancerService(kube, { namespace, name, runId: run.runId, selector: name, requestedIP: address });
  created.push(name);
}

async function deleteService(name: string): Promise<void> {
  try {
    await kube.core.deleteNamespacedService({ namespace, name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await waitFor(
    `Service ${namespace}/${name} deleted`,
    resourceDeleted(() => kube.core.readNamespacedService({ namespace, name })),
    { timeoutMs: timeouts.cleanupMs, intervalMs: 200 },
  );
}

/** `npm run gate` as CI runs it, on the run's cluster, with the gate profile and verdict of this file. */
async function gateCli(...extra: string[]) {
  const args = ["bin/gate.ts", "--kubeconfig", run.kubeconfigPath, "--profile", join(dir, "profile.yaml")];
  if (run.context) args.push("--context", run.context);
  args.push("--verdict", join(dir, "verdict.json"), ...extra);
  // Not GitHub's: an expected "closed" here must not become an annotation or a step summary of CI.
  const env = { GITHUB_ACTIONS: "", GITHUB_STEP_SUMMARY: "" };
  // The project's own tsx, as `npx tsx` resolves it (without npm's start-up and its warnings on stderr).
  const r = await execa("tsx", args, { preferLocal: true, reject: false, timeout: CLI_DEADLINE_MS, env });
  const stdout = r.stdout.toString();
  const stderr = r.stderr.toString();
  return { exitCode: r.exitCode, stdout, stderr, all: `exit ${r.exitCode}\n${stdout}\n${stderr}` };
}

/** Every credential of the run's kubeconfig (tokens, keys, certificates): none may be printed. */
async function kubeconfigSecrets(): Promise<string[]> {
  const kc = parse(await readFile(run.kubeconfigPath, "utf8")) as {
    users?: { user?: Record<string, unknown> }[];
    clusters?: { cluster?: Record<string, unknown> }[];
  };
  const values = [
    ...(kc.users ?? []).flatMap((u) => [u.user?.token, u.user?.["client-key-data"], u.user?.["client-certificate-data"]]),
    ...(kc.clusters ?? []).map((c) => c.cluster?.["certificate-authority-data"]),
  ];
  return values.filter((v): v is string => typeof v === "string" && v.length > 0);
}

function expectNoSecrets(output: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    expect(output.includes(secret), `gate: the CLI printed a kubeconfig credential (${secret.slice(0, 6)}...)`).toBe(false);
  }
}

beforeAll(async () => {
  kube = kubeClients({ path: run.kubeconfigPath, context: run.context });
  address = pickFreeUnreservedAddress(run.profile, await loadBalancerAddressesInUse(kube, run.profile));
  profile = gateProfile(run.profile, address);
  verdict = greenVerdict(profile);
  dir = await mkdtemp(join(tmpdir(), `traefik-gate-${run.runId}-`));
  await writeFile(join(dir, "profile.yaml"), stringify(JSON.parse(JSON.stringify(profile))));
  await writeFile(join(dir, "verdict.json"), toJson(verdict));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  for (const name of created) await deleteService(name);
});

describe("the Traefik merge gate on a live cluster (issue 6)", () => {
  it("opens while no Service holds or asks for the reserved address", async () => {
    const result = await gateNow();
    expect(result.reasons, `gate: expected open for the free address ${address}`).toEqual([]);
    expect(result.open).toBe(true);
  });

  it("closes while another Service asks for the reserved address, naming it", async () => {
    await createClaimant(SQUATTER);
    const result = await gateNow();
    const line = new RegExp(
      `^gate: ${address.replace(/\./g, "\\.")} \\(reserved for traefik\\) is (held|requested) by Service ` +
        `${namespace}/${SQUATTER} \\(.*annotation metallb\\.universe\\.tf/loadBalancerIPs.*\\), ` +
        `expected free or ${namespace}/traefik$`,
    );
    expect(result.open, `gate: stayed open while ${namespace}/${SQUATTER} asks for ${address}`).toBe(false);
    expect(result.reasons).toEqual([expect.stringMatching(line)]);
  });

  it("`npm run gate` exits 1 and prints the reason while the squatter asks for it", async () => {
    const r = await gateCli();
    expect(r.exitCode, `gate: expected exit 1 (closed), got:\n${r.all}`).toBe(1);
    expect(r.stdout).toContain("gate: CLOSED (1 reason(s)):");
    expect(r.stdout).toMatch(
      new RegExp(
        `^gate: ${address.replace(/\./g, "\\.")} \\(reserved for traefik\\) is .* by Service ${namespace}/${SQUATTER} `,
        "m",
      ),
    );
    expectNoSecrets(r.all, await kubeconfigSecrets());
  });

  it("stops claiming the address once the squatter is deleted", async () => {
    await deleteService(SQUATTER);
    const result = await gateNow();
    expect(result.reasons, `gate: expected open again after deleting ${namespace}/${SQUATTER}`).toEqual([]);
  });

  it("stays open while Traefik's own Service holds the address MetalLB assigned it", async () => {
    await createClaimant(TRAEFIK);
    const ip = await waitFor(`external IP of Service ${namespace}/${TRAEFIK}`, serviceHasIngressIP(kube, namespace, TRAEFIK), {
      timeoutMs: timeouts.loadBalancerIpMs,
      intervalMs: 100,
    }).catch((error: unknown) => {
      throw new Error(`gate: ${namespace}/${TRAEFIK} got no external IP from MetalLB: ${errorMessage(error)}`);
    });
    expect(ip, `gate: MetalLB gave ${namespace}/${TRAEFIK} ${ip}, not the reserved ${address} it asked for`).toBe(address);
    const result = await gateNow();
    expect(result.reasons, `gate: expected open while ${namespace}/${TRAEFIK} holds ${address}`).toEqual([]);
    const reservation = result.checks.find((c) => c.name.startsWith(address));
    expect(reservation?.detail).toBe(`held by Service ${namespace}/${TRAEFIK}`);
  });

  it("`npm run gate` exits 0 and says OPEN while Traefik holds it", async () => {
    const r = await gateCli();
    expect(r.exitCode, `gate: expected exit 0 (open), got:\n${r.all}`).toBe(0);
    expect(r.stdout).toContain("gate: OPEN: Traefik's PRs may merge");
    expect(r.stdout).toMatch(
      new RegExp(`ok +${address.replace(/\./g, "\\.")} reserved for traefik +held by Service ${namespace}/${TRAEFIK}`),
    );
    expectNoSecrets(r.all, await kubeconfigSecrets());
  });

  it("`npm run gate` exits 2 with one line for a context the kubeconfig does not have", async () => {
    const r = await gateCli("--context", `no-such-context-${run.runId}`);
    expect(r.exitCode, `gate: expected exit 2 (bad input), got:\n${r.all}`).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^gate: context "no-such-context-.*" not in .* \(contexts: /),
    ]);
    expect(r.stdout).toBe("");
  });
});
