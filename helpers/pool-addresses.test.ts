import { describe, expect, it } from "vitest";
import { pickFreeUnreservedAddress } from "./pool-addresses.ts";
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
});
