import { describe, expect, it } from "vitest";
import {
  addressAtOffset,
  addressCount,
  contains,
  containsRange,
  hostOffset,
  ipEquals,
  ipsInRange,
  overlaps,
  parseAddressRange,
  parseCidr,
  parseIPv4,
  rangeToString,
  subnetToString,
} from "./ip-range.ts";

const range = (entry: string) => parseAddressRange(entry);

describe("parseIPv4", () => {
  it("parses a dotted quad", () => {
    expect(parseIPv4("192.168.2.100").toString()).toBe("192.168.2.100");
  });
  it("rejects IPv6 and says so", () => {
    expect(() => parseIPv4("fd00::1")).toThrow(/"fd00::1" \(this is IPv6; only IPv4 is supported\)/);
  });
  it.each(["10.1", "0x0a.0.0.1", "192.168.02.1", "256.1.1.1", "", "192.168.2.1.5"])(
    "rejects %j with the expected form",
    (text) => {
      expect(() => parseIPv4(text)).toThrow(/expected an IPv4 address in dotted-quad form/);
    },
  );
});

describe("parseAddressRange", () => {
  it("parses a first-last range", () => {
    const r = range("192.168.2.100-192.168.2.120");
    expect(r.first.toString()).toBe("192.168.2.100");
    expect(r.last.toString()).toBe("192.168.2.120");
  });
  it("allows spaces around the dash, as MetalLB does", () => {
    expect(rangeToString(range("192.168.2.100 - 192.168.2.120"))).toBe("192.168.2.100-192.168.2.120");
  });
  it("accepts a one-address range", () => {
    expect(addressCount(range("10.0.0.5-10.0.0.5"))).toBe(1);
  });
  it("rejects a reversed range, naming the input", () => {
    expect(() => range("192.168.2.120-192.168.2.100")).toThrow(
      /"192.168.2.120-192.168.2.100": the first address is after the last, expected first <= last/,
    );
  });
  it("names the bad end of a range", () => {
    expect(() => range("192.168.2.100-192.168.2.300")).toThrow(/last address: invalid IPv4 address "192.168.2.300"/);
    expect(() => range("fd00::1-192.168.2.3")).toThrow(/first address: .*IPv6/);
  });
  it("rejects entries that are neither a range nor a CIDR", () => {
    expect(() => range("192.168.2.100")).toThrow(/expected an IPv4 range "first-last"/);
    expect(() => range("1.1.1.1-2.2.2.2-3.3.3.3")).toThrow(/expected an IPv4 range/);
  });
  it("parses a CIDR as its whole network", () => {
    const r = range("192.168.2.96/28");
    expect(rangeToString(r)).toBe("192.168.2.96-192.168.2.111");
    expect(addressCount(r)).toBe(16);
  });
  it("masks host bits of a CIDR, like MetalLB", () => {
    expect(rangeToString(range("192.168.2.101/30"))).toBe("192.168.2.100-192.168.2.103");
  });
  it("handles /32 and /0", () => {
    expect(rangeToString(range("192.168.2.7/32"))).toBe("192.168.2.7-192.168.2.7");
    expect(addressCount(range("0.0.0.0/0"))).toBe(2 ** 32);
  });
  it("rejects IPv6 CIDRs and oversized prefixes", () => {
    expect(() => range("fd00::/120")).toThrow(/IPv6/);
    expect(() => range("10.0.0.0/33")).toThrow(/prefix \/33 is longer than 32/);
  });
});

describe("addressCount / contains / overlaps", () => {
  const pool = range("192.168.2.100-192.168.2.120");
  it("counts the homelab pool as 21", () => {
    expect(addressCount(pool)).toBe(21);
  });
  it("contains its bounds but not their neighbours", () => {
    expect(contains(pool, "192.168.2.100")).toBe(true);
    expect(contains(pool, "192.168.2.120")).toBe(true);
    expect(contains(pool, "192.168.2.99")).toBe(false);
    expect(contains(pool, parseIPv4("192.168.2.121"))).toBe(false);
  });
  it("rejects a non-IPv4 probe instead of answering false", () => {
    expect(() => contains(pool, "::ffff:192.168.2.100")).toThrow(/IPv6/);
  });
  it("detects overlap when ranges touch at one address, in both orders", () => {
    const touching = range("192.168.2.120-192.168.2.130");
    expect(overlaps(pool, touching)).toBe(true);
    expect(overlaps(touching, pool)).toBe(true);
  });
  it("finds adjacent ranges disjoint", () => {
    const adjacent = range("192.168.2.121-192.168.2.130");
    expect(overlaps(pool, adjacent)).toBe(false);
    expect(overlaps(adjacent, pool)).toBe(false);
    expect(overlaps(pool, range("192.168.2.99/32"))).toBe(false);
  });
  it("detects containment as overlap", () => {
    expect(overlaps(pool, range("192.168.2.110/32"))).toBe(true);
    expect(containsRange(pool, range("192.168.2.104/30"))).toBe(true);
    expect(containsRange(pool, range("192.168.2.96/28"))).toBe(false);
  });
  it("compares addresses by value", () => {
    expect(ipEquals("192.168.2.1", parseIPv4(" 192.168.2.1 "))).toBe(true);
    expect(ipEquals("192.168.2.1", "192.168.2.2")).toBe(false);
  });
});

describe("parseCidr", () => {
  it("returns network, prefix and broadcast", () => {
    const s = parseCidr("192.168.2.0/24");
    expect(s.network.toString()).toBe("192.168.2.0");
    expect(s.prefix).toBe(24);
    expect(s.broadcast.toString()).toBe("192.168.2.255");
    expect(subnetToString(s)).toBe("192.168.2.0/24");
  });
  it("rejects host bits, naming the network address expected", () => {
    expect(() => parseCidr("192.168.2.7/24")).toThrow(/host bits are set, expected the network address 192.168.2.0\/24/);
  });
  it.each(["192.168.2.0", "192.168.2.0/", "192.168.2.0/x", "192.168.2.0-192.168.2.9"])("rejects %j as not a CIDR", (text) => {
    expect(() => parseCidr(text)).toThrow(/expected an IPv4 network in CIDR form/);
  });
  it("rejects IPv6", () => {
    expect(() => parseCidr("fd00::/64")).toThrow(/IPv6/);
  });
});

describe("hostOffset / addressAtOffset", () => {
  const homelab = parseCidr("192.168.2.0/24");
  it("maps addresses to their host offset", () => {
    expect(hostOffset(homelab, "192.168.2.20")).toBe(20);
    expect(hostOffset(homelab, "192.168.2.0")).toBe(0);
    expect(hostOffset(parseCidr("172.16.0.0/12"), "172.17.0.5")).toBe(65_541);
  });
  it("refuses an address outside the subnet", () => {
    expect(() => hostOffset(homelab, "192.168.3.20")).toThrow(/192.168.3.20 is outside 192.168.2.0\/24/);
  });
  it("maps offsets back, round-tripping across subnets", () => {
    const ephemeral = parseCidr("172.29.2.0/24");
    expect(addressAtOffset(ephemeral, hostOffset(homelab, "192.168.2.100")).toString()).toBe("172.29.2.100");
    expect(addressAtOffset(homelab, 254).toString()).toBe("192.168.2.254");
  });
  it("refuses the network and broadcast addresses", () => {
    expect(() => addressAtOffset(homelab, 0)).toThrow(/offset 0 is the network address of 192.168.2.0\/24/);
    expect(() => addressAtOffset(homelab, 255)).toThrow(/offset 255 is the broadcast address/);
  });
  it("refuses offsets outside the subnet", () => {
    expect(() => addressAtOffset(homelab, 256)).toThrow(
      /offset 256 is outside 192.168.2.0\/24, expected an integer from 0 to 255/,
    );
    expect(() => addressAtOffset(homelab, -1)).toThrow(/outside/);
    expect(() => addressAtOffset(homelab, 1.5)).toThrow(/outside/);
  });
  it("treats every address of a /31 and /32 as usable", () => {
    expect(addressAtOffset(parseCidr("10.0.0.4/31"), 1).toString()).toBe("10.0.0.5");
    expect(addressAtOffset(parseCidr("10.0.0.4/32"), 0).toString()).toBe("10.0.0.4");
    expect(() => addressAtOffset(parseCidr("10.0.0.4/32"), 1)).toThrow(/outside/);
  });
});

describe("ipsInRange", () => {
  it("yields every address in order", () => {
    const ips = [...ipsInRange(range("192.168.2.254-192.168.3.1"))].map(String);
    expect(ips).toEqual(["192.168.2.254", "192.168.2.255", "192.168.3.0", "192.168.3.1"]);
  });
  it("refuses a range above the limit before yielding anything", () => {
    expect(() => ipsInRange(range("10.0.0.0/8"))).toThrow(/has 16777216 addresses, expected at most 65536/);
    expect(() => ipsInRange(range("10.0.0.0/29"), 4)).toThrow(/expected at most 4/);
  });
  it("handles the top of the address space", () => {
    expect([...ipsInRange(range("255.255.255.254/31"))].map(String)).toEqual(["255.255.255.254", "255.255.255.255"]);
  });
});
