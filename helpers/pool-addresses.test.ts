import { describe, expect, it } from "vitest";
import { addressToRequest, pickFreeUnreservedAddress } from "./pool-addresses.ts";
import { loadProfile } from "./profile.ts";

const homelab = loadProfile("fixtures/profiles/homelab.yaml");

describe("pickFreeUnreservedAddress", () => {
  it("never picks Traefik's reserved .100", () => {
    expect(pickFreeUnreservedAddress(homelab, [])).toBe("192.168.2.101");
  });
  it("skips addresses other Services hold", () => {
    expect(pickFreeUnreservedAddress(homelab, ["192.168.2.101", "192.168.2.102"])).toBe("192.168.2.103");
  });
  it("fails clearly when the pool is full", () => {
    const all = Array.from({ length: 21 }, (_, i) => `192.168.2.${100 + i}`);
    expect(() => pickFreeUnreservedAddress(homelab, all)).toThrow(/no free unreserved address/);
  });
  it("spreads runs over the free addresses by seed, never onto a reserved or taken one", () => {
    const taken = ["192.168.2.105"];
    const picks = new Set(["r1", "r2", "r3", "r4", "r5", "r6"].map((seed) => pickFreeUnreservedAddress(homelab, taken, seed)));
    expect(picks.size).toBeGreaterThan(1);
    expect([...picks]).not.toContain("192.168.2.100");
    expect([...picks]).not.toContain("192.168.2.105");
    expect(pickFreeUnreservedAddress(homelab, taken, "r1")).toBe(pickFreeUnreservedAddress(homelab, taken, "r1"));
  });
  it("asks for nothing only when every pool address is held, never for a free reserved one", () => {
    const all = Array.from({ length: 21 }, (_, i) => `192.168.2.${100 + i}`);
    expect(addressToRequest(homelab, all, "r1")).toBeUndefined();
    expect(() => addressToRequest(homelab, all.slice(1), "r1")).toThrow(/no free unreserved address/);
    expect(addressToRequest(homelab, all.slice(0, 20), "r1")).toBe("192.168.2.120");
  });
});
