// Stopping and starting one node of the ephemeral cluster (the failover check), and telling when
// it has really come back. Only for the ephemeral target: a live cluster's node is never stopped.
//
// A stopped node container loses its tmpfs mounts — /var/lib/rancher/k3s (containerd's images
// and state, the agent's certificates) and /run — and its network namespace, hence the egress
// guard's iptables rules. /etc/rancher (the node password the server checks) lives in the
// container's own layer and survives, so the agent registers again as the same node, re-imports
// the preloaded images from the read-only bind mount and recreates its pods; the guard is put
// back by `startNode` before the node has started any pod.
import * as k8s from "@kubernetes/client-node";
import { confineEgress, egressGuardRules, type ClusterNode } from "./cluster.ts";
import { daemonSetReady } from "./conditions.ts";
import { dockerode } from "./docker.ts";
import { containerExecutor, type Executor } from "./exec.ts";
import { describeNodes, nodeIsReady, type KubeClients } from "./kube.ts";
import { podIsReady } from "./metallb.ts";
import { done, notYet, type Observation } from "./wait.ts";

const NODE_LEASE_NAMESPACE = "kube-node-lease";

/** Docker answers 304 when the container already is in the requested state. */
function ignoreNotModified(error: unknown): void {
  if ((error as { statusCode?: number }).statusCode !== 304) throw error;
}

export function nodeExecutor(node: ClusterNode): Executor {
  return containerExecutor(node.containerId, `node ${node.name}`);
}

export async function nodeContainerRunning(node: ClusterNode): Promise<boolean> {
  const docker = await dockerode();
  return (await docker.getContainer(node.containerId).inspect()).State.Running;
}

/** `docker stop` of the node's container (SIGTERM to k3s, whose exit kills every process of the
 * node, pods included, without any graceful leave). Resolves once the container has stopped. */
export async function stopNode(node: ClusterNode, graceSeconds = 10): Promise<void> {
  const docker = await dockerode();
  await docker.getContainer(node.containerId).stop({ t: graceSeconds }).catch(ignoreNotModified);
}

/** `docker start` of the node's container, then its egress guard again (the rules went with the
 * old network namespace). Returns when the start was asked for: the node has restarted since. */
export async function startNode(node: ClusterNode, subnet: string): Promise<Date> {
  const docker = await dockerode();
  const since = new Date();
  await docker.getContainer(node.containerId).start().catch(ignoreNotModified);
  const executor = nodeExecutor(node);
  if ((await missingEgressGuardRules(executor, subnet)).length > 0) await confineEgress(executor, subnet);
  return since;
}

/** The egress guard rules (helpers/cluster.ts) that `node` lacks, as "table chain target". */
export async function missingEgressGuardRules(node: Executor, subnet: string): Promise<string[]> {
  const missing: string[] = [];
  for (const rule of egressGuardRules(subnet)) {
    // ["-t", table, "-I", chain, "1", ...match] -> ["-t", table, "-C", chain, ...match]
    const [t, table, , chain, , ...match] = rule;
    const r = await node.exec(["iptables", t!, table!, "-C", chain!, ...match]);
    if (r.exitCode !== 0) missing.push(`${table} ${chain} ${match[match.length - 1]}`);
  }
  return missing;
}

/** Kubernetes times have whole seconds: a time written at or after `since` is at or after this. */
function wholeSecond(since: Date): number {
  return Math.floor(since.getTime() / 1000) * 1000;
}

/** Why `node` has not come back since `since`, or undefined when it is Ready and its kubelet has
 * renewed its lease after `since` (a Ready condition alone may be the one from before the stop:
 * the node controller marks a silent node NotReady only after its grace period). */
export function nodeNotBackReason(node: k8s.V1Node | undefined, lease: k8s.V1Lease | undefined, since: Date): string | undefined {
  if (!node) return "node not registered";
  if (!nodeIsReady(node)) return "node not Ready";
  const renewed = lease?.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : undefined;
  if (renewed === undefined) return "kubelet lease never renewed";
  if (renewed < since.getTime()) return `kubelet lease last renewed ${new Date(renewed).toISOString()}, before the restart`;
  return undefined;
}

/** Is `pod` Ready with every container started at or after `since` (i.e. started anew)? */
export function podRunningSince(pod: k8s.V1Pod, since: Date): boolean {
  const statuses = pod.status?.containerStatuses ?? [];
  const started = statuses.map((s) => s.state?.running?.startedAt);
  return (
    podIsReady(pod) && statuses.length > 0 && started.every((t) => t !== undefined && new Date(t).getTime() >= wholeSecond(since))
  );
}

export interface NodeBackOptions {
  node: string;
  since: Date;
  metallbNamespace: string;
  speakerDaemonSet: string;
  speakerSelector: string;
  /** every node the cluster should have Ready */
  nodes: readonly string[];
}

/** The restarted node is back: every node Ready, the node's kubelet alive since the restart, its
 * speaker started anew and Ready, and the speaker DaemonSet fully Ready. */
export function nodeBackSince(kube: KubeClients, o: NodeBackOptions) {
  const leases = kube.kc.makeApiClient(k8s.CoordinationV1Api);
  return async (): Promise<Observation<true>> => {
    const { items } = await kube.core.listNode();
    const notReady = o.nodes.filter((n) => !items.some((node) => node.metadata?.name === n && nodeIsReady(node)));
    if (notReady.length > 0) return notYet(`not Ready: ${notReady.join(", ")} (${describeNodes(items)})`);
    const lease = await leases.readNamespacedLease({ namespace: NODE_LEASE_NAMESPACE, name: o.node }).catch(() => undefined);
    const reason = nodeNotBackReason(
      items.find((n) => n.metadata?.name === o.node),
      lease,
      o.since,
    );
    if (reason) return notYet(`${o.node}: ${reason}`);
    const speakers = (await kube.core.listNamespacedPod({ namespace: o.metallbNamespace, labelSelector: o.speakerSelector }))
      .items;
    const here = speakers.filter((p) => p.spec?.nodeName === o.node && !p.metadata?.deletionTimestamp);
    if (!here.some((p) => podRunningSince(p, o.since)))
      return notYet(`${o.node}: no speaker started since the restart and Ready (${here.length} speaker pod(s) there)`);
    const ds = await daemonSetReady(kube, o.metallbNamespace, o.speakerDaemonSet, o.nodes.length)();
    return ds.done ? done(true as const) : notYet(`DaemonSet ${o.speakerDaemonSet}: ${ds.observed}`);
  };
}
