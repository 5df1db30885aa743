import { describe, expect, it } from "vitest";
import { pickAddressOutsidePools } from "./outside-pool-address.ts";
import { deriveEphemeralProfile, loadProfile } from "./profile.ts";

const homelab = loadProfile("fixtures/profiles/homelab.yaml");

describe("pickAddressOutsidePools", () => {
  it("takes the first address after the pool", () => {
    expect(pickAddressOutsidePools(homelab, { pools: ["192.168.2.100-192.168.2.120"], avoid: [] })).toBe("192.168.2.121");
  });

  it("skips other pools MetalLB knows and addresses to avoid", () => {
    const picked = pickAddressOutsidePools(homelab, {
      pools: ["192.168.2.100-192.168.2.120", "192.168.2.121/32", "192.168.2.124/30"],
      avoid: ["192.168.2.122"],
    });
    expect(picked).toBe("192.168.2.123");
  });

  it("wraps around the subnet, never onto the network or broadcast address, a node or a reserved address", () => {
    const picked = pickAddressOutsidePools(homelab, { pools: ["192.168.2.121-192.168.2.254"], avoid: [] });
    expect(picked).toBe("192.168.2.3");
  });

  it("works in the ephemeral profile's subnet", () => {
    const ephemeral = deriveEphemeralProfile(homelab, "172.28.5.0/24");
    expect(pickAddressOutsidePools(ephemeral, { pools: ephemeral.pool.addresses, avoid: ["172.28.5.30"] })).toBe("172.28.5.121");
  });

  it("fails clearly when every address is taken", () => {
    expect(() => pickAddressOutsidePools(homelab, { pools: ["192.168.2.1-192.168.2.254"], avoid: [] })).toThrow(
      /no address in 192.168.2.0\/24 is outside every MetalLB pool/,
    );
  });
});
