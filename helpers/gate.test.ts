import type * as k8s from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { evaluateGate, GateInputError, parseVerdictDocument, reservationFor, type GateInput } from "./gate.ts";
import { loadProfile, validateProfile } from "./profile.ts";
import type { ProfileData } from "./profile-schema.ts";
import { toJson } from "./report-formats.ts";
import { buildVerdict, STORY_CRITERIA, type CheckResult, type Verdict } from "./verdict.ts";

const homelab = loadProfile("fixtures/profiles/homelab.yaml");
const NOW = new Date("2026-11-24T12:00:00Z");
const RESERVED = "192.168.2.100";

function service(
  namespace: string,
  name: string,
  o: { type?: string; ingress?: string; loadBalancerIP?: string; annotations?: Record<string, string> } = {},
): k8s.V1Service {
  return {
    metadata: { namespace, name, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: { type: o.type ?? "LoadBalancer", ...(o.loadBalancerIP ? { loadBalancerIP: o.loadBalancerIP } : {}) },
    status: { loadBalancer: o.ingress ? { ingress: [{ ip: o.ingress }] } : {} },
  };
}

function verdict(o: { startedAt?: Date; profile?: string; checks?: Record<string, readonly CheckResult[]> } = {}): Verdict {
  const passed: CheckResult[] = [{ name: "works", status: "passed", durationMs: 1 }];
  return buildVerdict({
    target: "kubeconfig",
    profile: o.profile ?? homelab.name,
    runId: "r123abc",
    startedAt: o.startedAt ?? new Date(NOW.getTime() - 3_600_000),
    criteria: STORY_CRITERIA.map((c) => ({ ...c, checks: o.checks?.[c.id] ?? passed })),
  });
}

function gate(services: k8s.V1Service[], overrides: Partial<GateInput> = {}) {
  return evaluateGate({
    profile: homelab,
    services,
    verdict: verdict(),
    verdictSource: "reports/verdict.json",
    now: NOW,
    maxAgeHours: 26,
    ...overrides,
  });
}

const traefik = (o: Parameters<typeof service>[2]) => service("kube-system", "traefik", o);
const EXPECTED = "expected free or kube-system/traefik";

describe("the Traefik gate: the reserved address", () => {
  it("opens while nothing holds or asks for it", () => {
    const result = gate([service("default", "other", { ingress: "192.168.2.101" })]);
    expect(result.reasons).toEqual([]);
    expect(result.open).toBe(true);
    expect(result.checks.find((c) => c.name.startsWith(RESERVED))?.detail).toBe("free");
  });

  it("opens while Traefik's own Service holds it", () => {
    const result = gate([traefik({ ingress: RESERVED, annotations: { "metallb.io/loadBalancerIPs": RESERVED } })]);
    expect(result.reasons).toEqual([]);
    expect(result.checks.find((c) => c.name.startsWith(RESERVED))?.detail).toBe("held by Service kube-system/traefik");
  });

  it("closes while another Service holds it, naming that Service", () => {
    const result = gate([traefik({}), service("default", "squatter", { ingress: RESERVED })]);
    expect(result.open).toBe(false);
    expect(result.reasons).toEqual([
      `gate: ${RESERVED} (reserved for traefik) is held by Service default/squatter (status.loadBalancer.ingress), ${EXPECTED}`,
    ]);
  });

  it.each(["metallb.universe.tf/loadBalancerIPs", "metallb.io/loadBalancerIPs"])(
    "closes while another Service asks for it with the annotation %s",
    (key) => {
      const result = gate([service("apps", "squatter", { annotations: { [key]: `192.168.2.105, ${RESERVED}` } })]);
      expect(result.reasons).toEqual([
        `gate: ${RESERVED} (reserved for traefik) is requested by Service apps/squatter (annotation ${key}), ${EXPECTED}`,
      ]);
    },
  );

  it("closes while another Service asks for it with spec.loadBalancerIP", () => {
    const result = gate([service("apps", "old-style", { loadBalancerIP: RESERVED })]);
    expect(result.reasons).toEqual([
      `gate: ${RESERVED} (reserved for traefik) is requested by Service apps/old-style (spec.loadBalancerIP), ${EXPECTED}`,
    ]);
  });

  it("ignores Services that are not of type LoadBalancer", () => {
    const result = gate([service("apps", "cluster-ip", { type: "ClusterIP", loadBalancerIP: RESERVED })]);
    expect(result.open).toBe(true);
  });

  it("names every other Service, even beside Traefik's", () => {
    const result = gate([
      traefik({ ingress: RESERVED }),
      service("a", "one", { loadBalancerIP: RESERVED }),
      service("b", "two", { annotations: { "metallb.universe.tf/loadBalancerIPs": RESERVED } }),
    ]);
    expect(result.reasons).toHaveLength(2);
    expect(result.reasons[0]).toMatch(/Service a\/one /);
    expect(result.reasons[1]).toMatch(/Service b\/two /);
  });

  it("refuses a profile without a reservation for traefik as bad input", () => {
    const data = structuredClone(homelab) as ProfileData;
    data.pool.reserved = [];
    const bare = validateProfile(data, "bare");
    expect(() => reservationFor(bare)).toThrow(GateInputError);
    expect(() => reservationFor(bare)).toThrow(/pool\.reserved has no entry with purpose traefik/);
  });
});

describe("the Traefik gate: the conformance verdict", () => {
  it.each([
    ["failed", { AC3: [{ name: "ARP reply", status: "failed", message: "no reply from 192.168.2.101", durationMs: 1 }] }],
    ["blocked", { AC4: [{ name: "HTTP", status: "blocked", message: "blocked by AC3: no pool", durationMs: 1 }] }],
    ["skipped", { AC3: [{ name: "ARP reply", status: "skipped", message: "not verifiable here", durationMs: 1 }] }],
  ] as const)("closes on a %s verdict, naming the criterion and its cause", (status, checks) => {
    const result = gate([], { verdict: verdict({ checks }) });
    expect(result.open).toBe(false);
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0]).toMatch(new RegExp(`^gate: conformance verdict is ${status} \\(AC[34]: .+\\), expected passed$`));
  });

  it("names the failed check of a failed verdict", () => {
    const checks = { AC3: [{ name: "ARP reply", status: "failed" as const, message: "no reply", durationMs: 1 }] };
    expect(gate([], { verdict: verdict({ checks }) }).reasons).toEqual([
      "gate: conformance verdict is failed (AC3: ARP reply: no reply), expected passed",
    ]);
  });

  it("does not trust a summary status that its criteria contradict", () => {
    const forged = {
      ...verdict({ checks: { AC2: [{ name: "pool", status: "failed", durationMs: 1 }] } }),
      status: "passed" as const,
    };
    expect(gate([], { verdict: forged }).reasons[0]).toMatch(/^gate: conformance verdict is failed \(AC2: pool: failed\)/);
  });

  it("closes when a story criterion is missing from the verdict", () => {
    const partial = { ...verdict(), criteria: verdict().criteria.filter((c) => c.id !== "AC4") };
    expect(gate([], { verdict: partial }).reasons).toEqual([
      "gate: conformance verdict is failed (AC4: missing from the verdict), expected passed",
    ]);
  });

  it("closes when there is no verdict", () => {
    expect(gate([], { verdict: undefined }).reasons).toEqual([
      "gate: no conformance verdict at reports/verdict.json, expected a MetalLB conformance run within the last 26h",
    ]);
  });

  it("closes when the verdict is older than the limit", () => {
    const old = verdict({ startedAt: new Date("2026-11-23T09:00:00Z") });
    expect(gate([], { verdict: old }).reasons).toEqual([
      "gate: verdict is from 2026-11-23T09:00:00.000Z, older than 26h (27.0h, run r123abc), expected a newer conformance run",
    ]);
    expect(gate([], { verdict: old, maxAgeHours: 30 }).open).toBe(true);
  });

  it("closes when the verdict is about another profile (an ephemeral run proves nothing about the homelab)", () => {
    expect(gate([], { verdict: verdict({ profile: "homelab-ephemeral" }) }).reasons).toEqual([
      "gate: verdict is for profile homelab-ephemeral (target kubeconfig), expected homelab, the profile the gate checks",
    ]);
  });
});

describe("the Traefik gate: several problems", () => {
  it("lists every reason, one line each", () => {
    const checks = { AC1: [{ name: "speaker", status: "failed" as const, message: "none on k3s-worker-02", durationMs: 1 }] };
    const result = gate([service("default", "squatter", { ingress: RESERVED })], {
      verdict: verdict({ checks, startedAt: new Date("2026-11-01T00:00:00Z") }),
    });
    expect(result.open).toBe(false);
    expect(result.reasons).toEqual([
      expect.stringMatching(/^gate: conformance verdict is failed \(AC1: speaker: none on k3s-worker-02\)/),
      expect.stringMatching(/^gate: verdict is from 2026-11-01T00:00:00.000Z, older than 26h/),
      expect.stringMatching(/^gate: 192\.168\.2\.100 \(reserved for traefik\) is held by Service default\/squatter/),
    ]);
  });
});

describe("parseVerdictDocument", () => {
  it("reads what toJson writes (null messages included)", () => {
    const written = verdict({ checks: { AC3: [{ name: "ARP", status: "skipped", message: "not here", durationMs: 2 }] } });
    const read = parseVerdictDocument(JSON.parse(toJson(written)), "verdict.json");
    expect(read.status).toBe("skipped");
    expect(read.criteria.find((c) => c.id === "AC3")?.checks[0]?.message).toBe("not here");
    expect(read.criteria.find((c) => c.id === "AC1")?.message).toBeUndefined();
  });

  it("names the malformed field", () => {
    const data = JSON.parse(toJson(verdict())) as { criteria: { status: string }[]; startedAt: string };
    data.criteria[1]!.status = "green";
    data.startedAt = "yesterday";
    expect(() => parseVerdictDocument(data, "reports/verdict.json")).toThrow(
      /^verdict reports\/verdict.json: startedAt: expected an ISO 8601 time, got "yesterday"; criteria\[1\]\.status: expected one of passed, failed, blocked, skipped, got "green"$/,
    );
  });

  it("refuses something that is not a verdict", () => {
    expect(() => parseVerdictDocument([], "x.json")).toThrow(
      /^verdict x.json: \(top level\): expected a verdict object, got \[\]$/,
    );
  });
});
