// An address a test Service may ask for to prove that MetalLB refuses one outside its pools: in
// the profile's subnet (so it is plausible), in no MetalLB pool (so it can never be assigned or
// announced), and not used by anything the profile or the caller knows of. It is only ever
// requested, never contacted.
import { addressAtOffset, contains, hostOffset, parseAddressRange, type AddressRange } from "./ip-range.ts";
import { poolRanges, profileSubnet, type Profile } from "./profile.ts";

export interface OutsidePoolOptions {
  /** `spec.addresses` entries of every pool MetalLB knows (its namespace's IPAddressPools) */
  pools: readonly string[];
  /** further addresses to leave alone (the probe host, addresses Services hold or ask for) */
  avoid: readonly string[];
}

/** The first suitable host address after the end of the profile's pool, wrapping around the subnet. */
export function pickAddressOutsidePools(profile: Profile, { pools, avoid }: OutsidePoolOptions): string {
  const subnet = profileSubnet(profile);
  const ranges: AddressRange[] = [...poolRanges(profile), ...pools.map(parseAddressRange)];
  const used = new Set(
    [...profile.network.nodes, ...profile.network.reserved, ...profile.pool.reserved].map((e) => e.address).concat(avoid),
  );
  const size = 2 ** (32 - subnet.prefix);
  const lastOfPool = Math.max(...poolRanges(profile).map((r) => hostOffset(subnet, r.last)));
  for (let step = 1; step < size; step++) {
    const offset = (lastOfPool + step) % size;
    let address: string;
    try {
      address = addressAtOffset(subnet, offset).toString();
    } catch {
      continue; // the network or broadcast address
    }
    if (!used.has(address) && !ranges.some((r) => contains(r, address))) return address;
  }
  throw new Error(
    `no address in ${profile.network.subnet} is outside every MetalLB pool (${[...profile.pool.addresses, ...pools].join(", ")}) and unused`,
  );
}
