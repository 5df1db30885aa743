// The ephemeral target: one k3s server and two agents, named like the homelab, on a Docker
// network the helper creates, at the homelab's host offsets inside that network's subnet.
// Teardown removes every container and the network, whatever happened before.
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { StartedTestContainer } from "testcontainers";
import { cacheDir, type ImageManifest } from "./cache.ts";
import { createSuiteNetwork, ROLE_LABEL, runLabels, sweep, type SuiteNetwork } from "./docker.ts";
import { K3sAgentContainer, K3sServerContainer, type NodeContainerSpec } from "./k3s-node.ts";
import { containerExecutor, type Executor } from "./exec.ts";
import { describeNodes, kubeClients, nodeIsReady } from "./kube.ts";
import { addressAtOffset, hostOffset, parseCidr } from "./ip-range.ts";
import type { Profile } from "./profile.ts";
import { progress } from "./progress.ts";
import { done, notYet, waitFor } from "./wait.ts";

export interface NodePlan {
  name: string;
  /** host offset inside the /24, e.g. 20 for k3s-master (homelab 192.168.2.20) */
  hostOffset: number;
  role: "server" | "agent";
}

/** The cluster's nodes as the profile describes them: names, roles and host offsets. */
export function nodePlanFromProfile(profile: Profile): NodePlan[] {
  const subnet = parseCidr(profile.network.subnet);
  return profile.network.nodes.map((n) => ({ name: n.name, role: n.role, hostOffset: hostOffset(subnet, n.address) }));
}

/** Components MetalLB replaces (servicelb, traefik) and ones the suite does not need. */
export const K3S_DISABLED = ["traefik", "servicelb", "metrics-server", "local-storage", "coredns"];

export interface EphemeralClusterOptions {
  runId: string;
  images: ImageManifest;
  nodes: readonly NodePlan[];
  /** extra server flags */
  serverArgs?: string[];
  /** leave k3s's ServiceLB on (the fault catalog's conflicting LoadBalancer implementation) */
  keepServiceLB?: boolean;
  nodeStartTimeoutMs: number;
  nodesReadyTimeoutMs: number;
  /** each node's container log goes to <nodeLogDir>/<node>.log */
  nodeLogDir: string;
}

export interface ClusterNode {
  name: string;
  role: "server" | "agent";
  address: string;
  containerId: string;
  containerName: string;
}

export interface EphemeralCluster {
  runId: string;
  network: SuiteNetwork;
  nodes: ClusterNode[];
  kubeconfigPath: string;
  stateDir: string;
}

export function addressAt(subnet: string, offset: number): string {
  return addressAtOffset(parseCidr(subnet), offset).toString();
}

export function stateDirFor(runId: string): string {
  return join(cacheDir(), "clusters", runId);
}

export async function startEphemeralCluster(options: EphemeralClusterOptions): Promise<EphemeralCluster> {
  const { runId, images } = options;
  const plans = options.nodes;
  const server = plans.find((p) => p.role === "server");
  if (!server) throw new Error("cluster plan has no server node");
  const stateDir = stateDirFor(runId);
  await mkdir(options.nodeLogDir, { recursive: true });
  try {
    progress("cluster", `creating Docker network for run ${runId}`);
    const network = await createSuiteNetwork(runId, parseInt(randomBytes(2).toString("hex"), 16));
    progress("cluster", `network ${network.name} ${network.subnet}`);
    const token = randomBytes(24).toString("hex");
    const spec = (plan: NodePlan): NodeContainerSpec => ({
      image: images.k3sImage,
      containerName: `metallb-conformance-${runId}-${plan.name}`,
      nodeName: plan.name,
      address: addressAt(network.subnet, plan.hostOffset),
      networkName: network.name,
      preloadDir: images.preloadDir,
      labels: { ...runLabels(runId), [ROLE_LABEL]: plan.role },
      startupTimeoutMs: options.nodeStartTimeoutMs,
      logFile: join(options.nodeLogDir, `${plan.name}.log`),
    });
    const common = (plan: NodePlan) => [
      `--node-name=${plan.name}`,
      `--node-ip=${addressAt(network.subnet, plan.hostOffset)}`,
      "--flannel-iface=eth0",
      `--token=${token}`,
      `--pause-image=${images.pauseImage}`,
    ];
    const serverAddress = addressAt(network.subnet, server.hostOffset);
    progress("cluster", `starting ${server.name} (k3s server) at ${serverAddress}`);
    const guard = async (name: string, containerId: string) =>
      confineEgress(containerExecutor(containerId, `node ${name}`), network.subnet);
    const serverContainer = await new K3sServerContainer(spec(server), [
      ...common(server),
      ...K3S_DISABLED.filter((c) => !(options.keepServiceLB && c === "servicelb")).map((c) => `--disable=${c}`),
      "--disable-helm-controller",
      "--disable-network-policy",
      // k3s < 1.25.7 (k3s-io/k3s#6830) sends the apiserver's connections to hostNetwork pod ports
      // (the speakers' metrics, read through pods/proxy) down the agent tunnel, the agent refuses
      // them and the refusal drops its whole tunnel: exec and logs on that node fail for seconds.
      // The nodes share one Docker network, so the apiserver can dial kubelets and pods directly.
      "--egress-selector-mode=disabled",
      `--tls-san=${serverAddress}`,
      ...(options.serverArgs ?? []),
    ]).start();
    await guard(server.name, serverContainer.getId());
    const agentPlans = plans.filter((p) => p.role === "agent");
    progress("cluster", `starting ${agentPlans.map((p) => p.name).join(", ")} (k3s agents)`);
    const agents = await Promise.all(
      agentPlans.map(async (plan) => {
        const agent = await new K3sAgentContainer(spec(plan), [
          ...common(plan),
          `--server=https://${serverAddress}:6443`,
        ]).start();
        await guard(plan.name, agent.getId());
        return agent;
      }),
    );
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const kubeconfigPath = join(stateDir, "kubeconfig");
    // The API server is reached at the server node's address on the suite's own network (in its
    // --tls-san), not at testcontainers' getHost(): where /.dockerenv exists (CI sandboxes, dev
    // containers) that resolves to the docker0 gateway, which is neither in the certificate nor
    // on the suite's network. The host already routes to this subnet (the AC4 HTTP probe needs it).
    await writeFile(kubeconfigPath, serverContainer.getAliasedKubeConfig(serverAddress), { mode: 0o600 });
    const started: [NodePlan, StartedTestContainer][] = [
      [server, serverContainer],
      ...agentPlans.map((p, i) => [p, agents[i]!] as [NodePlan, StartedTestContainer]),
    ];
    const nodes = started.map(([plan, c]) => ({
      name: plan.name,
      role: plan.role,
      address: addressAt(network.subnet, plan.hostOffset),
      containerId: c.getId(),
      containerName: c.getName().replace(/^\//, ""),
    }));
    const cluster: EphemeralCluster = { runId, network, nodes, kubeconfigPath, stateDir };
    await writeFile(join(stateDir, "state.json"), JSON.stringify(cluster, null, 2), { mode: 0o600 });
    await waitForNodesReady(
      kubeconfigPath,
      plans.map((p) => p.name),
      options.nodesReadyTimeoutMs,
    );
    return cluster;
  } catch (error) {
    progress("cluster", `start failed (node logs: ${options.nodeLogDir}), removing what run ${runId} created`);
    await stopEphemeralCluster(runId);
    throw new Error(`start ephemeral cluster ${runId}: ${(error as Error).message} (node logs: ${options.nodeLogDir})`, {
      cause: error,
    });
  }
}

/**
 * Safety rule: traffic from the cluster stays on the suite's own network. A packet a node or pod
 * would send out of eth0 to an address outside the subnet (a ClusterIP kube-proxy has not
 * programmed yet falls through to the default route, for instance) is rejected in the node.
 * Pod-to-pod traffic leaves through flannel.1 and Services are DNATed before these filters.
 * LOCAL_OUT chains all see the output device chosen before kube-proxy's DNAT (the kernel passes it
 * once per hook), so filter OUTPUT skips DNATed connections — a hostNetwork client of a Service
 * would otherwise be rejected — and mangle POSTROUTING, where the device is final, drops any of
 * those that would still leave the subnet.
 */
export const EGRESS_GUARD_COMMENT = "metallb-conformance: stay on the suite network";

export function egressGuardRules(subnet: string): string[][] {
  const leaving = ["-o", "eth0", "!", "-d", subnet, "-m", "conntrack", "--ctstate", "NEW"];
  const tag = ["-m", "comment", "--comment", EGRESS_GUARD_COMMENT];
  return [
    ["-t", "filter", "-I", "FORWARD", "1", ...leaving, ...tag, "-j", "REJECT"],
    ["-t", "filter", "-I", "OUTPUT", "1", ...leaving, "-m", "conntrack", "!", "--ctstate", "DNAT", ...tag, "-j", "REJECT"],
    ["-t", "mangle", "-I", "POSTROUTING", "1", ...leaving, ...tag, "-j", "DROP"],
  ];
}

export async function confineEgress(node: Executor, subnet: string): Promise<void> {
  for (const rule of egressGuardRules(subnet)) {
    const r = await node.exec(["iptables", ...rule]);
    if (r.exitCode !== 0)
      throw new Error(
        `confine egress of ${node.description} (${rule.slice(0, 4).join(" ")}): ${r.stderr.trim() || `exit ${r.exitCode}`}`,
      );
  }
}

export async function waitForNodesReady(kubeconfigPath: string, names: string[], timeoutMs: number): Promise<void> {
  const { core } = kubeClients({ path: kubeconfigPath });
  progress("cluster", `waiting for nodes ${names.join(", ")} to be Ready (deadline ${timeoutMs / 1000}s)`);
  await waitFor(
    `nodes ${names.join(", ")} Ready`,
    async () => {
      const { items } = await core.listNode();
      const ready = names.every((n) => items.some((node) => node.metadata?.name === n && nodeIsReady(node)));
      return ready ? done(items) : notYet(describeNodes(items));
    },
    { timeoutMs, intervalMs: 500 },
  );
  progress("cluster", `nodes Ready: ${names.join(", ")}`);
}

/** Removes the run's containers, network and state; safe to call twice or after a crash. */
export async function stopEphemeralCluster(runId: string): Promise<void> {
  const removed = await sweep(runId);
  await rm(stateDirFor(runId), { recursive: true, force: true });
  progress("cluster", `removed ${removed.containers.length} containers, ${removed.networks.length} network(s) of run ${runId}`);
}
