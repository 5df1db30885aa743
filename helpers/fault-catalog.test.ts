import { describe, expect, it } from "vitest";
import { faultProfile, judge, loadFaults, parseFault, resolvePlaceholders, type Fault } from "./fault-catalog.ts";
import { deriveEphemeralProfile, loadProfile } from "./profile.ts";
import type { CriterionResult, Verdict } from "./verdict.ts";

const profile = deriveEphemeralProfile(loadProfile("fixtures/profiles/homelab.yaml"), "172.28.5.0/24");

function verdict(statuses: Record<string, [CriterionResult["status"], string?]>): Verdict {
  return {
    target: "kubeconfig",
    profile: profile.name,
    runId: "r1",
    startedAt: new Date(0).toISOString(),
    status: "failed",
    phases: [],
    criteria: Object.entries(statuses).map(([id, [status, message]]) => ({
      id,
      title: id,
      status,
      checks: [{ name: "a check", status: status === "passed" ? "passed" : status, message, durationMs: 1 }],
    })),
  };
}

const fault = (expect: Partial<Fault["expect"]>): Fault =>
  parseFault(
    JSON.stringify({
      name: "f",
      description: "d",
      break: [{ delete: { kind: "L2Advertisement", name: "x" } }],
      expect: { criterion: "AC3", words: ["no L2Advertisement"], ...expect },
    }),
    "test",
  );

describe("the fault catalog", () => {
  it("parses every fault in fixtures/faults", () => {
    const faults = loadFaults();
    expect(faults.length).toBeGreaterThanOrEqual(11);
    expect(new Set(faults.map((f) => f.expect.criterion))).toEqual(new Set(["AC1", "AC2", "AC3", "AC4"]));
  });

  it("names the file and the field of a malformed fault", () => {
    expect(() =>
      parseFault(
        "name: x\ndescription: d\nbreak: [{ delete: { kind: Pod, name: p } }]\nexpect: { criterion: AC9, words: [a] }",
        "bad.yaml",
      ),
    ).toThrow(/bad\.yaml: break\[0\].*expect\.criterion/s);
    expect(() => parseFault("name: x\ndescription: d\nexpect: { criterion: AC1, words: [a] }", "empty.yaml")).toThrow(
      /empty\.yaml: break: expected at least one step/,
    );
    expect(
      parseFault("name: x\ndescription: d\nprofile: { backend.image: i }\nexpect: { criterion: AC4, words: [a] }", "p.yaml")
        .profile,
    ).toEqual({ "backend.image": "i" });
  });

  it("refuses a fault name that is not in the catalog", () => {
    expect(() => loadFaults(undefined, ["no-such-fault"])).toThrow(/unknown fault\(s\) no-such-fault; known: /);
  });

  it("resolves names and host offsets in the cluster's subnet", () => {
    expect(resolvePlaceholders({ a: ["@100-@110", "{pool} in {release}", "x@y"] }, profile)).toEqual({
      a: ["172.28.5.100-172.28.5.110", "homelab-pool in metallb", "x@y"],
    });
  });

  it("applies profile overrides by dotted path, and refuses an unknown path", () => {
    const f = { ...fault({}), profile: { "pool.addresses": ["@100-@110"], "pool.addressCount": 11 } };
    expect(faultProfile(profile, f).pool.addresses).toEqual(["172.28.5.100-172.28.5.110"]);
    expect(() => faultProfile(profile, { ...f, profile: { "pool.nope.x": 1 } })).toThrow(/pool\.nope\.x does not exist/);
  });
});

describe("judging a run against a fault", () => {
  const ac3 = fault({});

  it("passes when the expected criterion fails first, naming the cause, and later ones are not failed", () => {
    const v = verdict({
      AC1: ["passed"],
      AC2: ["passed"],
      AC3: ["failed", "AC3: no L2Advertisement in ns selects p"],
      AC4: ["blocked"],
    });
    expect(judge(ac3, v)).toMatchObject({ observed: "AC3", ok: true });
  });

  it("fails a fault that went unnoticed", () => {
    const v = verdict({ AC1: ["passed"], AC2: ["passed"], AC3: ["passed"], AC4: ["passed"] });
    expect(judge(ac3, v)).toMatchObject({ observed: "none", ok: false });
  });

  it("fails a fault attributed to the wrong criterion", () => {
    const v = verdict({ AC1: ["passed"], AC2: ["failed", "AC2: x"], AC3: ["blocked"], AC4: ["blocked"] });
    expect(judge(ac3, v)).toMatchObject({ observed: "AC2", ok: false, why: "AC2 failed first, expected AC3" });
  });

  it("fails when the message does not name the cause", () => {
    const v = verdict({ AC1: ["passed"], AC2: ["passed"], AC3: ["failed", "AC3: something else"], AC4: ["blocked"] });
    expect(judge(ac3, v).why).toBe(`AC3's failure does not say "no L2Advertisement"`);
  });

  it("fails a later criterion failing on its own, or not blocked when the fault demands it", () => {
    const v = verdict({ AC1: ["passed"], AC2: ["passed"], AC3: ["failed", "no L2Advertisement"], AC4: ["failed", "AC4: x"] });
    expect(judge(ac3, v).why).toBe("later criteria AC4 failed, expected passed, skipped or blocked");
    const passedLater = verdict({ AC1: ["passed"], AC2: ["passed"], AC3: ["failed", "no L2Advertisement"], AC4: ["passed"] });
    expect(judge(fault({ later: "blocked" }), passedLater).why).toBe("later criteria AC4 passed, expected blocked");
  });

  describe("at the expected step", () => {
    const ac4 = fault({ criterion: "AC4", words: ["no ready endpoints"], checks: { passed: ["external IP"], failed: ["GET"] } });
    const withChecks = (checks: [string, "passed" | "failed", string?][]): Verdict => {
      const v = verdict({ AC1: ["passed"], AC2: ["passed"], AC3: ["passed"], AC4: ["failed"] });
      const ac4Result = {
        id: "AC4",
        title: "AC4",
        status: "failed" as const,
        checks: checks.map(([name, status, message]) => ({ name, status, message, durationMs: 1 })),
      };
      return { ...v, criteria: [...v.criteria.slice(0, 3), ac4Result] };
    };

    it("passes when the named checks passed and failed as expected", () => {
      const v = withChecks([
        ["gets an external IP", "passed"],
        ["answers GET /", "failed", "AC4: no answer; no ready endpoints: pod x"],
      ]);
      expect(judge(ac4, v)).toMatchObject({ observed: "AC4", ok: true });
    });

    it("fails the right criterion at the wrong step, saying which", () => {
      const v = withChecks([
        ["gets an external IP", "failed", "AC4: no IP; no ready endpoints"],
        ["answers GET /", "failed", "AC4: no ready endpoints"],
      ]);
      expect(judge(ac4, v)).toMatchObject({
        ok: false,
        why: 'AC4 failed at the wrong step: "external IP" failed, expected passed',
      });
      const missing = withChecks([["answers GET /", "failed", "no ready endpoints"]]);
      expect(judge(ac4, missing).why).toBe('AC4 failed at the wrong step: "external IP" did not run, expected passed');
    });
  });
});
