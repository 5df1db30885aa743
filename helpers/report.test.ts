import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Verdict, buildVerdict, writeReports } from "./report.ts";

const SECRET = "FAKE-BEARER-8888";

function verdict(): Verdict {
  return buildVerdict({
    target: "kubeconfig",
    profile: "homelab",
    runId: "r9",
    startedAt: "2025-01-01T00:00:00.000Z",
    criteria: [
      { id: "AC1", title: "deployed", checks: [{ name: "release", status: "passed", durationMs: 3 }] },
      { id: "AC2", title: "pool", checks: [{ name: "listed", status: "failed", message: "pool missing", durationMs: 4 }] },
    ],
    expected: [],
  });
}

describe("writeReports", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "report-test-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes junit.xml, verdict.json and summary.md into a new directory", async () => {
    const out = join(dir, "nested", "reports");
    const written = await writeReports(verdict(), out, {});
    expect(written).toEqual({
      junit: join(out, "junit.xml"),
      json: join(out, "verdict.json"),
      markdown: join(out, "summary.md"),
    });
    expect(await readFile(written.junit, "utf8")).toMatch(/^<\?xml[\s\S]*<failure type="failed" message="pool missing">/);
    expect(JSON.parse(await readFile(written.json, "utf8"))).toMatchObject({
      target: "kubeconfig",
      criteria: [{ id: "AC1" }, { id: "AC2", status: "failed" }],
    });
    expect(await readFile(written.markdown, "utf8")).toMatch(/^## ❌ MetalLB conformance: failed/);
  });

  it("appends the summary to $GITHUB_STEP_SUMMARY, keeping what was there", async () => {
    const summary = join(dir, "step-summary.md");
    await writeFile(summary, "earlier step\n");
    const written = await writeReports(verdict(), join(dir, "r"), { GITHUB_STEP_SUMMARY: summary });
    expect(written.stepSummary).toBe(summary);
    const text = await readFile(summary, "utf8");
    expect(text.startsWith("earlier step\n## ❌ MetalLB conformance: failed")).toBe(true);
    expect(text).toContain(await readFile(written.markdown, "utf8"));
  });

  it("keeps credentials out of every file, even from a verdict built by hand", async () => {
    const base = verdict();
    const leaky: Verdict = {
      ...base,
      criteria: base.criteria.map((c) => ({
        ...c,
        checks: c.checks.map((k) => ({ ...k, message: `request with Authorization: Bearer ${SECRET}\ntoken: ${SECRET}` })),
      })),
    };
    const summary = join(dir, "step-summary.md");
    const written = await writeReports(leaky, join(dir, "r"), { GITHUB_STEP_SUMMARY: summary });
    for (const path of [written.junit, written.json, written.markdown, summary]) {
      expect(await readFile(path, "utf8"), path).not.toContain(SECRET);
    }
    expect(JSON.parse(await readFile(written.json, "utf8")).criteria[0].checks[0].message).toBe(
      "request with Authorization: [REDACTED]\ntoken: [REDACTED]",
    );
  });
});
