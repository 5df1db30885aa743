// Which pool address a test Service may ask for on a live cluster: never one the profile reserves
// (Traefik's .100 in the homelab) and never one another Service holds.
import { createHash } from "node:crypto";
import type * as k8s from "@kubernetes/client-node";
import type { KubeClients } from "./kube.ts";
import { contains, ipsInRange, parseIPv4 } from "./ip-range.ts";
import { poolRanges, type Profile } from "./profile.ts";
import { REQUESTED_IPS_ANNOTATION } from "./workloads.ts";

/** MetalLB reads both keys: the legacy `metallb.universe.tf/` one and `metallb.io/` (since 0.14). */
export const REQUESTED_IPS_ANNOTATIONS = [REQUESTED_IPS_ANNOTATION, "metallb.io/loadBalancerIPs"] as const;

export const HELD_VIA = "status.loadBalancer.ingress";

/** One address a Service holds (`via` HELD_VIA) or asks for (spec.loadBalancerIP, an annotation). */
export interface AddressClaim {
  readonly address: string;
  readonly via: string;
}

/** Every address the Service holds or asks for, whatever its type, with where it was found. */
export function serviceAddressClaims(service: k8s.V1Service): AddressClaim[] {
  const annotations = service.metadata?.annotations ?? {};
  const claims = [
    ...(service.status?.loadBalancer?.ingress ?? []).map((i) => ({ address: i.ip ?? "", via: HELD_VIA })),
    { address: service.spec?.loadBalancerIP ?? "", via: "spec.loadBalancerIP" },
    ...REQUESTED_IPS_ANNOTATIONS.flatMap((key) =>
      (annotations[key] ?? "").split(",").map((address) => ({ address, via: `annotation ${key}` })),
    ),
  ];
  return claims.map((c) => ({ ...c, address: c.address.trim() })).filter((c) => c.address !== "");
}

/**
 * A pool address that is neither reserved nor in `inUse`. Candidates are taken in pool order
 * starting at a place derived from `seed` (the run id), so that runs against the same cluster at
 * the same time are unlikely to ask for the same address; without a seed, the first one.
 */
export function pickFreeUnreservedAddress(profile: Profile, inUse: readonly string[], seed = ""): string {
  const reserved = new Set(profile.pool.reserved.map((r) => r.address));
  const taken = new Set(inUse);
  const free = poolRanges(profile)
    .flatMap((range) => [...ipsInRange(range)].map((ip) => ip.toString()))
    .filter((address) => !reserved.has(address) && !taken.has(address));
  if (free.length === 0)
    throw new Error(`pool ${profile.pool.name} has no free unreserved address (in use: ${[...taken].join(", ") || "none"})`);
  const start = seed ? createHash("sha256").update(seed).digest().readUInt32BE(0) % free.length : 0;
  return free[start]!;
}

/**
 * What a test Service on a live cluster asks MetalLB for: a free, unreserved pool address; or,
 * when every pool address is held, nothing (MetalLB can then only leave it Pending and say why —
 * the exhausted pool is what the check should report). Free addresses that are all reserved
 * (Traefik's) are never taken: that throws.
 */
export function addressToRequest(profile: Profile, inUse: readonly string[], seed: string): string | undefined {
  const all = poolRanges(profile).flatMap((range) => [...ipsInRange(range)].map((ip) => ip.toString()));
  const taken = new Set(inUse);
  if (all.every((address) => taken.has(address))) return undefined;
  return pickFreeUnreservedAddress(profile, inUse, seed);
}

/** Every address a Service in the cluster holds or asks for, inside the profile's pool. */
export async function loadBalancerAddressesInUse(kube: KubeClients, profile: Profile): Promise<string[]> {
  const { items } = await kube.core.listServiceForAllNamespaces();
  const addresses = items.flatMap((s) => serviceAddressClaims(s).map((c) => c.address));
  const ranges = poolRanges(profile);
  return [...new Set(addresses.filter((a) => isIPv4(a) && ranges.some((r) => contains(r, a))))];
}

/** A dual-stack Service may also ask for an IPv6 address; the pool is IPv4. */
function isIPv4(address: string): boolean {
  try {
    parseIPv4(address);
    return true;
  } catch {
    return false;
  }
}
