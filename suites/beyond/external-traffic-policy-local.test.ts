// Beyond the story — LocalTraffic: Given MetalLB announces the pool (AC1-AC3), When a Service with
// externalTrafficPolicy Local has its only backend on one node, Then that node — the only one with
// a ready endpoint — announces the IP (ServiceL2Status, ARP) and the IP serves HTTP.
// The backend's node is chosen so that MetalLB's election for the default policy (Cluster) would
// pick another node for the same IP: announcing from the backend's node is then Local's doing.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  arpAnswered,
  deploymentAvailable,
  httpAnswers200,
  resourceDeleted,
  serviceHasIngressIP,
} from "../../helpers/conditions.ts";
import { isNotFound, kubeClients, type KubeClients } from "../../helpers/kube.ts";
import { l2ElectionOrder } from "../../helpers/l2-election.ts";
import { metallbPods, podIsReady, serviceL2Status, SPEAKER_SELECTOR } from "../../helpers/metallb.ts";
import { loadBalancerAddressesInUse, pickFreeUnreservedAddress } from "../../helpers/pool-addresses.ts";
import { assertAddressAllowed } from "../../helpers/profile.ts";
import { segmentProbeFor } from "../../helpers/segment-probe.ts";
import { done, errorMessage, notYet, waitFor } from "../../helpers/wait.ts";
import { createLoadBalancerService, createNginxDeployment } from "../../helpers/workloads.ts";
import { Given, NOT_ON_SEGMENT } from "../support/given.ts";
import { metallbNamespace, poolAdvertised } from "../support/metallb-state.ts";

const run = inject("run");
const { profile, timeouts, testNamespace: namespace } = run;
const name = "local-traffic";
const HOSTNAME_LABEL = "kubernetes.io/hostname";
const WELCOME = "Welcome to nginx!";
const given = new Given("AC3");
let kube: KubeClients;
let ns = "(unknown)";
let backendNode: string | undefined;
let clusterPolicyNode: string | undefined;
let ip: string | undefined;
let setupError = "the test Service was not created";

/** Nodes a plain pod can land on that run a Ready speaker, in name order. */
async function candidateNodes(): Promise<string[]> {
  const speakers = (await metallbPods(kube, ns, SPEAKER_SELECTOR)).filter(podIsReady).map((p) => p.spec?.nodeName);
  const { items } = await kube.core.listNode();
  return items
    .filter(
      (n) => !n.spec?.unschedulable && !(n.spec?.taints ?? []).some((t) => t.effect === "NoSchedule" || t.effect === "NoExecute"),
    )
    .map((n) => n.metadata!.name!)
    .filter((n) => speakers.includes(n))
    .sort();
}

beforeAll(async () => {
  kube = kubeClients({ path: run.kubeconfigPath, context: run.context });
  await given.evaluate(() => poolAdvertised(kube, run));
  ns = (await metallbNamespace(kube, run).catch(() => undefined)) ?? ns;
  try {
    given.require();
    const requestedIP = pickFreeUnreservedAddress(profile, await loadBalancerAddressesInUse(kube, profile), `${run.runId}-local`);
    const nodes = await candidateNodes();
    // Every speaker node is a candidate under the Cluster policy; put the backend elsewhere.
    clusterPolicyNode = l2ElectionOrder(nodes, requestedIP)[0];
    backendNode = nodes.find((n) => n !== clusterPolicyNode) ?? clusterPolicyNode;
    if (!backendNode) throw new Error("no schedulable node runs a Ready speaker");
    await createNginxDeployment(kube, {
      namespace,
      name,
      runId: run.runId,
      image: run.nginxImage,
      nodeSelector: { [HOSTNAME_LABEL]: backendNode },
    });
    await waitFor(`backend ${namespace}/${name} Available on ${backendNode}`, deploymentAvailable(kube, namespace, name), {
      timeoutMs: timeouts.httpReadyMs,
    });
    await createLoadBalancerService(kube, {
      namespace,
      name,
      runId: run.runId,
      selector: name,
      requestedIP,
      externalTrafficPolicy: "Local",
    });
    ip = await waitFor(`external IP of Service ${namespace}/${name}`, serviceHasIngressIP(kube, namespace, name), {
      timeoutMs: timeouts.loadBalancerIpMs,
    });
  } catch (error) {
    setupError = errorMessage(error);
  }
});

afterAll(async () => {
  const deletions = [
    {
      what: `Service ${namespace}/${name}`,
      remove: () => kube.core.deleteNamespacedService({ namespace, name }),
      read: () => kube.core.readNamespacedService({ namespace, name }),
    },
    {
      what: `Deployment ${namespace}/${name}`,
      remove: () => kube.apps.deleteNamespacedDeployment({ namespace, name }),
      read: () => kube.apps.readNamespacedDeployment({ namespace, name }),
    },
  ];
  for (const d of deletions) {
    try {
      await d.remove();
    } catch (error) {
      if (isNotFound(error)) continue;
      throw error;
    }
    await waitFor(`${d.what} deleted`, resourceDeleted(d.read), { timeoutMs: timeouts.cleanupMs });
  }
});

function requireIP(): string {
  expect(ip, `LocalTraffic: the externalTrafficPolicy Local Service got no IP: ${setupError}`).toBeDefined();
  return ip!;
}

describe("LocalTraffic: with externalTrafficPolicy Local, only the node running the backend announces the IP, and it serves HTTP", () => {
  it("runs the Service's only backend pod on one node, where the Cluster policy would not announce", async ({ annotate }) => {
    given.require();
    expect(backendNode, `LocalTraffic: no node chosen for the backend: ${setupError}`).toBeDefined();
    const pods = (await kube.core.listNamespacedPod({ namespace, labelSelector: `app=${name}` })).items.filter(
      (p) => !p.metadata?.deletionTimestamp,
    );
    const placement = pods.map(
      (p) => `${p.metadata?.name} on ${p.spec?.nodeName ?? "no node"}${podIsReady(p) ? "" : " (not Ready)"}`,
    );
    expect(
      pods.filter(podIsReady).map((p) => p.spec?.nodeName),
      `LocalTraffic: expected one Ready backend pod, on ${backendNode} (${setupError}); pods: ${placement.join(", ") || "none"}`,
    ).toEqual([backendNode]);
    await annotate(`backend on ${backendNode}; with externalTrafficPolicy Cluster MetalLB would elect ${clusterPolicyNode}`);
  });

  it("names that node in ServiceL2Status: only a node with a ready endpoint announces", async () => {
    given.require();
    const address = requireIP();
    const announcing = await waitFor(
      `ServiceL2Status for ${namespace}/${name}`,
      async () => {
        const status = await serviceL2Status(kube, ns, { namespace, name });
        const node = status?.status?.node as string | undefined;
        return node ? done(node) : notYet(status ? "status without a node" : "no ServiceL2Status yet");
      },
      { timeoutMs: timeouts.arpMs },
    ).catch((error: unknown) => {
      throw new Error(`LocalTraffic: no node announces ${address}: ${errorMessage(error)}`);
    });
    expect(
      announcing,
      `LocalTraffic: ServiceL2Status names ${announcing} for ${address}, but the only ready endpoint is on ${backendNode}`,
    ).toBe(backendNode);
  });

  it("answers an ARP request for the IP from another device on the segment with that node's MAC", async ({ skip }) => {
    given.require();
    const segment = segmentProbeFor(kube, run);
    if (!segment) skip(NOT_ON_SEGMENT);
    const address = assertAddressAllowed(profile, requireIP(), { purpose: "ARP request", within: "pool" });
    const { host, expectedMac } = await Promise.all([segment!.hostOtherThan(backendNode!), segment!.nodeMac(backendNode!)]).then(
      ([host, expectedMac]) => ({ host, expectedMac }),
      (error: unknown) => {
        throw new Error(`LocalTraffic: cannot place a probe on the segment to ARP for ${address}: ${errorMessage(error)}`);
      },
    );
    const macs = await waitFor(`ARP reply for ${address} at ${host.description}`, arpAnswered(host, address), {
      timeoutMs: timeouts.arpMs,
    }).catch((error: unknown) => {
      throw new Error(
        `LocalTraffic: nobody answers ARP for ${address} on the segment (${host.description}): ${errorMessage(error)}`,
      );
    });
    expect(
      macs,
      `LocalTraffic: ARP for ${address} answered by ${macs.join(", ")}, expected ${backendNode}'s ${expectedMac} (the backend's node)`,
    ).toEqual([expectedMac]);
  });

  it("answers GET http://IP/ from this host with 200 and the nginx welcome page", async () => {
    given.require();
    const address = assertAddressAllowed(profile, requireIP(), { purpose: "HTTP request", within: "pool" });
    const result = await waitFor(`HTTP 200 from http://${address}/`, httpAnswers200(`http://${address}/`), {
      timeoutMs: timeouts.httpReadyMs,
      intervalMs: 100,
    }).catch((error: unknown) => {
      throw new Error(
        `LocalTraffic: http://${address}/ (externalTrafficPolicy Local) does not answer 200 from this host: ${errorMessage(error)}`,
      );
    });
    expect(result.body, `LocalTraffic: http://${address}/ answered 200 but not with the nginx welcome page`).toContain(WELCOME);
  });
});
