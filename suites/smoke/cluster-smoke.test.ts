// Smoke: the ephemeral cluster is a real, working 3-node k3s before any AC is judged on it.
import type * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { daemonSetReady, deleteNamespace, deploymentAvailable } from "../../helpers/conditions.ts";
import { containerExecutor, podExecutor } from "../../helpers/exec.ts";
import { kubeClients, nodeIsReady, type KubeClients } from "../../helpers/kube.ts";
import { EGRESS_GUARD_COMMENT } from "../../helpers/cluster.ts";
import { EPHEMERAL_METALLB_NAMESPACE } from "../../helpers/metallb-setup.ts";
import { done, notYet, waitFor } from "../../helpers/wait.ts";
import { createClusterIPService, createRunNamespace, createWebDaemonSet } from "../../helpers/workloads.ts";

const run = inject("run");
if (!run.ephemeral) throw new Error("the smoke suite proves the ephemeral cluster: run it with --target k3s");
const { cluster, images } = run.ephemeral;
const expectedNodes = cluster.nodes.map((n) => n.name);
const namespace = `smoke-${cluster.runId}`;
let kube: KubeClients;

beforeAll(async () => {
  kube = kubeClients({ path: cluster.kubeconfigPath });
  await createRunNamespace(kube, namespace, cluster.runId);
});
afterAll(async () => {
  await deleteNamespace(kube, namespace, 120_000);
});

async function webPodsByNode(): Promise<Map<string, k8s.V1Pod>> {
  const { items } = await kube.core.listNamespacedPod({ namespace, labelSelector: "app=web" });
  return new Map(items.map((p) => [p.spec?.nodeName ?? "?", p]));
}

describe("smoke: ephemeral 3-node k3s", () => {
  it("has the homelab's three nodes, all Ready", async () => {
    const { items } = await kube.core.listNode();
    const byName = new Map(items.map((n) => [n.metadata?.name, n]));
    for (const name of expectedNodes) {
      const node = byName.get(name);
      expect(node, `node ${name} is not registered`).toBeDefined();
      expect(nodeIsReady(node!), `node ${name} is not Ready`).toBe(true);
    }
    expect(items).toHaveLength(expectedNodes.length);
  });

  it("confines every node's egress to the suite's own network", async () => {
    const subnet = cluster.network.subnet.replace(/\./g, "\\.");
    for (const node of cluster.nodes) {
      const exec = containerExecutor(node.containerId, `node ${node.name}`);
      const rules = (await exec.exec(["iptables", "-S"])).stdout + (await exec.exec(["iptables", "-t", "mangle", "-S"])).stdout;
      for (const [chain, target] of [
        ["FORWARD", "REJECT"],
        ["OUTPUT", "REJECT"],
        ["POSTROUTING", "DROP"],
      ]) {
        expect(rules, `${node.name}: no egress guard in ${chain}`).toMatch(
          new RegExp(`-A ${chain} ! -d ${subnet} -o eth0 .*${EGRESS_GUARD_COMMENT}.* -j ${target}`),
        );
      }
    }
  });

  it("runs a DaemonSet pod on every node", async () => {
    await createWebDaemonSet(kube, {
      namespace,
      name: "web",
      runId: cluster.runId,
      nginxImage: images.nginxImage,
      probeImage: images.probeImage,
    });
    await waitFor("DaemonSet web ready on every node", daemonSetReady(kube, namespace, "web", expectedNodes.length), {
      timeoutMs: 120_000,
    });
    const pods = await webPodsByNode();
    expect([...pods.keys()].sort()).toEqual([...expectedNodes].sort());
    for (const pod of pods.values()) expect(pod.status?.phase).toBe("Running");
  });

  it("routes pod-to-pod traffic across nodes (flannel)", async () => {
    const pods = await webPodsByNode();
    for (const [fromNode, from] of pods) {
      const probe = podExecutor(kube.kc, namespace, from.metadata!.name!, "probe");
      for (const [toNode, to] of pods) {
        if (toNode === fromNode) continue;
        const r = await probe.exec([
          "curl",
          "-sS",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "--max-time",
          "5",
          `http://${to.status!.podIP}/`,
        ]);
        expect(r.stdout, `curl from ${fromNode} to pod on ${toNode}: ${r.stderr}`).toBe("200");
      }
    }
  });

  it("answers a ClusterIP Service from every node (kube-proxy)", async () => {
    const service = await createClusterIPService(kube, namespace, "web", cluster.runId);
    const clusterIP = service.spec!.clusterIP!;
    for (const [node, pod] of await webPodsByNode()) {
      const probe = podExecutor(kube.kc, namespace, pod.metadata!.name!, "probe");
      // kube-proxy programs a new Service on every node asynchronously: poll with a deadline.
      const body = await waitFor(
        `ClusterIP ${clusterIP} answering from ${node}`,
        async () => {
          const r = await probe.exec(["curl", "-sS", "--max-time", "2", `http://${clusterIP}/`]);
          return r.exitCode === 0 ? done(r.stdout) : notYet(`curl exit ${r.exitCode}: ${r.stderr.trim()}`);
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(body, `ClusterIP ${clusterIP} from ${node}`).toContain("Welcome to nginx!");
    }
  });

  it(`has MetalLB ${run.profile.metallb.chart.version} (installed by the run's setup) with a Ready controller and a speaker per node`, async () => {
    const ns = EPHEMERAL_METALLB_NAMESPACE;
    await waitFor("MetalLB controller Available", deploymentAvailable(kube, ns, `${run.profile.metallb.release}-controller`), {
      timeoutMs: 60_000,
    });
    const speakers = await waitFor(
      "MetalLB speakers ready",
      daemonSetReady(kube, ns, `${run.profile.metallb.release}-speaker`, expectedNodes.length),
      { timeoutMs: 60_000 },
    );
    expect(speakers.status?.numberReady).toBe(expectedNodes.length);
  });
});
