import { describe, expect, it } from "vitest";
import {
  type CheckResult,
  type CheckStatus,
  type CriterionInput,
  NO_CHECKS_MESSAGE,
  applyBlocking,
  buildVerdict,
  criterionResult,
  criterionStatus,
  failureReason,
  overallStatus,
} from "./verdict.ts";

const check = (name: string, status: CheckStatus, message?: string): CheckResult => ({
  name,
  status,
  durationMs: 10,
  ...(message === undefined ? {} : { message }),
});

const ac = (id: string, ...checks: CheckResult[]): CriterionInput => ({ id, title: `${id} title`, checks });

const ORDER = ["AC1", "AC2", "AC3", "AC4"];

describe("criterionStatus", () => {
  it.each<[string, CheckStatus[], string]>([
    ["all passed", ["passed", "passed"], "passed"],
    ["one failed among blocked and skipped", ["passed", "blocked", "failed", "skipped"], "failed"],
    ["blocked without failures", ["passed", "blocked", "skipped"], "blocked"],
    ["skipped without failures or blocks", ["passed", "skipped"], "skipped"],
    ["no checks at all", [], "failed"],
  ])("%s -> %s", (_, statuses, expected) => {
    expect(criterionStatus(statuses.map((s, i) => check(`c${i}`, s)))).toBe(expected);
  });

  it("says a criterion without checks ran none", () => {
    expect(criterionResult(ac("AC2"))).toMatchObject({ status: "failed", message: NO_CHECKS_MESSAGE });
    expect(criterionResult(ac("AC2", check("a", "passed"))).message).toBeUndefined();
  });
});

describe("overallStatus", () => {
  it("lets the worst status win and fails an empty run", () => {
    expect(overallStatus([{ status: "passed" }, { status: "skipped" }, { status: "blocked" }])).toBe("blocked");
    expect(overallStatus([{ status: "passed" }, { status: "failed" }, { status: "blocked" }])).toBe("failed");
    expect(overallStatus([{ status: "passed" }])).toBe("passed");
    expect(overallStatus([])).toBe("failed");
  });
});

describe("failureReason", () => {
  it("names the first failed check and keeps one line", () => {
    const result = criterionResult(
      ac(
        "AC1",
        check("release", "passed"),
        check("speakers", "failed", "no Ready speaker on k3s-worker-02\nmore"),
        check("crds", "failed", "x"),
      ),
    );
    expect(failureReason(result)).toBe("speakers: no Ready speaker on k3s-worker-02");
  });
  it("falls back to the criterion message and truncates long lines", () => {
    expect(failureReason(criterionResult(ac("AC1")))).toBe(NO_CHECKS_MESSAGE);
    expect(failureReason(criterionResult(ac("AC1", check("x", "failed", "y".repeat(500))))).length).toBe(200);
  });
});

describe("applyBlocking", () => {
  it("blocks the failed, skipped and missing checks of every criterion after the first failure", () => {
    const results = applyBlocking(
      [
        criterionResult(ac("AC1", check("speakers", "failed", "no Ready speaker on k3s-worker-02"))),
        criterionResult(ac("AC2", check("pool listed", "passed"), check("range", "failed", "pool missing"))),
        criterionResult(ac("AC3", check("arp", "skipped"))),
        criterionResult(ac("AC4")),
      ],
      ORDER,
    );
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ["AC1", "failed"],
      ["AC2", "blocked"],
      ["AC3", "blocked"],
      ["AC4", "blocked"],
    ]);
    const reason = "blocked by AC1: speakers: no Ready speaker on k3s-worker-02";
    expect(results[1]?.checks).toEqual([
      check("pool listed", "passed"),
      check("range", "blocked", `${reason}; own failure: pool missing`),
    ]);
    expect(results[2]?.checks[0]?.message).toBe(reason);
    expect(results[3]?.message).toBe(reason);
  });

  it("blames the earliest failure, and leaves earlier criteria alone", () => {
    const results = applyBlocking(
      [
        criterionResult(ac("AC3", check("arp", "failed", "no ARP reply"))),
        criterionResult(ac("AC1", check("release", "passed"))),
        criterionResult(ac("AC4", check("http", "failed", "timeout"))),
        criterionResult(ac("AC2", check("range", "failed", "21 != 20"))),
      ],
      ORDER,
    );
    expect(results.map((r) => `${r.id}=${r.status}`)).toEqual(["AC1=passed", "AC2=failed", "AC3=blocked", "AC4=blocked"]);
    expect(results[3]?.checks[0]?.message).toMatch(/^blocked by AC2: range: 21 != 20; own failure: timeout$/);
  });

  it("blocks beyond-story criteria after a story failure, but they never block each other", () => {
    const results = applyBlocking(
      [
        criterionResult(ac("failover", check("moves", "failed", "ip stuck"))),
        criterionResult(ac("exhaustion", check("pending", "failed", "no event"))),
        criterionResult(ac("AC1", check("release", "passed"))),
      ],
      ORDER,
    );
    expect(results.map((r) => `${r.id}=${r.status}`)).toEqual(["AC1=passed", "failover=failed", "exhaustion=failed"]);
    const blocked = applyBlocking(
      [criterionResult(ac("AC1", check("r", "failed", "down"))), criterionResult(ac("failover", check("m", "failed")))],
      ORDER,
    );
    expect(blocked[1]?.status).toBe("blocked");
  });

  it("changes nothing when nothing failed", () => {
    const input = [criterionResult(ac("AC1", check("a", "passed"))), criterionResult(ac("AC2", check("b", "skipped")))];
    expect(applyBlocking(input, ORDER)).toEqual(input);
  });
});

describe("buildVerdict", () => {
  const base = { target: "k3s", profile: "homelab-ephemeral", runId: "r1a2b3c", startedAt: new Date("2025-01-02T03:04:05Z") };

  it("passes when every story criterion passed", () => {
    const verdict = buildVerdict({
      ...base,
      criteria: ORDER.map((id) => ac(id, check("ok", "passed"))),
      phases: [{ name: "cluster", durationMs: 5 }],
    });
    expect(verdict.status).toBe("passed");
    expect(verdict.startedAt).toBe("2025-01-02T03:04:05.000Z");
    expect(verdict.phases).toEqual([{ name: "cluster", durationMs: 5 }]);
  });

  it("fails a story criterion that never reported", () => {
    const verdict = buildVerdict({ ...base, criteria: ["AC1", "AC2", "AC4"].map((id) => ac(id, check("ok", "passed"))) });
    expect(verdict.status).toBe("failed");
    expect(verdict.criteria.map((c) => c.id)).toEqual(ORDER);
    expect(verdict.criteria[2]).toMatchObject({
      id: "AC3",
      title: "L2Advertisement announces the pool over ARP",
      status: "failed",
      checks: [],
    });
  });

  it("merges checks reported in several pieces under one id", () => {
    const verdict = buildVerdict({
      ...base,
      criteria: [ac("x", check("a", "passed")), ac("x", check("b", "failed"))],
      expected: [],
    });
    expect(verdict.criteria).toHaveLength(1);
    expect(verdict.criteria[0]?.checks.map((c) => c.name)).toEqual(["a", "b"]);
    expect(verdict.status).toBe("failed");
  });

  it("redacts credentials quoted in check messages", () => {
    const verdict = buildVerdict({
      ...base,
      expected: [],
      criteria: [ac("AC1", check("kubeconfig", "failed", "bad config:\n  token: FAKE-SECRET-9999"))],
    });
    expect(JSON.stringify(verdict)).not.toContain("FAKE-SECRET-9999");
  });
});
