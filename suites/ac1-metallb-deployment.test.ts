// AC1: Given k3s with all nodes Ready, When MetalLB is deployed via Helm with values-homelab.yaml,
// Then the controller and speaker pods start and all show Running.
import { beforeAll, describe, expect, inject, it } from "vitest";
import { deploymentAvailable } from "../helpers/conditions.ts";
import { findReleasesOfChart } from "../helpers/helm-release.ts";
import { isSchedulableLinux, kubeClients, nodeIsReady, type KubeClients } from "../helpers/kube.ts";
import { CONTROLLER_SELECTOR, metallbPods, podIsReady, SPEAKER_SELECTOR } from "../helpers/metallb.ts";
import { setupFromProfile, upgradeInstallMetallb } from "../helpers/metallb-setup.ts";
import { errorMessage, waitFor } from "../helpers/wait.ts";
import { Given } from "./support/given.ts";
import { metallbNamespace } from "./support/metallb-state.ts";

const run = inject("run");
const { profile, timeouts } = run;
const chart = profile.metallb.chart;
const release = profile.metallb.release;
const METALLB_CRDS = [
  "ipaddresspools",
  "l2advertisements",
  "servicel2statuses",
  "bgppeers",
  "bgpadvertisements",
  "communities",
  "bfdprofiles",
];
const given = new Given("precondition");
let kube: KubeClients;
let ns: string | undefined;

beforeAll(async () => {
  kube = kubeClients({ path: run.kubeconfigPath, context: run.context });
  await given.evaluate(async () => {
    const { items } = await kube.core.listNode();
    const notReady = items.filter((n) => !nodeIsReady(n)).map((n) => n.metadata?.name);
    return notReady.length ? `precondition: nodes not Ready: ${notReady.join(", ")}` : undefined;
  });
  ns = await metallbNamespace(kube, run).catch(() => undefined);
});

describe(`AC1: MetalLB ${chart.version} is deployed by Helm; its controller and a speaker on every node are Running`, () => {
  it("finds where MetalLB is installed (namespace discovered from its controller)", async () => {
    given.require();
    expect(ns, "AC1: MetalLB is not installed: no controller Deployment or speaker DaemonSet in any namespace").toBeDefined();
    if (profile.metallb.namespace === "discover") {
      expect(profile.metallb.namespaceCandidates, `AC1: MetalLB runs in ${ns}, which the profile does not expect`).toContain(ns);
    }
  });

  it(`has Helm release "${release}" of chart ${chart.name} deployed at version ${chart.version}`, async () => {
    given.require();
    expect(ns, "AC1: MetalLB is not installed").toBeDefined();
    const releases = await findReleasesOfChart(kube, ns!, chart.name);
    const found = releases.find((r) => r.name === release && r.namespace === ns);
    const seen = releases.map((r) => `${r.namespace}/${r.name} ${r.chartVersion} (${r.status})`).join(", ") || "none";
    expect(
      found,
      `AC1: no Helm release ${release} of chart ${chart.name} in ${ns}; releases of that chart there: ${seen}`,
    ).toBeDefined();
    expect(found!.status, `AC1: Helm release ${ns}/${release} is ${found!.status}, expected deployed`).toBe("deployed");
    expect(
      found!.chartVersion,
      `AC1: Helm release ${ns}/${release} runs chart ${found!.chartVersion}, expected ${chart.version}`,
    ).toBe(chart.version);
  });

  if (run.mode === "install" && run.ephemeral) {
    const { images, cluster } = run.ephemeral;
    it("is idempotent: helm upgrade --install with the same values leaves it deployed at the same version", async () => {
      given.require();
      const before = (await findReleasesOfChart(kube, ns!, chart.name)).find((r) => r.name === release);
      await upgradeInstallMetallb(images, cluster.kubeconfigPath, setupFromProfile(profile, timeouts.metallbReadyMs));
      const after = (await findReleasesOfChart(kube, ns!, chart.name)).find((r) => r.name === release);
      expect(after?.status, "AC1: release not deployed after a repeated helm upgrade --install").toBe("deployed");
      expect(after?.chartVersion, "AC1: chart version changed on a repeated helm upgrade --install").toBe(chart.version);
      expect(after?.revision, "AC1: a repeated helm upgrade --install did not record a new revision").toBe(
        (before?.revision ?? 0) + 1,
      );
    });
  }

  it("has its controller Deployment Available", async () => {
    given.require();
    expect(ns, "AC1: MetalLB is not installed").toBeDefined();
    const name = `${release}-controller`;
    const deployment = await kube.apps.readNamespacedDeployment({ namespace: ns!, name }).catch(() => undefined);
    expect(deployment, `AC1: no controller Deployment ${ns}/${name}`).toBeDefined();
    expect(deployment!.spec?.replicas, `AC1: controller Deployment ${ns}/${name} is scaled to 0`).not.toBe(0);
    const outcome = await waitFor(`controller ${ns}/${name} Available`, deploymentAvailable(kube, ns!, name), {
      timeoutMs: timeouts.metallbReadyMs,
    }).then(() => "Available", errorMessage);
    expect(outcome, `AC1: controller Deployment ${ns}/${name} is not Available: ${outcome}`).toBe("Available");
  });

  it("runs exactly one Ready speaker on every schedulable Linux node", async () => {
    given.require();
    expect(ns, "AC1: MetalLB is not installed").toBeDefined();
    const problems = await waitFor(
      "one Ready speaker per schedulable Linux node",
      async () => {
        const nodes = (await kube.core.listNode()).items.filter(isSchedulableLinux).map((n) => n.metadata!.name!);
        const speakers = await metallbPods(kube, ns!, SPEAKER_SELECTOR);
        const found: string[] = [];
        for (const expected of profile.network.nodes.map((n) => n.name)) {
          if (!nodes.includes(expected)) found.push(`profile node ${expected} is not a schedulable node of the cluster`);
        }
        for (const node of nodes) {
          const here = speakers.filter((p) => p.spec?.nodeName === node);
          const ready = here.filter(podIsReady);
          if (ready.length === 0)
            found.push(
              `no Ready speaker on node ${node} (${here.length} speaker pod(s) there: ${here.map((p) => p.status?.phase).join(", ") || "none"})`,
            );
          if (here.length > 1) found.push(`${here.length} speakers on node ${node}`);
        }
        const ds = await kube.apps.readNamespacedDaemonSet({ namespace: ns!, name: `${release}-speaker` }).catch(() => undefined);
        const summary = ds
          ? ` (DaemonSet ${release}-speaker: ${ds.status?.numberReady ?? 0}/${ds.status?.desiredNumberScheduled ?? 0} ready)`
          : "";
        return found.length === 0
          ? { done: true as const, value: [] }
          : { done: false as const, observed: found.join("; ") + summary };
      },
      { timeoutMs: timeouts.metallbReadyMs },
    ).catch((error: unknown) => [errorMessage(error)]);
    expect(problems, `AC1: ${problems.join("; ")}`).toEqual([]);
  });

  it("serves MetalLB's CRDs (metallb.io/v1beta1)", async () => {
    given.require();
    const missing: string[] = [];
    for (const plural of METALLB_CRDS) {
      const crd = await kube.apiext.readCustomResourceDefinition({ name: `${plural}.metallb.io` }).catch(() => undefined);
      const established = crd?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
      const served = crd?.spec.versions.some((v) => v.name === "v1beta1" && v.served);
      if (!crd) missing.push(`${plural}.metallb.io absent`);
      else if (!established || !served) missing.push(`${plural}.metallb.io not established/served at v1beta1`);
    }
    expect(missing, `AC1: MetalLB CRDs: ${missing.join("; ")}`).toEqual([]);
  });

  it("has a validating webhook that rejects a malformed IPAddressPool (dry run)", async () => {
    given.require();
    const body = {
      apiVersion: "metallb.io/v1beta1",
      kind: "IPAddressPool",
      metadata: { name: `metallb-conformance-${run.runId}-malformed`, namespace: ns },
      spec: { addresses: ["not-an-address"] },
    };
    let rejection: string | undefined;
    try {
      await kube.objects.create(body, undefined, "All");
    } catch (error) {
      rejection = errorMessage(error);
    }
    expect(
      rejection,
      "AC1: MetalLB accepted a malformed IPAddressPool (addresses: not-an-address): its validating webhook is not answering",
    ).toBeDefined();
    expect(rejection, `AC1: the malformed pool was refused, but not by MetalLB's webhook: ${rejection}`).toMatch(
      /admission webhook|metallb/i,
    );
  });
});
