// AC2: Given MetalLB is running, When an IPAddressPool for the profile's range is applied, Then
// the pool exists and `kubectl get ipaddresspools -n <MetalLB's namespace>` shows it.
import { beforeAll, describe, expect, inject, it } from "vitest";
import { addressCount, contains, parseAddressRange, rangeToString } from "../helpers/ip-range.ts";
import { kubeClients, nodeInternalIP, type KubeClients } from "../helpers/kube.ts";
import { CONTROLLER_SELECTOR, listMetallb, metallbPods, readMetallb, type MetallbObject } from "../helpers/metallb.ts";
import { podMetrics } from "../helpers/metallb-metrics.ts";
import { findSamples } from "../helpers/metrics.ts";
import { poolRanges } from "../helpers/profile.ts";
import { waitFor, done, notYet, type Observation } from "../helpers/wait.ts";
import { Given } from "./support/given.ts";
import { metallbNamespace, metallbRunning } from "./support/metallb-state.ts";

const run = inject("run");
const { profile, timeouts } = run;
const poolName = profile.pool.name;
const expectedRanges = poolRanges(profile).map(rangeToString).sort();
const given = new Given("AC1");
let kube: KubeClients;
let ns: string;
let pool: MetallbObject | undefined;

/** The allocator's count of the pool's addresses: MetalLB 0.15+ writes it into the pool's status
 * (assigned + available); older versions only export metallb_allocator_addresses_total. */
async function allocatorCount(): Promise<Observation<{ total: number; source: string }>> {
  const status = (await readMetallb(kube, "ipaddresspools", ns, poolName))?.status as
    { assignedIPv4?: number; availableIPv4?: number } | undefined;
  if (typeof status?.availableIPv4 === "number") {
    const assigned = status.assignedIPv4 ?? 0;
    return done({
      total: assigned + status.availableIPv4,
      source: `status: ${assigned} assigned + ${status.availableIPv4} available`,
    });
  }
  const controller = (await metallbPods(kube, ns, CONTROLLER_SELECTOR))[0];
  if (!controller) return notYet("no pool status and no controller pod to read allocator metrics from");
  const samples = findSamples(
    await podMetrics(kube, ns, controller.metadata!.name!, run.metricsAccess),
    "metallb_allocator_addresses_total",
    { pool: poolName },
  );
  return samples[0]
    ? done({ total: samples[0].value, source: "metallb_allocator_addresses_total" })
    : notYet("no pool status, and the controller's metrics report no such pool");
}

function poolAddresses(p: MetallbObject): string[] {
  return ((p.spec?.addresses as string[] | undefined) ?? []).map((a) => rangeToString(parseAddressRange(a))).sort();
}

beforeAll(async () => {
  kube = kubeClients({ path: run.kubeconfigPath, context: run.context });
  await given.evaluate(() => metallbRunning(kube, run));
  ns = (await metallbNamespace(kube, run).catch(() => undefined)) ?? "(unknown)";
  pool = await readMetallb(kube, "ipaddresspools", ns, poolName).catch(() => undefined);
});

describe(`AC2: IPAddressPool ${poolName} (${profile.pool.addresses.join(", ")}) is configured in MetalLB's namespace`, () => {
  it(`lists pool ${poolName} in the namespace MetalLB runs in`, async () => {
    given.require();
    const here = (await listMetallb(kube, "ipaddresspools", ns)).map((p) => p.metadata.name);
    expect(pool, `AC2: IPAddressPool ${poolName} is not in ${ns} (pools there: ${here.join(", ") || "none"})`).toBeDefined();
  });

  it(`covers exactly the profile's range ${expectedRanges.join(", ")}`, () => {
    given.require();
    expect(pool, `AC2: IPAddressPool ${poolName} missing in ${ns}`).toBeDefined();
    const actual = poolAddresses(pool!);
    expect(actual, `AC2: pool ${poolName} covers ${actual.join(", ")}, expected ${expectedRanges.join(", ")}`).toEqual(
      expectedRanges,
    );
  });

  it(`holds ${profile.pool.addressCount} addresses`, () => {
    given.require();
    expect(pool, `AC2: IPAddressPool ${poolName} missing in ${ns}`).toBeDefined();
    const count = poolAddresses(pool!).reduce((n, r) => n + addressCount(parseAddressRange(r)), 0);
    expect(count, `AC2: pool ${poolName} holds ${count} addresses, expected ${profile.pool.addressCount}`).toBe(
      profile.pool.addressCount,
    );
  });

  it(`has auto-assign ${profile.pool.autoAssign ? "on" : "off"}`, () => {
    given.require();
    expect(pool, `AC2: IPAddressPool ${poolName} missing in ${ns}`).toBeDefined();
    const autoAssign = (pool!.spec?.autoAssign as boolean | undefined) ?? true;
    expect(autoAssign, `AC2: pool ${poolName} has autoAssign ${autoAssign}, expected ${profile.pool.autoAssign}`).toBe(
      profile.pool.autoAssign,
    );
  });

  it("overlaps no node address and no reserved address outside the pool", async () => {
    given.require();
    expect(pool, `AC2: IPAddressPool ${poolName} missing in ${ns}`).toBeDefined();
    const ranges = poolAddresses(pool!).map(parseAddressRange);
    const nodes = (await kube.core.listNode()).items.map((n) => ({
      what: `node ${n.metadata?.name} InternalIP`,
      ip: nodeInternalIP(n),
    }));
    const reserved = profile.network.reserved.map((r) => ({ what: `reserved ${r.purpose}`, ip: r.address }));
    const profileNodes = profile.network.nodes.map((n) => ({ what: `profile node ${n.name}`, ip: n.address }));
    const clashes = [...nodes, ...reserved, ...profileNodes]
      .filter((a): a is { what: string; ip: string } => !!a.ip && ranges.some((r) => contains(r, a.ip!)))
      .map((a) => `${a.what} ${a.ip}`);
    expect(clashes, `AC2: pool ${poolName} overlaps ${clashes.join(", ")}`).toEqual([]);
  });

  it(`is counted by MetalLB's allocator (${profile.pool.addressCount} addresses)`, async () => {
    given.require();
    const counted = await waitFor(`MetalLB's count of the addresses in ${poolName}`, () => allocatorCount(), {
      timeoutMs: timeouts.metallbReadyMs,
      intervalMs: 1000,
    });
    expect(
      counted.total,
      `AC2: MetalLB's allocator counts ${counted.total} addresses in ${poolName} (${counted.source}), expected ${profile.pool.addressCount}`,
    ).toBe(profile.pool.addressCount);
  });

  it("has no IPAddressPool outside MetalLB's namespace (MetalLB would ignore it)", async () => {
    given.require();
    const elsewhere = (await listMetallb(kube, "ipaddresspools")).filter((p) => p.metadata.namespace !== ns);
    const names = elsewhere.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    expect(names, `AC2: ${names.join(", ")} ignored by MetalLB, which only reads pools in ${ns}`).toEqual([]);
  });
});
