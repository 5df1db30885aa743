// Choosing the ephemeral cluster's Docker subnet: a /24 (so the homelab's host offsets .20-.22,
// .100-.120 map one to one) that collides with nothing the host or Docker already routes, nor
// with k3s's pod and service ranges.
import ipaddr from "ipaddr.js";
import { overlaps, parseAddressRange } from "./ip-range.ts";

export const K3S_CLUSTER_RANGES = ["10.42.0.0/16", "10.43.0.0/16"] as const;

/** CIDRs overlap; host bits are ignored (interface addresses come as "192.0.2.2/24"). */
export function cidrsOverlap(a: string, b: string): boolean {
  return overlaps(parseAddressRange(a), parseAddressRange(b));
}

/** Candidates 172.28.0.0/24 … 172.31.255.0/24, starting at a run-specific offset. */
export function* candidateSubnets(seed: number): Generator<string> {
  const total = 4 * 256;
  for (let i = 0; i < total; i++) {
    const n = (seed + i) % total;
    yield `172.${28 + Math.floor(n / 256)}.${n % 256}.0/24`;
  }
}

/** The first candidate that overlaps none of `taken` (IPv4 CIDRs; others are ignored). */
export function pickFreeSubnet(taken: readonly string[], seed: number): string {
  const ipv4 = [...taken, ...K3S_CLUSTER_RANGES].filter((c) => ipaddr.IPv4.isValidCIDR(c));
  for (const candidate of candidateSubnets(seed)) {
    if (!ipv4.some((t) => cidrsOverlap(candidate, t))) return candidate;
  }
  throw new Error(`no free /24 left in 172.28.0.0/14 (taken: ${ipv4.join(", ")})`);
}
