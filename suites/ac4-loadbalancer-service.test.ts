// AC4: Given MetalLB is fully configured, When a test Service of type LoadBalancer is created,
// Then it receives an external IP from the pool and the IP answers HTTP from other devices.
import { beforeAll, describe, expect, inject, it } from "vitest";
import { httpAnswers200, resourceDeleted, serviceHasIngressIP } from "../helpers/conditions.ts";
import { contains } from "../helpers/ip-range.ts";
import { kubeClients, type KubeClients } from "../helpers/kube.ts";
import { serviceL2Status } from "../helpers/metallb.ts";
import { addressToRequest, loadBalancerAddressesInUse } from "../helpers/pool-addresses.ts";
import { assertAddressAllowed, poolRanges } from "../helpers/profile.ts";
import { segmentProbeFor } from "../helpers/segment-probe.ts";
import { serviceBackends } from "../helpers/service-backends.ts";
import { errorMessage, waitFor } from "../helpers/wait.ts";
import { createLoadBalancerService, createNginxDeployment } from "../helpers/workloads.ts";
import { Given, NOT_ON_SEGMENT } from "./support/given.ts";
import { metallbNamespace, poolAdvertised } from "./support/metallb-state.ts";

const run = inject("run");
const { profile, timeouts, testNamespace: namespace } = run;
const backend = "ac4-nginx";
const WELCOME = "Welcome to nginx!";
const SVCLB_LABEL = "svccontroller.k3s.cattle.io";
const given = new Given("AC3");
let kube: KubeClients;
let ip: string | undefined;
let backendError: string | undefined;

beforeAll(async () => {
  kube = kubeClients({ path: run.kubeconfigPath, context: run.context });
  await given.evaluate(() => poolAdvertised(kube, run));
  if (!given.holds) return;
  // The backend is a fixture, not a step: whether it serves is what the HTTP steps find out
  // (a broken backend fails AC4 there, with its pods' state, while the IP step still passes).
  await createNginxDeployment(kube, { namespace, name: backend, runId: run.runId, image: run.nginxImage }).catch(
    (error: unknown) => (backendError = `the nginx backend could not be created: ${errorMessage(error)}`),
  );
});

/** Why HTTP may fail, from behind the Service: its ready endpoints, or its pods' state. */
async function backendState(): Promise<string> {
  if (backendError) return backendError;
  return serviceBackends(kube, namespace, backend).then(
    (b) => `behind Service ${namespace}/${backend}: ${b.summary}`,
    (error: unknown) => `its endpoints could not be read: ${errorMessage(error)}`,
  );
}

function requireIP(): string {
  expect(ip, "AC4: the Service has no external IP (see the IP check)").toBeDefined();
  return assertAddressAllowed(profile, ip!, { purpose: "HTTP request", within: "pool" });
}

describe(`AC4: a LoadBalancer Service gets an IP from pool ${profile.pool.name} and serves HTTP`, () => {
  it(`gives the LoadBalancer Service an external IP from the pool within ${timeouts.loadBalancerIpMs} ms`, async () => {
    given.require();
    // On a live cluster the test Service asks for a free, unreserved address (never Traefik's).
    const requestedIP = run.ephemeral
      ? undefined
      : addressToRequest(profile, await loadBalancerAddressesInUse(kube, profile), run.runId);
    await createLoadBalancerService(kube, { namespace, name: backend, runId: run.runId, selector: backend, requestedIP });
    ip = await waitFor(`external IP of Service ${namespace}/${backend}`, serviceHasIngressIP(kube, namespace, backend), {
      timeoutMs: timeouts.loadBalancerIpMs,
      intervalMs: 100,
    }).catch((error: unknown) => {
      throw new Error(`AC4: Service ${namespace}/${backend} got no external IP: ${errorMessage(error)}`);
    });
    expect(
      poolRanges(profile).some((r) => contains(r, ip!)),
      `AC4: external IP ${ip} is outside pool ${profile.pool.addresses.join(", ")}`,
    ).toBe(true);
  });

  it("is handled by MetalLB alone: k3s's ServiceLB (klipper-lb) does not act on it", async () => {
    given.require();
    requireIP();
    // k3s's ServiceLB marks each LoadBalancer Service it takes with a finalizer and runs a svclb
    // DaemonSet for it; both appear as soon as it sees the Service (k3s pkg/cloudprovider/servicelb.go).
    const svc = await kube.core.readNamespacedService({ namespace, name: backend });
    const finalizers = (svc.metadata?.finalizers ?? []).filter((f) => f.startsWith("svccontroller."));
    const { items } = await kube.apps.listDaemonSetForAllNamespaces({
      labelSelector: `${SVCLB_LABEL}/svcname=${backend},${SVCLB_LABEL}/svcnamespace=${namespace}`,
    });
    const seen = [
      ...finalizers.map((f) => `finalizer ${f}`),
      ...items.map((d) => `DaemonSet ${d.metadata?.namespace}/${d.metadata?.name}`),
    ];
    expect(
      seen,
      `AC4: k3s ServiceLB also handles Service ${namespace}/${backend} (${seen.join(", ")}): two LoadBalancer implementations compete for it — start k3s with --disable servicelb`,
    ).toEqual([]);
  });

  it("answers GET http://IP/ from this host with 200 and the nginx welcome page", async () => {
    given.require();
    const address = requireIP();
    const result = await waitFor(`HTTP 200 from http://${address}/`, httpAnswers200(`http://${address}/`), {
      timeoutMs: timeouts.httpReadyMs,
      intervalMs: 100,
    }).catch(async (error: unknown) => {
      throw new Error(
        `AC4: http://${address}/ does not answer 200 from this host: ${errorMessage(error)}; ${await backendState()}`,
      );
    });
    expect(result.body, `AC4: http://${address}/ answered 200 but not with the nginx welcome page`).toContain(WELCOME);
  });

  it("answers the same from another device on the segment (probe host)", async ({ skip }) => {
    given.require();
    const segment = segmentProbeFor(kube, run);
    if (!segment) skip(NOT_ON_SEGMENT);
    const address = requireIP();
    const metallbNs = await metallbNamespace(kube, run);
    const announcing = metallbNs ? await serviceL2Status(kube, metallbNs, { namespace, name: backend }) : undefined;
    const host = await segment!.hostOtherThan((announcing?.status?.node as string | undefined) ?? "").catch((error: unknown) => {
      throw new Error(`AC4: cannot place a probe on the segment: ${errorMessage(error)}`);
    });
    const r = await host.executor.exec(["curl", "-sS", "--max-time", "5", "-w", "\n%{http_code}", `http://${address}/`]);
    const status = r.stdout.trim().split("\n").pop();
    const why = status === "200" ? "" : `; ${await backendState()}`;
    expect(status, `AC4: http://${address}/ from ${host.description}: ${r.stderr.trim() || `HTTP ${status}`}${why}`).toBe("200");
    expect(r.stdout, `AC4: http://${address}/ from ${host.description} did not serve the nginx welcome page`).toContain(WELCOME);
  });

  it("returns the IP to the pool when the Service is deleted: a new Service asking for it gets it", async () => {
    given.require();
    const address = requireIP();
    await kube.core.deleteNamespacedService({ namespace, name: backend });
    await waitFor(
      `Service ${backend} deleted`,
      resourceDeleted(() => kube.core.readNamespacedService({ namespace, name: backend })),
      {
        timeoutMs: timeouts.cleanupMs,
      },
    );
    const second = `${backend}-again`;
    await createLoadBalancerService(kube, { namespace, name: second, runId: run.runId, selector: backend, requestedIP: address });
    const again = await waitFor(`external IP of Service ${namespace}/${second}`, serviceHasIngressIP(kube, namespace, second), {
      timeoutMs: timeouts.loadBalancerIpMs,
      intervalMs: 100,
    }).catch((error: unknown) => {
      throw new Error(
        `AC4: ${address} was not returned to the pool: a Service asking for it stays Pending (${errorMessage(error)})`,
      );
    });
    expect(again, `AC4: a Service asking for the freed ${address} got ${again}`).toBe(address);
  });
});
