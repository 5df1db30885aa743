// Which pool address a test Service may ask for on a live cluster: never one the profile reserves
// (Traefik's .100 in the homelab) and never one another Service holds.
import type { KubeClients } from "./kube.ts";
import { contains, ipsInRange } from "./ip-range.ts";
import { poolRanges, type Profile } from "./profile.ts";
import { REQUESTED_IPS_ANNOTATION } from "./workloads.ts";

/** The first address of the profile's pool that is neither reserved nor in `inUse`. */
export function pickFreeUnreservedAddress(profile: Profile, inUse: readonly string[]): string {
  const reserved = new Set(profile.pool.reserved.map((r) => r.address));
  const taken = new Set(inUse);
  for (const range of poolRanges(profile)) {
    for (const ip of ipsInRange(range)) {
      const address = ip.toString();
      if (!reserved.has(address) && !taken.has(address)) return address;
    }
  }
  throw new Error(`pool ${profile.pool.name} has no free unreserved address (in use: ${[...taken].join(", ") || "none"})`);
}

/** Every address a Service in the cluster holds or asks for, inside the profile's pool. */
export async function loadBalancerAddressesInUse(kube: KubeClients, profile: Profile): Promise<string[]> {
  const { items } = await kube.core.listServiceForAllNamespaces();
  const addresses = items.flatMap((s) => [
    ...(s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? ""),
    s.spec?.loadBalancerIP ?? "",
    ...(s.metadata?.annotations?.[REQUESTED_IPS_ANNOTATION] ?? "").split(","),
  ]);
  const ranges = poolRanges(profile);
  return [...new Set(addresses.map((a) => a.trim()).filter((a) => a && ranges.some((r) => contains(r, a))))];
}
