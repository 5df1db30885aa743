// Choosing the ephemeral cluster's Docker subnet: a /24 (so the homelab's host offsets .20-.22,
// .100-.120 map one to one) that collides with nothing the host or Docker already routes, nor
// with k3s's pod and service ranges.
import ipaddr from "ipaddr.js";

export const K3S_CLUSTER_RANGES = ["10.42.0.0/16", "10.43.0.0/16"] as const;

function bounds(cidr: string): [number, number] {
  const [address, prefix] = ipaddr.IPv4.parseCIDR(cidr);
  const base = address.toByteArray().reduce((n, byte) => n * 256 + byte, 0);
  const size = 2 ** (32 - prefix);
  const first = base - (base % size);
  return [first, first + size - 1];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [a0, a1] = bounds(a);
  const [b0, b1] = bounds(b);
  return a0 <= b1 && b0 <= a1;
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
