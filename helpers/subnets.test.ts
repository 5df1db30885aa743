import { describe, expect, it } from "vitest";
import { candidateSubnets, cidrsOverlap, pickFreeSubnet } from "./subnets.ts";

describe("cidrsOverlap", () => {
  it("detects containment and disjointness", () => {
    expect(cidrsOverlap("172.28.2.0/24", "172.28.0.0/16")).toBe(true);
    expect(cidrsOverlap("172.28.2.0/24", "172.28.3.0/24")).toBe(false);
    expect(cidrsOverlap("10.42.0.0/16", "10.42.7.0/24")).toBe(true);
  });
});

describe("pickFreeSubnet", () => {
  it("skips subnets Docker or the host already use", () => {
    expect(pickFreeSubnet(["172.28.0.0/24"], 0)).toBe("172.28.1.0/24");
    expect(pickFreeSubnet(["172.28.0.0/16"], 0)).toBe("172.29.0.0/24");
  });
  it("ignores IPv6 and non-CIDR entries", () => {
    expect(pickFreeSubnet(["fd00::/64", "garbage"], 2)).toBe("172.28.2.0/24");
  });
  it("never returns the host's or k3s's ranges", () => {
    const picked = pickFreeSubnet(["192.0.2.0/24", "172.17.0.0/16"], 5);
    expect(cidrsOverlap(picked, "192.0.2.0/24")).toBe(false);
    expect(cidrsOverlap(picked, "10.42.0.0/16")).toBe(false);
  });
  it("fails clearly when everything is taken", () => {
    expect(() => pickFreeSubnet(["172.28.0.0/14"], 0)).toThrow(/no free \/24/);
  });
  it("enumerates 1024 distinct candidates", () => {
    expect(new Set(candidateSubnets(17)).size).toBe(1024);
  });
});
