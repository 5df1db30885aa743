// AC3: Given MetalLB and the pool are configured, When an L2Advertisement for the pool is applied,
// Then MetalLB announces the pool's IPs over ARP on the (home) network.
import { beforeAll, describe, expect, inject, it } from "vitest";
import { arpAnswered, deploymentAvailable, serviceHasIngressIP } from "../helpers/conditions.ts";
import { kubeClients, type KubeClients } from "../helpers/kube.ts";
import {
  advertisementSelectsPool,
  listMetallb,
  metallbPods,
  readMetallb,
  serviceL2Status,
  SPEAKER_SELECTOR,
} from "../helpers/metallb.ts";
import { MetricsNotReadable, podMetrics } from "../helpers/metallb-metrics.ts";
import { findSamples } from "../helpers/metrics.ts";
import { addressToRequest, loadBalancerAddressesInUse } from "../helpers/pool-addresses.ts";
import { assertAddressAllowed } from "../helpers/profile.ts";
import { segmentProbeFor } from "../helpers/segment-probe.ts";
import { done, errorMessage, notYet, waitFor } from "../helpers/wait.ts";
import { createLoadBalancerService, createNginxDeployment } from "../helpers/workloads.ts";
import { Given, NOT_ON_SEGMENT } from "./support/given.ts";
import { metallbNamespace, poolConfigured } from "./support/metallb-state.ts";

const run = inject("run");
const { profile, timeouts, testNamespace: namespace } = run;
const poolName = profile.pool.name;
const service = { namespace, name: "ac3-announce" };
const given = new Given("AC2");
let kube: KubeClients;
let ns: string;
let ip: string | undefined;
let ipError = "the test Service was not created";
let announcingNode: string | undefined;

beforeAll(async () => {
  kube = kubeClients({ path: run.kubeconfigPath, context: run.context });
  await given.evaluate(() => poolConfigured(kube, run));
  ns = (await metallbNamespace(kube, run).catch(() => undefined)) ?? "(unknown)";
  if (!given.holds) return; // every check reports "blocked by"; no test Service to wait for
  try {
    // L2 mode announces a Service only while it has a ready endpoint: give it one. Serving HTTP
    // is AC4's to check, so this one counts as ready once it runs (a backend that does not serve
    // fails AC4 at its HTTP step, not AC3).
    await createNginxDeployment(kube, {
      namespace,
      name: service.name,
      runId: run.runId,
      image: run.nginxImage,
      readyWhen: "running",
    });
    // On a live cluster the test Service asks for a free, unreserved address (never Traefik's).
    const requestedIP = run.ephemeral
      ? undefined
      : addressToRequest(profile, await loadBalancerAddressesInUse(kube, profile), run.runId);
    await createLoadBalancerService(kube, { ...service, runId: run.runId, selector: service.name, requestedIP });
    await waitFor(`backend ${service.name} Available`, deploymentAvailable(kube, namespace, service.name), {
      timeoutMs: timeouts.httpReadyMs,
    });
    ip = await waitFor(`Service ${namespace}/${service.name} external IP`, serviceHasIngressIP(kube, namespace, service.name), {
      timeoutMs: timeouts.loadBalancerIpMs,
    });
  } catch (error) {
    ipError = errorMessage(error);
  }
});

function requireIP(): string {
  expect(ip, `AC3: the test LoadBalancer Service got no IP to announce: ${ipError}`).toBeDefined();
  return ip!;
}

describe(`AC3: an L2Advertisement announces pool ${poolName} over ARP`, () => {
  it(`has an L2Advertisement in ${"MetalLB's namespace"} selecting ${poolName}`, async () => {
    given.require();
    const pool = await readMetallb(kube, "ipaddresspools", ns, poolName);
    const advs = await listMetallb(kube, "l2advertisements", ns);
    const selecting = advs.filter((a) => pool && advertisementSelectsPool(a, pool)).map((a) => a.metadata.name);
    const all =
      advs.map((a) => `${a.metadata.name} (pools: ${JSON.stringify(a.spec?.ipAddressPools ?? "all")})`).join(", ") || "none";
    expect(selecting, `AC3: no L2Advertisement in ${ns} selects ${poolName} (L2Advertisements there: ${all})`).not.toEqual([]);
  });

  it("reports in ServiceL2Status which node announces the test Service's IP", async () => {
    given.require();
    const address = requireIP();
    announcingNode = await waitFor(
      `ServiceL2Status for ${namespace}/${service.name}`,
      async () => {
        const status = await serviceL2Status(kube, ns, service);
        const node = status?.status?.node as string | undefined;
        return node ? done(node) : notYet(status ? "status without a node" : "no ServiceL2Status yet");
      },
      { timeoutMs: timeouts.arpMs },
    ).catch((error: unknown) => {
      throw new Error(`AC3: no node announces ${address}: ${errorMessage(error)}`);
    });
    expect(
      profile.network.nodes.map((n) => n.name),
      `AC3: ${announcingNode} announces ${address} but is not a profile node`,
    ).toContain(announcingNode);
  });

  it("answers an ARP request for the IP from another device on the segment with the announcing node's MAC", async ({ skip }) => {
    given.require();
    const segment = segmentProbeFor(kube, run);
    if (!segment) skip(NOT_ON_SEGMENT);
    const address = assertAddressAllowed(profile, requireIP(), { purpose: "ARP request", within: "pool" });
    expect(announcingNode, "AC3: no announcing node known (ServiceL2Status check failed)").toBeDefined();
    const { host, expectedMac } = await Promise.all([
      segment!.hostOtherThan(announcingNode!),
      segment!.nodeMac(announcingNode!),
    ]).then(
      ([host, expectedMac]) => ({ host, expectedMac }),
      (error: unknown) => {
        throw new Error(`AC3: cannot place a probe on the segment to ARP for ${address}: ${errorMessage(error)}`);
      },
    );
    const macs = await waitFor(`ARP reply for ${address} at ${host.description}`, arpAnswered(host, address), {
      timeoutMs: timeouts.arpMs,
    }).catch((error: unknown) => {
      throw new Error(`AC3: nobody answers ARP for ${address} on the segment (${host.description}): ${errorMessage(error)}`);
    });
    expect(macs, `AC3: ARP for ${address} answered by ${macs.join(", ")}, expected ${announcingNode}'s ${expectedMac}`).toEqual([
      expectedMac,
    ]);
  });

  it("agrees with the announcing speaker's metallb_speaker_announced metric", async ({ skip }) => {
    given.require();
    const address = requireIP();
    expect(announcingNode, "AC3: no announcing node known (ServiceL2Status check failed)").toBeDefined();
    const speaker = (await metallbPods(kube, ns, SPEAKER_SELECTOR)).find((p) => p.spec?.nodeName === announcingNode);
    expect(speaker, `AC3: no speaker pod on announcing node ${announcingNode}`).toBeDefined();
    const reading = await waitFor<number | MetricsNotReadable>(
      `metallb_speaker_announced for ${address} on ${announcingNode}`,
      async () => {
        const samples = await podMetrics(kube, ns, speaker!.metadata!.name!, run.metricsAccess).catch((error: unknown) => {
          if (error instanceof MetricsNotReadable) return error; // not MetalLB's fault: no use waiting
          throw error;
        });
        if (samples instanceof MetricsNotReadable) return done(samples);
        const found = findSamples(samples, "metallb_speaker_announced", { ip: address, node: announcingNode! });
        return found[0] ? done(found[0].value) : notYet("no sample for this IP and node");
      },
      { timeoutMs: timeouts.arpMs, intervalMs: 1000 },
    ).catch((error: unknown) => {
      throw new Error(`AC3: speaker on ${announcingNode} does not report announcing ${address}: ${errorMessage(error)}`);
    });
    if (reading instanceof MetricsNotReadable) return skip(`not verifiable here: ${reading.message}`);
    const value = reading;
    expect(value, `AC3: metallb_speaker_announced{ip="${address}",node="${announcingNode}"} is ${value}, expected 1`).toBe(1);
  });
});
