import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  type Profile,
  ProfileError,
  TIMEOUT_KEYS,
  assertAddressAllowed,
  deriveEphemeralProfile,
  loadProfile,
  withChartVersion,
  parseProfile,
  poolRanges,
  validateProfile,
} from "./profile.ts";
import { addressCount, contains, parseCidr, subnetRange } from "./ip-range.ts";

const HOMELAB = "fixtures/profiles/homelab.yaml";

/** The homelab profile as plain, mutable data, for building broken variants. */
function homelabData(): Record<string, any> {
  return parse(readFileSync(HOMELAB, "utf8")) as Record<string, any>;
}

function issuesOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof ProfileError) return error.issues;
    throw error;
  }
  throw new Error("expected a ProfileError, nothing was thrown");
}

function issuesFor(mutate: (data: Record<string, any>) => void): readonly string[] {
  const data = homelabData();
  mutate(data);
  return issuesOf(() => validateProfile(data, "test"));
}

describe("loadProfile (homelab fixture)", () => {
  const profile = loadProfile(HOMELAB);

  it("reads the homelab facts", () => {
    expect(profile.name).toBe("homelab");
    expect(profile.metallb).toMatchObject({ namespace: "discover", chart: { name: "metallb", version: "0.15.3" } });
    expect(profile.network.nodes.map((n) => `${n.name}=${n.address}`)).toEqual([
      "k3s-master=192.168.2.20",
      "k3s-worker-01=192.168.2.21",
      "k3s-worker-02=192.168.2.22",
    ]);
    expect(profile.pool).toMatchObject({ name: "homelab-pool", addresses: ["192.168.2.100-192.168.2.120"], addressCount: 21 });
    expect(profile.pool.reserved[0]).toMatchObject({ address: "192.168.2.100", service: { name: "traefik" } });
    expect(profile.l2Advertisement.name).toBe("homelab-l2");
    expect(Object.keys(profile.timeouts).sort()).toEqual([...TIMEOUT_KEYS].sort());
  });

  it("is deeply frozen", () => {
    expect(Object.isFrozen(profile)).toBe(true);
    expect(Object.isFrozen(profile.network.nodes[0])).toBe(true);
    expect(() => ((profile.pool.addresses as string[])[0] = "10.0.0.1-10.0.0.2")).toThrow(TypeError);
  });

  it("reports a missing file as a ProfileError naming the path", () => {
    const error = (() => {
      try {
        loadProfile("fixtures/profiles/nope.yaml");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ProfileError);
    expect((error as Error).message).toMatch(/invalid profile fixtures\/profiles\/nope.yaml:\n  \(file\): cannot read it/);
  });
});

describe("parseProfile", () => {
  it("reports YAML syntax errors with the source name", () => {
    expect(() => parseProfile("name: [unclosed", "broken.yaml")).toThrow(/invalid profile broken.yaml:\n  \(yaml\): /);
  });
  it("reports duplicate keys", () => {
    const issues = issuesOf(() => parseProfile("name: a\nname: b\n", "dup.yaml"));
    expect(issues).toEqual(["(yaml): Map keys must be unique at line 2, column 1, expected valid YAML"]);
  });
  it("rejects an empty document", () => {
    expect(issuesOf(() => parseProfile("", "empty.yaml"))[0]).toMatch(/^\(top level\): expected a mapping/);
  });
  it("rejects a chart version YAML reads as a number", () => {
    const text = readFileSync(HOMELAB, "utf8").replace('version: "0.15.3"', "version: 0.16");
    expect(issuesOf(() => parseProfile(text, "t"))).toEqual([
      "metallb.chart.version: expected a chart version like 0.15.3 (quote it if YAML reads it as a number), got 0.16",
    ]);
  });
});

describe("profile field validation", () => {
  it("names the field path and the bad value of a malformed pool range", () => {
    expect(issuesFor((d) => (d.pool.addresses = ["192.168.2.120-192.168.2.100"]))).toContain(
      'pool.addresses[0]: invalid address range "192.168.2.120-192.168.2.100": the first address is after the last, expected first <= last',
    );
  });
  it("rejects IPv6 node addresses", () => {
    expect(issuesFor((d) => (d.network.nodes[1].address = "fd00::21"))).toEqual([
      'network.nodes[1].address: invalid IPv4 address "fd00::21" (this is IPv6; only IPv4 is supported): expected an IPv4 address in dotted-quad form like 192.168.2.100',
    ]);
  });
  it("reports a missing field as got nothing", () => {
    expect(issuesFor((d) => delete d.l2Advertisement.name)).toEqual([
      "l2Advertisement.name: expected an L2Advertisement name (a lowercase DNS-1123 name like homelab-pool), got nothing",
    ]);
  });
  it("reports an unknown (misspelt) field with the allowed ones", () => {
    expect(issuesFor((d) => (d.pool.autoassign = true))).toEqual([
      "pool: unknown field(s) autoassign, expected only: name, addresses, addressCount, autoAssign, reserved",
    ]);
  });
  it("reports every bad field at once", () => {
    const issues = issuesFor((d) => {
      d.metallb.namespace = "Infra";
      d.network.nodes[0].role = "master";
      d.timeouts.arpMs = 0;
      d.timeouts.cleanupMs = "2m";
      d.pool.autoAssign = "yes";
    });
    expect(issues).toEqual([
      'metallb.namespace: expected "discover" or a namespace (a lowercase DNS-1123 label like metallb-system), got "Infra"',
      'network.nodes[0].role: expected "server" or "agent", got "master"',
      'pool.autoAssign: expected true or false, got "yes"',
      "timeouts.arpMs: expected a positive whole number of milliseconds, got 0",
      'timeouts.cleanupMs: expected a positive whole number of milliseconds, got "2m"',
    ]);
  });
  it("requires at least one node and one pool range", () => {
    const issues = issuesFor((d) => {
      d.network.nodes = [];
      d.pool.addresses = [];
    });
    expect(issues).toEqual([
      "network.nodes: expected at least one node, got []",
      "pool.addresses: expected at least one address range, got []",
    ]);
  });
  it("rejects a subnet with host bits set", () => {
    expect(issuesFor((d) => (d.network.subnet = "192.168.2.1/24"))).toEqual([
      'network.subnet: invalid CIDR "192.168.2.1/24": host bits are set, expected the network address 192.168.2.0/24',
    ]);
  });
  it("defaults optional lists to empty", () => {
    const data = homelabData();
    delete data.pool.reserved;
    delete data.network.reserved;
    delete data.metallb.namespaceCandidates;
    const profile = validateProfile(data, "t");
    expect([profile.pool.reserved, profile.network.reserved, profile.metallb.namespaceCandidates]).toEqual([[], [], []]);
  });

  it("defaults the backend image to the nginx image `npm run images` builds", () => {
    const data = homelabData();
    delete data.backend;
    const built = /^NGINX_IMAGE=(\S+)$/m.exec(readFileSync("images/versions.env", "utf8"))?.[1];
    expect(validateProfile(data, "t").backend.image).toBe(built);
    expect(validateProfile({ ...data, backend: { image: "mirror.lan/nginx:1.22.1" } }, "t").backend.image).toBe(
      "mirror.lan/nginx:1.22.1",
    );
  });
});

describe("profile cross-checks", () => {
  it("checks addressCount against the real count", () => {
    expect(issuesFor((d) => (d.pool.addressCount = 20))).toEqual([
      "pool.addressCount: expected 21 (the addresses in pool.addresses), got 20",
    ]);
  });
  it("counts across several entries, CIDRs included", () => {
    const data = homelabData();
    data.pool.addresses = ["192.168.2.100-192.168.2.120", "192.168.2.128/28"];
    data.pool.addressCount = 37;
    expect(validateProfile(data, "t").pool.addressCount).toBe(37);
  });
  it("rejects overlapping pool entries", () => {
    expect(
      issuesFor((d) => {
        d.pool.addresses = ["192.168.2.100-192.168.2.120", "192.168.2.120/32"];
        d.pool.addressCount = 22;
      }),
    ).toEqual(['pool.addresses[1]: expected no overlap with pool.addresses[0], got "192.168.2.120/32"']);
  });
  it("requires the pool inside the subnet and clear of network/broadcast", () => {
    expect(issuesFor((d) => (d.pool.addresses = ["192.168.2.250-192.168.3.14"]))).toContain(
      'pool.addresses[0]: expected a range inside network.subnet 192.168.2.0/24, got "192.168.2.250-192.168.3.14"',
    );
    expect(issuesFor((d) => (d.pool.addresses = ["192.168.2.240/28"]))).toContain(
      'pool.addresses[0]: expected a range without the network or broadcast address of 192.168.2.0/24, got "192.168.2.240/28"',
    );
  });
  it("requires pool reserved addresses inside the pool (boundary included)", () => {
    expect(issuesFor((d) => (d.pool.reserved[0].address = "192.168.2.121"))).toEqual([
      'pool.reserved[0].address: expected an address inside pool.addresses (192.168.2.100-192.168.2.120), got "192.168.2.121"',
    ]);
    const data = homelabData();
    data.pool.reserved[0].address = "192.168.2.120";
    expect(validateProfile(data, "t").pool.reserved[0]?.address).toBe("192.168.2.120");
  });
  it("requires node and reserved addresses inside the subnet and outside the pool", () => {
    const issues = issuesFor((d) => {
      d.network.nodes[0].address = "192.168.3.20";
      d.network.nodes[2].address = "192.168.2.100";
      d.network.reserved[1].address = "192.168.2.255";
    });
    expect(issues).toEqual([
      'network.nodes[0].address: expected an address inside network.subnet 192.168.2.0/24, got "192.168.3.20"',
      'network.nodes[2].address: expected an address outside pool.addresses (192.168.2.100-192.168.2.120), got "192.168.2.100"',
      'network.reserved[1].address: expected a host address, not the network or broadcast address of 192.168.2.0/24, got "192.168.2.255"',
    ]);
  });
  it("rejects duplicate addresses and node names", () => {
    const issues = issuesFor((d) => {
      d.network.reserved[0].address = "192.168.2.21";
      d.network.nodes[2].name = "k3s-worker-01";
    });
    expect(issues).toEqual([
      'network.reserved[0].address: expected a unique address, got "192.168.2.21" (already used by network.nodes[1].address)',
      'network.nodes[2].name: expected a unique name, got "k3s-worker-01" (already used by network.nodes[1].name)',
    ]);
  });
  it("joins all issues into a multi-line message, one per line", () => {
    const data = homelabData();
    data.pool.addressCount = 3;
    data.pool.reserved[0].address = "192.168.2.99";
    expect(() => validateProfile(data, "homelab.yaml")).toThrow(
      "invalid profile homelab.yaml:\n" +
        "  pool.addressCount: expected 21 (the addresses in pool.addresses), got 3\n" +
        '  pool.reserved[0].address: expected an address inside pool.addresses (192.168.2.100-192.168.2.120), got "192.168.2.99"',
    );
  });
});

describe("deriveEphemeralProfile", () => {
  const homelab = loadProfile(HOMELAB);

  it("moves every address into the new subnet at the same host offset", () => {
    const eph = deriveEphemeralProfile(homelab, "172.29.2.0/24");
    expect(eph.name).toBe("homelab-ephemeral");
    expect(eph.network.subnet).toBe("172.29.2.0/24");
    expect(eph.network.nodes.map((n) => n.address)).toEqual(["172.29.2.20", "172.29.2.21", "172.29.2.22"]);
    expect(eph.network.reserved.map((r) => r.address)).toEqual(["172.29.2.1", "172.29.2.2"]);
    expect(eph.pool.addresses).toEqual(["172.29.2.100-172.29.2.120"]);
    expect(eph.pool.reserved[0]).toMatchObject({ address: "172.29.2.100", purpose: "traefik" });
    expect(eph.pool.addressCount).toBe(21);
  });

  it("keeps everything that is not an address", () => {
    const eph = deriveEphemeralProfile(homelab, "172.29.2.0/24");
    expect(eph.metallb).toEqual(homelab.metallb);
    expect(eph.timeouts).toEqual(homelab.timeouts);
    expect(eph.l2Advertisement).toEqual(homelab.l2Advertisement);
    expect(eph.network.nodes.map((n) => [n.name, n.role])).toEqual(homelab.network.nodes.map((n) => [n.name, n.role]));
    expect(Object.isFrozen(eph.pool)).toBe(true);
  });

  it("contains no address of the original subnet", () => {
    const eph = deriveEphemeralProfile(homelab, "10.200.0.0/16");
    expect(JSON.stringify(eph)).not.toMatch(/192\.168\.2\./);
    const original = subnetRange(parseCidr(homelab.network.subnet));
    expect(poolRanges(eph).some((r) => contains(original, r.first) || contains(original, r.last))).toBe(false);
  });

  it("fits a longer prefix when the offsets fit", () => {
    const eph = deriveEphemeralProfile(homelab, "172.29.2.0/25");
    expect(eph.pool.addresses).toEqual(["172.29.2.100-172.29.2.120"]);
    expect(addressCount(poolRanges(eph)[0]!)).toBe(21);
  });

  it("refuses a subnet too small for the offsets, naming each field", () => {
    const issues = issuesOf(() => deriveEphemeralProfile(homelab, "172.29.2.0/26"));
    expect(issues).toContain(
      "pool.addresses[0]: cannot keep host offset 100 of 192.168.2.100 in 172.29.2.0/26 (offset 100 is outside 172.29.2.0/26, expected an integer from 0 to 63)",
    );
    expect(issues.some((i) => i.startsWith("pool.reserved[0].address:"))).toBe(true);
    expect(issues.some((i) => i.startsWith("network.nodes"))).toBe(false);
  });

  it("refuses an offset that lands on the new broadcast address", () => {
    const data = homelabData();
    data.pool.addresses = ["192.168.2.100-192.168.2.127"];
    data.pool.addressCount = 28;
    const issues = issuesOf(() => deriveEphemeralProfile(validateProfile(data, "t"), "172.29.2.0/25"));
    expect(issues).toEqual([expect.stringMatching(/^pool.addresses\[0\]: .*offset 127 is the broadcast address/)]);
  });

  it("refuses a subnet overlapping the original", () => {
    expect(issuesOf(() => deriveEphemeralProfile(homelab, "192.168.0.0/16"))).toEqual([
      'network.subnet: expected a subnet sharing no address with 192.168.2.0/24, got "192.168.0.0/16"',
    ]);
    expect(issuesOf(() => deriveEphemeralProfile(homelab, "192.168.2.0/24"))).toHaveLength(1);
  });

  it("refuses a malformed or IPv6 subnet", () => {
    expect(issuesOf(() => deriveEphemeralProfile(homelab, "172.29.2.5/24"))[0]).toMatch(/^network.subnet: .*host bits/);
    expect(issuesOf(() => deriveEphemeralProfile(homelab, "fd00::/64"))[0]).toMatch(/^network.subnet: .*IPv6/);
  });
});

describe("withChartVersion", () => {
  const homelab = loadProfile(HOMELAB);
  it("changes only the chart version", () => {
    const matrix = withChartVersion(homelab, "0.16.1");
    expect(matrix.metallb.chart.version).toBe("0.16.1");
    expect({ ...matrix, metallb: { ...matrix.metallb, chart: homelab.metallb.chart } }).toEqual(homelab);
    expect(homelab.metallb.chart.version).toBe("0.15.3");
  });
  it("returns the profile itself without a version or with the same one", () => {
    expect(withChartVersion(homelab, undefined)).toBe(homelab);
    expect(withChartVersion(homelab, "0.15.3")).toBe(homelab);
  });
  it("validates the new version like the profile's own", () => {
    expect(issuesOf(() => withChartVersion(homelab, "latest"))[0]).toMatch(/^metallb\.chart\.version: /);
  });
});

describe("assertAddressAllowed", () => {
  const homelab: Profile = loadProfile(HOMELAB);
  const http = { purpose: "HTTP GET", within: "pool" } as const;

  it("allows pool addresses at both ends", () => {
    expect(assertAddressAllowed(homelab, "192.168.2.100", http)).toBe("192.168.2.100");
    expect(assertAddressAllowed(homelab, "192.168.2.120", http)).toBe("192.168.2.120");
  });
  it("refuses an address just outside the pool, saying what and why", () => {
    expect(() => assertAddressAllowed(homelab, "192.168.2.121", http)).toThrow(
      "refusing HTTP GET to 192.168.2.121: outside pool homelab-pool (192.168.2.100-192.168.2.120) of profile homelab, expected an address inside it",
    );
  });
  it("refuses node addresses for pool-scoped traffic but allows them subnet-scoped", () => {
    expect(() => assertAddressAllowed(homelab, "192.168.2.20", http)).toThrow(/outside pool/);
    expect(assertAddressAllowed(homelab, "192.168.2.20", { purpose: "ARP", within: "subnet" })).toBe("192.168.2.20");
  });
  it("refuses addresses outside the subnet", () => {
    expect(() => assertAddressAllowed(homelab, "8.8.8.8", { purpose: "ARP request", within: "subnet" })).toThrow(
      "refusing ARP request to 8.8.8.8: outside network 192.168.2.0/24 of profile homelab, expected an address inside it",
    );
  });
  it("refuses malformed and IPv6 addresses", () => {
    expect(() => assertAddressAllowed(homelab, "fd00::100", http)).toThrow(
      /^refusing HTTP GET: invalid IPv4 address "fd00::100" \(this is IPv6/,
    );
    expect(() => assertAddressAllowed(homelab, "", http)).toThrow(/^refusing HTTP GET: invalid IPv4 address ""/);
  });
});
