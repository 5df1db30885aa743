// Live target, bad credentials (issue 6): `npm run conformance -- --target kubeconfig` pointed at
// this cluster with credentials it rejects (401) or that may do nothing (RBAC 403) stops before
// the suites with one line naming the cause, exit 2, and never prints the token — not on the
// console, not in the reports. Everything it creates lives in the run's own namespace.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as k8s from "@kubernetes/client-node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { isNotFound, kubeClients, type KubeClients } from "../../helpers/kube.ts";
import { done, notYet, waitFor } from "../../helpers/wait.ts";
import { runLabelsK8s } from "../../helpers/workloads.ts";

const run = inject("run");
const namespace = run.testNamespace;
const FAKE_TOKEN = "metallb-conformance-FAKE-TOKEN-0123456789abcdef";
const SERVICE_ACCOUNT = "no-permissions";
const TOKEN_SECRET = `${SERVICE_ACCOUNT}-token`;
const TOKEN_TIMEOUT_MS = 60_000;
const CLI_TIMEOUT_MS = 90_000;
let kube: KubeClients;
let dir: string;
let profilePath: string;

/** The run's cluster entry (same server and CA), with a user of our choosing. */
function kubeconfigWith(cluster: k8s.Cluster, user: { name: string; token: string }): string {
  const clusterFields = Object.fromEntries(
    Object.entries({
      server: cluster.server,
      "certificate-authority-data": cluster.caData,
      "certificate-authority": cluster.caFile,
      "insecure-skip-tls-verify": cluster.skipTLSVerify || undefined,
      "tls-server-name": cluster.tlsServerName,
    }).filter(([, value]) => value !== undefined),
  );
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "target", cluster: clusterFields }],
    users: [{ name: user.name, user: { token: user.token } }],
    contexts: [{ name: "bad-credentials", context: { cluster: "target", user: user.name } }],
    "current-context": "bad-credentials",
  });
}

/** A user's shell: nothing of this vitest run or its configuration. */
function userEnv(): Record<string, string> {
  const keep = Object.entries(process.env).filter(
    (e): e is [string, string] =>
      e[1] !== undefined && !/^(VITEST|METALLB_CONFORMANCE_|KUBECONFIG$|GITHUB_STEP_SUMMARY$)/.test(e[0]),
  );
  return Object.fromEntries(keep);
}

interface CliRun {
  exitCode: number | undefined;
  output: string;
  lines: string[];
  reportsDir: string;
}

async function conformance(kubeconfig: string, name: string): Promise<CliRun> {
  const path = join(dir, `${name}.kubeconfig`);
  await writeFile(path, kubeconfig, { mode: 0o600 });
  const reportsDir = join(dir, `${name}-reports`);
  // prettier-ignore
  const r = await execa("tsx", [
    "bin/conformance.ts", "--target", "kubeconfig", "--kubeconfig", path, "--profile", profilePath,
    "--reports-dir", reportsDir, "--run-id", `${run.runId}-bc`.slice(0, 20).replace(/-+$/, ""),
  ], { preferLocal: true, reject: false, env: userEnv(), extendEnv: false, timeout: CLI_TIMEOUT_MS });
  const stderr = String(r.stderr);
  return {
    exitCode: r.exitCode,
    output: `${String(r.stdout)}\n${stderr}`,
    lines: stderr.split("\n").filter((line) => line.trim() !== ""),
    reportsDir,
  };
}

/** Every file under `root` (none when it was never created), with its text. */
async function filesUnder(root: string): Promise<{ path: string; text: string }[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return Promise.all(files.map(async (path) => ({ path, text: await readFile(path, "utf8") })));
}

/** Never `expect(text).not.toContain(token)`: its failure message would print the token. */
async function expectTokenNowhere(r: CliRun, token: string, what: string): Promise<void> {
  expect(r.output.includes(token), `the CLI printed ${what} on stdout or stderr`).toBe(false);
  const leaked = (await filesUnder(r.reportsDir)).filter((f) => f.text.includes(token)).map((f) => f.path);
  expect(leaked, `${what} was written into the reports`).toEqual([]);
}

function expectOneLine(r: CliRun): string {
  const shown = r.lines.join("\n").slice(0, 2000);
  expect(r.lines, `expected one line on stderr, got:\n${shown}`).toHaveLength(1);
  expect(r.output, "a stack trace was printed").not.toMatch(/^\s+at /m);
  expect(r.exitCode, `exit code (stderr: ${shown})`).toBe(2);
  return r.lines[0]!;
}

beforeAll(async () => {
  kube = kubeClients({ path: run.kubeconfigPath, context: run.context });
  dir = await mkdtemp(join(tmpdir(), "metallb-conformance-bad-credentials-"));
  profilePath = join(dir, "profile.yaml");
  await writeFile(profilePath, stringify(JSON.parse(JSON.stringify(run.profile))));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("Live target: bad credentials stop the run before the suites, in one line, without the token", () => {
  it("says a rejected token is rejected (HTTP 401), naming user and context", async ({ annotate }) => {
    const cluster = kube.kc.getCurrentCluster();
    expect(cluster, "the run's kubeconfig has no current cluster").toBeDefined();
    const r = await conformance(kubeconfigWith(cluster!, { name: "fake-token-user", token: FAKE_TOKEN }), "fake-token");
    await expectTokenNowhere(r, FAKE_TOKEN, "the fake token");
    const line = expectOneLine(r);
    expect(line).toMatch(
      /^metallb-conformance: credentials of user fake-token-user \(context bad-credentials\) rejected by https?:\/\/\S+ \(HTTP 401\): token or client certificate expired or invalid — refresh the kubeconfig$/,
    );
    expect(line, "the line names the run's API server").toContain(cluster!.server);
    await annotate(line);
  });

  describe("a ServiceAccount with no roles", () => {
    let token: string;

    beforeAll(async () => {
      const labels = runLabelsK8s(run.runId);
      await kube.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: SERVICE_ACCOUNT, labels } } });
      // Kubernetes 1.25: a Secret of this type gets the ServiceAccount's token from the token controller.
      await kube.core.createNamespacedSecret({
        namespace,
        body: {
          metadata: { name: TOKEN_SECRET, labels, annotations: { "kubernetes.io/service-account.name": SERVICE_ACCOUNT } },
          type: "kubernetes.io/service-account-token",
        },
      });
      token = await waitFor(
        `token of ServiceAccount ${namespace}/${SERVICE_ACCOUNT} in Secret ${TOKEN_SECRET}`,
        async () => {
          const data = (await kube.core.readNamespacedSecret({ namespace, name: TOKEN_SECRET })).data?.token;
          return data ? done(Buffer.from(data, "base64").toString("utf8")) : notYet("Secret has no token yet");
        },
        { timeoutMs: TOKEN_TIMEOUT_MS, intervalMs: 200 },
      );
    });

    afterAll(async () => {
      for (const remove of [
        () => kube.core.deleteNamespacedSecret({ namespace, name: TOKEN_SECRET }),
        () => kube.core.deleteNamespacedServiceAccount({ namespace, name: SERVICE_ACCOUNT }),
      ]) {
        await remove().catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
      }
    });

    it("lists the permissions it lacks in one RBAC line, starting with list nodes", async ({ annotate }) => {
      const cluster = kube.kc.getCurrentCluster()!;
      const r = await conformance(kubeconfigWith(cluster, { name: SERVICE_ACCOUNT, token }), "no-permissions");
      await expectTokenNowhere(r, token, "the ServiceAccount's token");
      const line = expectOneLine(r);
      expect(line).toMatch(/^metallb-conformance: RBAC: user no-permissions \(context bad-credentials\) may not: /);
      expect(line).toMatch(/may not: list nodes, create namespaces/);
      expect(line).toMatch(/in all namespaces: list deployments\.apps, .*list services/);
      expect(line, "Helm secrets are read in MetalLB's namespace only").not.toMatch(/in all namespaces:[^;]*list secrets/);
      expect(line).toMatch(/in the run's namespace metallb-conformance-\S+: create deployments\.apps/);
      expect(line).toMatch(/grant them \(see README "Nightly"\)$/);
      await annotate(line);
    });
  });
});
