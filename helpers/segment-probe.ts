// "Another device on the segment" for the ARP and HTTP probes, on either target: the probe
// container on the ephemeral target's Docker network, or — on a live cluster — a hostNetwork pod
// of the profile's probe image on a node other than the one announcing the IP (an ARP request a
// node sends for an address its own speaker answers never reaches the wire). Helpers return
// values or throw; the suites assert.
import type * as k8s from "@kubernetes/client-node";
import { daemonSetReady } from "./conditions.ts";
import { containerMac } from "./docker.ts";
import { containerExecutor, podExecutor, type Executor } from "./exec.ts";
import { nodeInternalIP, type KubeClients } from "./kube.ts";
import type { RunContext } from "./run-context.ts";
import { waitFor } from "./wait.ts";
import { runLabelsK8s } from "./workloads.ts";

export interface SegmentHost {
  /** "probe container 172.28.5.30", "hostNetwork probe pod on k3s-worker-01" */
  readonly description: string;
  readonly executor: Executor;
  /** the interface on the segment (where ARP requests go out) */
  readonly iface: string;
}

export interface SegmentProbe {
  /** A host on the segment other than `announcingNode`. */
  hostOtherThan(announcingNode: string): Promise<SegmentHost>;
  /** The MAC address of `node`'s interface on the segment. */
  nodeMac(node: string): Promise<string>;
}

export const PROBE_DAEMONSET = "segment-probe";
const OS_LABEL = "kubernetes.io/os";

/** The probe for this run, or undefined when the target has none (then: "not verifiable here"). */
export function segmentProbeFor(kube: KubeClients, run: RunContext): SegmentProbe | undefined {
  if (run.ephemeral) {
    const { cluster, probe } = run.ephemeral;
    const host: SegmentHost = {
      description: `probe container ${probe.address}`,
      executor: containerExecutor(probe.containerId, "probe"),
      iface: "eth0",
    };
    return {
      hostOtherThan: async () => host,
      nodeMac: async (name) => {
        const node = cluster.nodes.find((n) => n.name === name);
        if (!node) throw new Error(`node ${name} is not one of the ephemeral cluster's nodes`);
        return containerMac(node.containerId, cluster.network.name);
      },
    };
  }
  const settings = run.profile.segmentProbe;
  if (!settings) return undefined;
  return hostNetworkProbe(kube, {
    namespace: run.testNamespace,
    runId: run.runId,
    image: settings.image,
    preferredNode: settings.node,
    readyTimeoutMs: run.timeouts.httpReadyMs,
  });
}

interface HostNetworkProbeOptions {
  namespace: string;
  runId: string;
  image: string;
  preferredNode?: string;
  readyTimeoutMs: number;
}

function hostNetworkProbe(kube: KubeClients, o: HostNetworkProbeOptions): SegmentProbe {
  const onNode = async (node: string): Promise<SegmentHost> => {
    const pods = await ensureProbePods(kube, o);
    const pod = pods.get(node);
    if (!pod) throw new Error(`no probe pod on node ${node} (probe pods on: ${[...pods.keys()].join(", ") || "none"})`);
    const executor = podExecutor(kube.kc, o.namespace, pod, "probe");
    const internalIP = nodeInternalIP(await kube.core.readNode({ name: node }));
    if (!internalIP) throw new Error(`node ${node} has no InternalIP`);
    return { description: `hostNetwork probe pod on ${node}`, executor, iface: await interfaceWith(executor, internalIP) };
  };
  return {
    async hostOtherThan(announcingNode) {
      const pods = await ensureProbePods(kube, o);
      const candidates = [...pods.keys()].filter((n) => n !== announcingNode);
      const node = candidates.includes(o.preferredNode ?? "") ? o.preferredNode! : candidates.sort()[0];
      if (!node)
        throw new Error(`no node other than ${announcingNode} runs a probe pod (probe pods on: ${[...pods.keys()].join(", ")})`);
      return onNode(node);
    },
    async nodeMac(node) {
      const host = await onNode(node);
      const r = await host.executor.exec(["cat", `/sys/class/net/${host.iface}/address`]);
      if (r.exitCode !== 0) throw new Error(`read MAC of ${host.iface} on ${node}: ${r.stderr.trim()}`);
      return r.stdout.trim().toLowerCase();
    },
  };
}

/** The interface that holds `address` (`ip -o -4 addr show`: "2: eth0    inet 10.0.0.5/24 ..."). */
export function interfaceHolding(ipAddrOutput: string, address: string): string | undefined {
  for (const line of ipAddrOutput.split("\n")) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(line.trim());
    if (m && m[2] === address) return m[1]!.replace(/@.*$/, "");
  }
  return undefined;
}

async function interfaceWith(executor: Executor, address: string): Promise<string> {
  const r = await executor.exec(["ip", "-o", "-4", "addr", "show"]);
  const iface = interfaceHolding(r.stdout, address);
  if (!iface) throw new Error(`${executor.description}: no interface holds the node's InternalIP ${address}`);
  return iface;
}

/** Creates the run's probe DaemonSet once (idempotent across suite files) and waits for it;
 * returns node name -> Ready probe pod name. */
async function ensureProbePods(kube: KubeClients, o: HostNetworkProbeOptions): Promise<Map<string, string>> {
  try {
    await kube.apps.createNamespacedDaemonSet({ namespace: o.namespace, body: probeDaemonSet(o) });
  } catch (error) {
    // Created by an earlier suite file, or by a concurrent call of this one.
    if ((error as { code?: number }).code !== 409) throw error;
  }
  const ds = await waitFor(
    `probe DaemonSet ${o.namespace}/${PROBE_DAEMONSET} (image ${o.image}) Ready`,
    async () => {
      const linux = (await kube.core.listNode()).items.filter((n) => (n.metadata?.labels?.[OS_LABEL] ?? "linux") === "linux");
      return daemonSetReady(kube, o.namespace, PROBE_DAEMONSET, linux.length)();
    },
    { timeoutMs: o.readyTimeoutMs, intervalMs: 500 },
  );
  const { items } = await kube.core.listNamespacedPod({
    namespace: o.namespace,
    labelSelector: `app=${PROBE_DAEMONSET}`,
  });
  const pods = new Map<string, string>();
  for (const pod of items) {
    const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    if (ready && pod.spec?.nodeName && !pod.metadata?.deletionTimestamp) pods.set(pod.spec.nodeName, pod.metadata!.name!);
  }
  if (pods.size === 0) throw new Error(`probe DaemonSet ${ds.metadata?.name} reports Ready but no probe pod is`);
  return pods;
}

function probeDaemonSet(o: HostNetworkProbeOptions): k8s.V1DaemonSet {
  const labels = { app: PROBE_DAEMONSET, ...runLabelsK8s(o.runId) };
  return {
    metadata: { name: PROBE_DAEMONSET, labels },
    spec: {
      selector: { matchLabels: { app: PROBE_DAEMONSET } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          nodeSelector: { [OS_LABEL]: "linux" },
          tolerations: [{ operator: "Exists" }],
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "probe",
              image: o.image,
              imagePullPolicy: "IfNotPresent",
              command: ["sleep", "infinity"],
              // arping needs raw sockets; nothing else is granted.
              securityContext: { capabilities: { add: ["NET_RAW"] } },
            },
          ],
        },
      },
    },
  };
}
