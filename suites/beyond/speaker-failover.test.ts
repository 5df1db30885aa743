// Beyond the story — Failover: Given MetalLB announces the pool (AC1-AC3) on the ephemeral
// cluster, When the node announcing a test IP stops, Then another node takes the IP over (the
// speakers' metallb_speaker_announced, ARP from the probe host) and HTTP from this host recovers;
// the time each took is reported. The stopped node is started again afterwards, whatever
// happened, and must rejoin: the suites after this one run on the same cluster.
//
// Only on the ephemeral target: a node of a live cluster is never stopped. The announcing node
// must be an agent — stopping the server would stop the API server. MetalLB elects the announcer
// by hashing node and IP (helpers/l2-election.ts), so each attempt asks for another pool address.
//
// ServiceL2Status is not the source for the takeover: in MetalLB 0.15.3 its status.node is
// immutable, so the new announcer's speaker cannot take over the object the stopped node's speaker
// wrote and it keeps naming the stopped node (metallb/metallb#2930, fixed by #2938 after 0.15.3).
// Its own check expects exactly that defect on the versions known to have it, and the correct
// behaviour on any other.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { arpWhoHas } from "../../helpers/arp.ts";
import type { ClusterNode } from "../../helpers/cluster.ts";
import { deploymentAvailable, httpAnswers200, resourceDeleted, serviceHasIngressIP } from "../../helpers/conditions.ts";
import { httpGet } from "../../helpers/http.ts";
import { isNotFound, kubeClients, type KubeClients } from "../../helpers/kube.ts";
import { predictedL2Announcer } from "../../helpers/l2-election.ts";
import { listMetallb, metallbPods, podIsReady, SPEAKER_SELECTOR } from "../../helpers/metallb.ts";
import { podMetrics } from "../../helpers/metallb-metrics.ts";
import { findSamples } from "../../helpers/metrics.ts";
import {
  missingEgressGuardRules,
  nodeBackSince,
  nodeContainerRunning,
  nodeExecutor,
  startNode,
  stopNode,
} from "../../helpers/node-restart.ts";
import { loadBalancerAddressesInUse, pickFreeUnreservedAddress } from "../../helpers/pool-addresses.ts";
import { assertAddressAllowed } from "../../helpers/profile.ts";
import { segmentProbeFor, type SegmentHost } from "../../helpers/segment-probe.ts";
import { done, errorMessage, notYet, waitFor } from "../../helpers/wait.ts";
import { createLoadBalancerService, createNginxDeployment } from "../../helpers/workloads.ts";
import { Given } from "../support/given.ts";
import { metallbNamespace, poolAdvertised } from "../support/metallb-state.ts";

const run = inject("run");
const { profile, timeouts, testNamespace: namespace } = run;
const backend = "failover-nginx";
/** Each attempt asks for another address; bounded, and every attempt is reported. */
const MAX_ATTEMPTS = 8;
/** How long the IP, its ARP answer and HTTP may take to come back after the node stopped. */
const FAILOVER_DEADLINE_MS = timeouts.loadBalancerIpMs;
const LIVE_TARGET =
  "not done on the kubeconfig target: stopping a node of a live cluster is never done (the failover check runs on the ephemeral target only)";
const serverNode = profile.network.nodes.find((n) => n.role === "server")?.name ?? "the server node";
/** Chart versions whose speakers cannot move a ServiceL2Status to another node (metallb/metallb#2930). */
const STALE_L2STATUS_VERSIONS = ["0.15.2", "0.15.3"];
const metallbVersion = profile.metallb.chart.version;
const staleL2Status = STALE_L2STATUS_VERSIONS.includes(metallbVersion);
const IMMUTABLE = "Value is immutable";
const given = new Given("AC3");
let kube: KubeClients;
let ns = "(unknown)";
const created: string[] = [];

/** A measurement that never rejects: started right after the stop, awaited by its own check. */
type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: string; ms: number };
function measure<T>(since: number, work: Promise<T>): Promise<Outcome<T>> {
  return work.then(
    (value) => ({ ok: true as const, value, ms: performance.now() - since }),
    (error: unknown) => ({ ok: false as const, error: errorMessage(error), ms: performance.now() - since }),
  );
}

let chosen: { service: string; ip: string; node: ClusterNode } | undefined;
let choiceError = "no test Service was created";
let macs = new Map<string, string>();
let stopped: { node: ClusterNode; stopMs: number } | undefined;
let watchers:
  | { announced: Promise<Outcome<string>>; arp: Promise<Outcome<string[]>>; http: Promise<Outcome<number>>; probe: SegmentHost }
  | undefined;
let restoring: Promise<number> | undefined;

beforeAll(async () => {
  kube = kubeClients({ path: run.kubeconfigPath, context: run.context });
  if (!run.ephemeral) return;
  await given.evaluate(() => poolAdvertised(kube, run));
  ns = (await metallbNamespace(kube, run).catch(() => undefined)) ?? ns;
});

afterAll(async () => {
  if (!run.ephemeral) return; // nothing was created or stopped
  try {
    // The suites after this one need the whole cluster: a stopped node is always started again.
    if (stopped) await restoreStoppedNode();
  } finally {
    await deleteCreated();
  }
});

async function deleteCreated(): Promise<void> {
  const objects = [
    ...created.map((name) => ({
      what: `Service ${namespace}/${name}`,
      remove: () => kube.core.deleteNamespacedService({ namespace, name }),
      read: () => kube.core.readNamespacedService({ namespace, name }),
    })),
    {
      what: `Deployment ${namespace}/${backend}`,
      remove: () => kube.apps.deleteNamespacedDeployment({ namespace, name: backend }),
      read: () => kube.apps.readNamespacedDeployment({ namespace, name: backend }),
    },
  ];
  for (const o of objects) {
    try {
      await o.remove();
    } catch (error) {
      if (isNotFound(error)) continue;
      throw error;
    }
    await waitFor(`${o.what} deleted`, resourceDeleted(o.read), { timeoutMs: timeouts.cleanupMs });
  }
  // The announcing speaker removes a deleted Service's ServiceL2Status: none may outlive the file.
  if (created.length > 0 && ns !== "(unknown)")
    await waitFor(
      `ServiceL2Statuses of ${created.join(", ")} removed by MetalLB`,
      async () => {
        const left = (await listMetallb(kube, "servicel2statuses", ns)).filter(
          (s) => s.status?.serviceNamespace === namespace && created.includes(String(s.status?.serviceName)),
        );
        return left.length === 0
          ? done(true)
          : notYet(left.map((s) => `${s.metadata.name} (${s.status?.serviceName} on ${s.status?.node})`).join(", "));
      },
      { timeoutMs: timeouts.cleanupMs, intervalMs: 500 },
    );
}

/** The nodes MetalLB's ServiceL2Status objects name for `service` (normally one). */
async function announcingNodes(service: string): Promise<string[]> {
  const statuses = await listMetallb(kube, "servicel2statuses", ns);
  return statuses
    .filter((s) => s.status?.serviceName === service && s.status?.serviceNamespace === namespace)
    .map((s) => s.status?.node as string | undefined)
    .filter((n): n is string => !!n);
}

/** The nodes, other than `stopped`, whose speaker reports announcing `ip` (metallb_speaker_announced 1). */
async function nodesAnnouncing(ip: string, stopped: string): Promise<{ nodes: string[]; asked: string[] }> {
  // A speaker on the stopped node cannot be scraped (its pod still looks Ready for a while).
  const speakers = (await metallbPods(kube, ns, SPEAKER_SELECTOR)).filter(
    (p) => p.spec?.nodeName && p.spec.nodeName !== stopped && podIsReady(p),
  );
  const nodes: string[] = [];
  for (const pod of speakers) {
    const samples = findSamples(await podMetrics(kube, ns, pod.metadata!.name!, run.metricsAccess), "metallb_speaker_announced", {
      ip,
    });
    if (samples.some((s) => s.value === 1)) nodes.push(pod.spec!.nodeName!);
  }
  return { nodes, asked: speakers.map((p) => p.spec!.nodeName!) };
}

/** The speaker on `node` logging that the API server rejected its ServiceL2Status update for `service`. */
async function immutableStatusError(node: string, service: string): Promise<string | undefined> {
  const speaker = (await metallbPods(kube, ns, SPEAKER_SELECTOR)).find((p) => p.spec?.nodeName === node);
  if (!speaker) return undefined;
  const log = await kube.core.readNamespacedPodLog({
    namespace: ns,
    name: speaker.metadata!.name!,
    container: "speaker",
    sinceSeconds: 600,
  });
  for (const line of String(log).split("\n").reverse()) {
    if (!line.includes(IMMUTABLE)) continue;
    try {
      const entry = JSON.parse(line) as { name?: string; namespace?: string; error?: string };
      if (entry.name === service && entry.namespace === namespace) return entry.error;
    } catch {
      // not a JSON log line
    }
  }
  return undefined;
}

/** Up to MAX_ATTEMPTS free, unreserved pool addresses, those MetalLB should announce from an agent first. */
async function candidateAddresses(nodes: readonly ClusterNode[]): Promise<string[]> {
  const taken = [...(await loadBalancerAddressesInUse(kube, profile))];
  const agents = new Set(nodes.filter((n) => n.role === "agent").map((n) => n.name));
  const picks: string[] = [];
  for (;;) {
    let address: string;
    try {
      address = pickFreeUnreservedAddress(profile, taken, `${run.runId}-failover`);
    } catch {
      break; // the pool has no other free address
    }
    taken.push(address);
    picks.push(address);
  }
  const names = nodes.map((n) => n.name);
  const byAgent = (address: string) => (agents.has(predictedL2Announcer(names, address) ?? "") ? 0 : 1);
  return picks.sort((a, b) => byAgent(a) - byAgent(b)).slice(0, MAX_ATTEMPTS);
}

/** Starts the stopped node again (once) and waits until it has rejoined; resolves to the time taken. */
function restoreStoppedNode(): Promise<number> {
  return (restoring ??= (async () => {
    const { cluster } = run.ephemeral!;
    const { node } = stopped!;
    // Let the measurements finish first: they must not see the node coming back.
    if (watchers) await Promise.all([watchers.announced, watchers.arp, watchers.http]);
    const t0 = performance.now();
    const since = await startNode(node, cluster.network.subnet);
    await waitFor(
      `${node.name} back in the cluster after its restart`,
      nodeBackSince(kube, {
        node: node.name,
        since,
        metallbNamespace: ns,
        speakerDaemonSet: `${profile.metallb.release}-speaker`,
        speakerSelector: SPEAKER_SELECTOR,
        nodes: cluster.nodes.map((n) => n.name),
      }),
      { timeoutMs: timeouts.clusterReadyMs, intervalMs: 1000 },
    );
    return performance.now() - t0;
  })());
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function requireChosen(): NonNullable<typeof chosen> {
  expect(chosen, `Failover: no test IP announced by an agent to fail over: ${choiceError}`).toBeDefined();
  return chosen!;
}

function requireStopped(): NonNullable<typeof stopped> & NonNullable<typeof watchers> {
  expect(stopped && watchers, `Failover: the announcing node was not stopped (see the takeover check)`).toBeTruthy();
  return { ...stopped!, ...watchers! };
}

const attemptsTimeoutMs = timeouts.httpReadyMs + MAX_ATTEMPTS * (timeouts.loadBalancerIpMs + timeouts.arpMs + timeouts.cleanupMs);

describe("Failover: the test IP moves to another node when its announcing node stops, and HTTP recovers", () => {
  it(
    `announces a test IP from an agent node (never ${serverNode}, which runs the API server)`,
    async ({ skip, annotate }) => {
      if (!run.ephemeral) skip(LIVE_TARGET);
      given.require();
      const { cluster } = run.ephemeral!;
      await createNginxDeployment(kube, {
        namespace,
        name: backend,
        runId: run.runId,
        image: run.nginxImage,
        replicas: 2,
        onePerNode: true,
      });
      await waitFor(
        `backend ${namespace}/${backend} (2 replicas on 2 nodes) Available`,
        deploymentAvailable(kube, namespace, backend),
        {
          timeoutMs: timeouts.httpReadyMs,
        },
      ).catch((error: unknown) => {
        throw new Error(`Failover: the nginx backend never became Available: ${errorMessage(error)}`);
      });
      const attempts: string[] = [];
      const candidates = await candidateAddresses(cluster.nodes);
      for (const [i, address] of candidates.entries()) {
        const service = `failover-${i + 1}`;
        await createLoadBalancerService(kube, {
          namespace,
          name: service,
          runId: run.runId,
          selector: backend,
          requestedIP: address,
        });
        created.push(service);
        const ip = await waitFor(
          `external IP of Service ${namespace}/${service}`,
          serviceHasIngressIP(kube, namespace, service),
          {
            timeoutMs: timeouts.loadBalancerIpMs,
            intervalMs: 100,
          },
        ).catch((error: unknown) => {
          throw new Error(`Failover: Service ${namespace}/${service} asking for ${address} got no IP: ${errorMessage(error)}`);
        });
        expect(ip, `Failover: Service ${namespace}/${service} asked for ${address} but got ${ip}`).toBe(address);
        const announcing = await waitFor(
          `ServiceL2Status for ${namespace}/${service}`,
          async () => {
            const nodes = await announcingNodes(service);
            return nodes.length === 1
              ? done(nodes[0]!)
              : notYet(nodes.length ? `names ${nodes.join(", ")}` : "no ServiceL2Status yet");
          },
          { timeoutMs: timeouts.arpMs },
        ).catch((error: unknown) => {
          throw new Error(`Failover: no node announces ${address} (Service ${service}): ${errorMessage(error)}`);
        });
        const node = cluster.nodes.find((n) => n.name === announcing);
        attempts.push(`${service} ${address} -> ${announcing}`);
        if (node?.role === "agent") {
          chosen = { service, ip, node };
          break;
        }
        // The server (or a node the suite does not know) announces: give this address up and ask for the next one.
        await kube.core.deleteNamespacedService({ namespace, name: service });
        await waitFor(
          `Service ${service} deleted`,
          resourceDeleted(() => kube.core.readNamespacedService({ namespace, name: service })),
          {
            timeoutMs: timeouts.cleanupMs,
          },
        );
      }
      choiceError = `no agent announced any of ${attempts.length} addresses tried (${attempts.join("; ") || "the pool has no free address"})`;
      expect(chosen, `Failover: ${choiceError}`).toBeDefined();
      await annotate(
        `Service ${chosen!.service} at ${chosen!.ip}, announced by ${chosen!.node.name} (attempt ${attempts.length} of at most ${MAX_ATTEMPTS}: ${attempts.join("; ")})`,
      );
    },
    attemptsTimeoutMs,
  );

  it("serves GET http://IP/ from this host with 200 before the node stops", async ({ skip }) => {
    if (!run.ephemeral) skip(LIVE_TARGET);
    given.require();
    const { ip } = requireChosen();
    const address = assertAddressAllowed(profile, ip, { purpose: "HTTP request", within: "pool" });
    await waitFor(`HTTP 200 from http://${address}/`, httpAnswers200(`http://${address}/`), {
      timeoutMs: timeouts.httpReadyMs,
      intervalMs: 100,
    }).catch((error: unknown) => {
      throw new Error(
        `Failover: http://${address}/ does not answer 200 from this host even before the failover: ${errorMessage(error)}`,
      );
    });
  });

  it("hands the IP to another node's speaker once the announcing node's container is stopped", async ({ skip, annotate }) => {
    if (!run.ephemeral) skip(LIVE_TARGET);
    given.require();
    const { ip, node } = requireChosen();
    const { cluster } = run.ephemeral!;
    const address = assertAddressAllowed(profile, ip, { purpose: "ARP and HTTP requests", within: "pool" });
    const segment = segmentProbeFor(kube, run)!;
    const probe = await segment.hostOtherThan(node.name);
    // MACs are read while every node runs (a stopped container has no endpoint on the network).
    macs = new Map(await Promise.all(cluster.nodes.map(async (n) => [n.name, await segment.nodeMac(n.name)] as const)));
    const stoppedMac = macs.get(node.name);

    // Recorded before the stop is asked for: whatever happens next, afterAll starts the node again.
    stopped = { node, stopMs: 0 };
    const t0 = performance.now();
    await stopNode(node);
    const stopMs = (stopped.stopMs = performance.now() - t0);
    expect(await nodeContainerRunning(node), `Failover: the container of ${node.name} still runs after docker stop`).toBe(false);

    // From the moment the node is gone, the three signs of recovery are watched side by side.
    const since = performance.now();
    watchers = {
      probe,
      announced: measure(
        since,
        waitFor(
          `a speaker other than ${node.name}'s reporting metallb_speaker_announced for ${address}`,
          async () => {
            const { nodes, asked } = await nodesAnnouncing(address, node.name);
            return nodes.length > 0 ? done(nodes.join(", ")) : notYet(`no speaker announces it (asked ${asked.join(", ")})`);
          },
          { timeoutMs: FAILOVER_DEADLINE_MS, intervalMs: 250 },
        ),
      ),
      arp: measure(
        since,
        waitFor(
          `an ARP reply for ${address} at ${probe.description} from a node other than ${node.name}`,
          async () => {
            const replies = await arpWhoHas(probe.executor, address, { iface: probe.iface, count: 1, timeoutS: 1 });
            const others = replies.filter((m) => m !== stoppedMac);
            return others.length > 0
              ? done(replies)
              : notYet(replies.length ? `only ${node.name}'s ${stoppedMac} answers` : "no ARP reply");
          },
          { timeoutMs: FAILOVER_DEADLINE_MS, intervalMs: 100 },
        ),
      ),
      http: measure(
        since,
        waitFor(
          `HTTP 200 from http://${address}/`,
          async () => {
            const r = await httpGet(`http://${address}/`, 1000);
            return r.status === 200 ? done(r.status) : notYet(`HTTP ${r.status}`);
          },
          { timeoutMs: FAILOVER_DEADLINE_MS, intervalMs: 100 },
        ),
      ),
    };

    const moved = await watchers.announced;
    if (!moved.ok)
      throw new Error(
        `Failover: no other node announces ${address} ${FAILOVER_DEADLINE_MS} ms after ${node.name} stopped: ${moved.error}`,
      );
    expect(
      cluster.nodes.map((n) => n.name),
      `Failover: ${address} is announced by ${moved.value}, expected exactly one node of the cluster`,
    ).toContain(moved.value);
    await annotate(
      `${address}: ${node.name} -> ${moved.value} ${seconds(moved.ms)} after the container stopped (docker stop took ${seconds(stopMs)})`,
    );
  });

  it("answers an ARP request for the IP from the probe host with the new announcing node's MAC", async ({ skip, annotate }) => {
    if (!run.ephemeral) skip(LIVE_TARGET);
    given.require();
    const { ip } = requireChosen();
    const { node, announced, arp, probe } = requireStopped();
    const [moved, answered] = await Promise.all([announced, arp]);
    if (!answered.ok)
      throw new Error(
        `Failover: nobody answers ARP for ${ip} at ${probe.description} after ${node.name} stopped: ${answered.error}`,
      );
    expect(moved.ok, `Failover: no new announcing node known to compare the ARP answer with (${answered.value.join(", ")})`).toBe(
      true,
    );
    const newNode = moved.ok ? moved.value : "";
    expect(
      answered.value,
      `Failover: ARP for ${ip} answered by ${answered.value.join(", ")} after ${node.name} stopped, expected ${newNode}'s ${macs.get(newNode)}`,
    ).toEqual([macs.get(newNode)]);
    await annotate(`ARP for ${ip}: ${newNode}'s ${macs.get(newNode)} answers ${seconds(answered.ms)} after ${node.name} stopped`);
  });

  it("serves GET http://IP/ from this host with 200 again", async ({ skip, annotate }) => {
    if (!run.ephemeral) skip(LIVE_TARGET);
    given.require();
    const { ip } = requireChosen();
    const { node, http, announced, arp } = requireStopped();
    const recovered = await http;
    if (!recovered.ok)
      throw new Error(
        `Failover: http://${ip}/ does not answer 200 from this host again after ${node.name} stopped: ${recovered.error}`,
      );
    const [moved, answered] = await Promise.all([announced, arp]);
    const parts = [moved.ok && `speaker takeover ${seconds(moved.ms)}`, answered.ok && `ARP ${seconds(answered.ms)}`].filter(
      Boolean,
    );
    await annotate(`failover ${seconds(recovered.ms)}: HTTP 200 again after ${node.name} stopped (${parts.join(", ")})`);
  });

  it(
    staleL2Status
      ? `keeps ServiceL2Status naming the stopped node, as MetalLB ${metallbVersion} is known to (metallb/metallb#2930)`
      : "makes ServiceL2Status name the new announcing node",
    async ({ skip, annotate }) => {
      if (!run.ephemeral) skip(LIVE_TARGET);
      given.require();
      const { service } = requireChosen();
      const { node, announced } = requireStopped();
      const moved = await announced;
      if (!moved.ok) throw new Error(`Failover: no other node took the IP over, so ServiceL2Status has nothing to follow`);
      const newNode = moved.value;
      // The takeover has happened: the new announcer's status update, if any, follows within a reconcile.
      const followed = await waitFor(
        `ServiceL2Status of ${service} naming ${newNode} only`,
        async () => {
          const nodes = await announcingNodes(service);
          return nodes.length === 1 && nodes[0] === newNode ? done(nodes) : notYet(`names ${nodes.join(", ") || "nothing"}`);
        },
        { timeoutMs: timeouts.arpMs, intervalMs: 250 },
      ).then(
        () => undefined,
        (error: unknown) => errorMessage(error),
      );
      if (!staleL2Status) {
        if (followed !== undefined)
          throw new Error(
            `Failover: ServiceL2Status still names ${node.name} (stopped) although ${newNode} announces the IP: ${followed}`,
          );
        await annotate(`ServiceL2Status: ${node.name} -> ${newNode}`);
        return;
      }
      expect(
        followed,
        `Failover: ServiceL2Status followed the IP to ${newNode}: metallb/metallb#2930 no longer shows on MetalLB ${metallbVersion}, drop it from STALE_L2STATUS_VERSIONS`,
      ).toBeDefined();
      const names = await announcingNodes(service);
      expect(
        names,
        `Failover: ServiceL2Status of ${service} names ${names.join(", ") || "nothing"}: neither the known stale ${node.name} nor the new ${newNode}`,
      ).toEqual([node.name]);
      const rejected = await immutableStatusError(newNode, service);
      expect(
        rejected,
        `Failover: ServiceL2Status still names ${node.name} (stopped), but ${newNode}'s speaker does not log the known "${IMMUTABLE}" rejection: another cause than metallb/metallb#2930`,
      ).toBeDefined();
      await annotate(
        `known MetalLB ${metallbVersion} defect (metallb/metallb#2930, fixed by #2938 after 0.15.3): ServiceL2Status still names ${node.name} while ${newNode} announces; ${newNode}'s speaker: ${rejected}`,
      );
    },
  );

  it(
    "brings the stopped node back: Ready, its kubelet and speaker running anew, its egress guard in place",
    async ({ skip, annotate }) => {
      if (!run.ephemeral) skip(LIVE_TARGET);
      given.require();
      expect(stopped, "Failover: no node was stopped, so none has to rejoin (see the takeover check)").toBeDefined();
      const { node } = stopped!;
      const rejoinMs = await restoreStoppedNode().catch((error: unknown) => {
        throw new Error(`Failover: ${node.name} did not rejoin after docker start: ${errorMessage(error)}`);
      });
      const missing = await missingEgressGuardRules(nodeExecutor(node), run.ephemeral!.cluster.network.subnet);
      expect(missing, `Failover: ${node.name} runs again without its egress guard (missing: ${missing.join("; ")})`).toEqual([]);
      await annotate(`${node.name} rejoined ${seconds(rejoinMs)} after docker start`);
    },
    timeouts.clusterReadyMs + 60_000,
  );
});
