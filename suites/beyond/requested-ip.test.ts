// Beyond the story — RequestedIP: Given MetalLB announces the pool (AC1-AC3), When a Service asks
// for a specific address (annotation metallb.universe.tf/loadBalancerIPs), Then it gets exactly
// that pool address; and a Service asking for an address outside every pool stays Pending while
// MetalLB says why (the address is only requested, never contacted).
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventWithReason, resourceDeleted, serviceHasIngressIP } from "../../helpers/conditions.ts";
import { isNotFound, kubeClients, type KubeClients } from "../../helpers/kube.ts";
import { listMetallb } from "../../helpers/metallb.ts";
import { pickAddressOutsidePools } from "../../helpers/outside-pool-address.ts";
import { loadBalancerAddressesInUse, pickFreeUnreservedAddress, serviceAddressClaims } from "../../helpers/pool-addresses.ts";
import { done, errorMessage, notYet, waitFor } from "../../helpers/wait.ts";
import { createLoadBalancerService } from "../../helpers/workloads.ts";
import { Given } from "../support/given.ts";
import { metallbNamespace, poolAdvertised } from "../support/metallb-state.ts";

const run = inject("run");
const { profile, timeouts, testNamespace: namespace } = run;
const inside = "requested-ip-in-pool";
const outside = "requested-ip-outside-pool";
/** MetalLB's controller (controller/service.go) records this when it cannot assign the address. */
const ALLOCATION_FAILED = "AllocationFailed";
const given = new Given("AC3");
let kube: KubeClients;
let outsideAddress: string | undefined;
/** What the wait for MetalLB's verdict on the outside address saw first. */
type Verdict = { event?: string; ingress?: string; error?: string };
let verdict: Verdict | undefined;

beforeAll(async () => {
  kube = kubeClients({ path: run.kubeconfigPath, context: run.context });
  await given.evaluate(() => poolAdvertised(kube, run));
});

afterAll(async () => {
  for (const name of [inside, outside]) {
    try {
      await kube.core.deleteNamespacedService({ namespace, name });
    } catch (error) {
      if (isNotFound(error)) continue;
      throw error;
    }
    await waitFor(
      `Service ${namespace}/${name} deleted`,
      resourceDeleted(() => kube.core.readNamespacedService({ namespace, name })),
      {
        timeoutMs: timeouts.cleanupMs,
      },
    );
  }
});

/** An address in the profile's subnet that no MetalLB pool holds and nothing known uses. */
async function addressOutsideEveryPool(): Promise<string> {
  const ns = await metallbNamespace(kube, run);
  if (!ns) throw new Error("MetalLB's namespace is unknown");
  // MetalLB reads pools only in its own namespace: excluding all of them means it can never assign the address.
  const pools = (await listMetallb(kube, "ipaddresspools", ns)).flatMap((p) => (p.spec?.addresses as string[] | undefined) ?? []);
  const claimed = (await kube.core.listServiceForAllNamespaces()).items.flatMap((s) =>
    serviceAddressClaims(s).map((c) => c.address),
  );
  const probe = run.ephemeral ? [run.ephemeral.probe.address] : [];
  return pickAddressOutsidePools(profile, { pools, avoid: [...claimed, ...probe] });
}

describe(`RequestedIP: a Service gets the pool address it asks for; one asking outside pool ${profile.pool.name} stays Pending`, () => {
  it("gives a Service asking for a free, unreserved pool address exactly that address", async ({ annotate }) => {
    given.require();
    const address = pickFreeUnreservedAddress(profile, await loadBalancerAddressesInUse(kube, profile), run.runId);
    await createLoadBalancerService(kube, { namespace, name: inside, runId: run.runId, selector: inside, requestedIP: address });
    const got = await waitFor(`external IP of Service ${namespace}/${inside}`, serviceHasIngressIP(kube, namespace, inside), {
      timeoutMs: timeouts.loadBalancerIpMs,
      intervalMs: 100,
    }).catch((error: unknown) => {
      throw new Error(`RequestedIP: Service ${namespace}/${inside} asking for ${address} got no IP: ${errorMessage(error)}`);
    });
    expect(got, `RequestedIP: Service ${namespace}/${inside} asked for ${address} but MetalLB gave it ${got}`).toBe(address);
    await annotate(`asked for ${address}, got ${got}`);
  });

  it(`reports MetalLB's ${ALLOCATION_FAILED} event for a Service asking for an address outside the pool`, async ({
    annotate,
  }) => {
    given.require();
    outsideAddress = await addressOutsideEveryPool();
    await createLoadBalancerService(kube, {
      namespace,
      name: outside,
      runId: run.runId,
      selector: outside,
      requestedIP: outsideAddress,
    });
    const reported = eventWithReason(kube, namespace, outside, ALLOCATION_FAILED);
    // Until MetalLB's verdict arrives, every poll also checks that no IP was assigned meanwhile.
    verdict = await waitFor<Verdict>(
      `MetalLB's ${ALLOCATION_FAILED} event for Service ${namespace}/${outside} (asking for ${outsideAddress})`,
      async () => {
        const svc = await kube.core.readNamespacedService({ namespace, name: outside });
        const ingress = svc.status?.loadBalancer?.ingress?.map((i) => i.ip ?? i.hostname).join(", ");
        if (ingress) return done({ ingress });
        const event = await reported();
        return event.done ? done({ event: `${event.value.reason}: ${event.value.message}` }) : event;
      },
      { timeoutMs: timeouts.loadBalancerIpMs, intervalMs: 250 },
    ).catch((error: unknown) => ({ error: errorMessage(error) }));
    expect(
      verdict.ingress,
      `RequestedIP: Service ${namespace}/${outside} asked for ${outsideAddress}, outside pool ${profile.pool.name}, and was given ${verdict.ingress}`,
    ).toBeUndefined();
    expect(verdict.event, `RequestedIP: MetalLB reported nothing about ${outsideAddress}: ${verdict.error}`).toBeDefined();
    expect(
      verdict.event,
      `RequestedIP: MetalLB's ${ALLOCATION_FAILED} event does not name the requested ${outsideAddress}: "${verdict.event}"`,
    ).toContain(outsideAddress);
    await annotate(`MetalLB: ${verdict.event}`);
  });

  it("leaves that Service Pending: no external IP while MetalLB decided, nor after", async () => {
    given.require();
    expect(outsideAddress, "RequestedIP: no Service asked for an address outside the pool (see the event check)").toBeDefined();
    expect(
      verdict?.ingress,
      `RequestedIP: Service ${namespace}/${outside} got external IP ${verdict?.ingress} for ${outsideAddress}, outside the pool`,
    ).toBeUndefined();
    const svc = await kube.core.readNamespacedService({ namespace, name: outside });
    const ingress = svc.status?.loadBalancer?.ingress ?? [];
    expect(
      ingress.map((i) => i.ip ?? i.hostname),
      `RequestedIP: Service ${namespace}/${outside} (asking for ${outsideAddress}) is no longer Pending`,
    ).toEqual([]);
  });
});
