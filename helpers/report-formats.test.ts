import { describe, expect, it } from "vitest";
import { escapeXml, formatDuration, toConsoleTable, toJUnitXml, toJson, toMarkdown } from "./report-formats.ts";
import { type Verdict, buildVerdict } from "./verdict.ts";

const TRICKY = `expected <21> & got "20" 'pools' | a|b\nsecond line\u0007`;

function sampleVerdict(): Verdict {
  return buildVerdict({
    target: "k3s",
    profile: "homelab-ephemeral",
    runId: "r1a2b3c",
    startedAt: "2025-01-02T03:04:05.000Z",
    criteria: [
      {
        id: "AC1",
        title: "MetalLB is deployed by Helm",
        checks: [
          { name: "release at chart 0.15.3", status: "passed", durationMs: 1234 },
          { name: "speaker on every node", status: "passed", durationMs: 80, notes: ["3 speakers, <one> per node"] },
        ],
      },
      {
        id: "AC2",
        title: "the IPAddressPool is configured",
        checks: [{ name: "address count <21>", status: "failed", message: TRICKY, durationMs: 61_500 }],
      },
      {
        id: "AC3",
        title: "L2Advertisement announces the pool over ARP",
        checks: [{ name: "arp reply", status: "skipped", durationMs: 0 }],
      },
    ],
    phases: [
      { name: "cluster", durationMs: 45_000 },
      { name: "install", durationMs: 30_100 },
    ],
    // No blocking here: these tests are about rendering each status (blocked has its own test).
    order: [],
  });
}

/** A small well-formedness check: balanced tags, quoted attributes, no stray `<`, `>` or `&`. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\n/, "");
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/g;
  const stack: string[] = [];
  let last = 0;
  for (const match of body.matchAll(tag)) {
    const text = body.slice(last, match.index);
    if (/[<>]|&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`bad text before ${match[0]}: ${text}`);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(match[3] ?? "")) throw new Error(`bad attribute in ${match[0]}`);
    const [, closing, name = "", , selfClosing] = match;
    if (closing) {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
    } else if (!selfClosing) stack.push(name);
    last = (match.index ?? 0) + match[0].length;
  }
  if (body.slice(last).trim() !== "" || stack.length > 0) throw new Error(`unclosed: ${stack.join(",")}`);
}

describe("formatDuration", () => {
  it.each([
    [0, "0ms"],
    [999, "999ms"],
    [1234, "1.2s"],
    [61_500, "1m02s"],
    [3_600_000, "60m00s"],
  ])("%d -> %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("toJUnitXml", () => {
  const xml = toJUnitXml(sampleVerdict());

  it("is well-formed, with special characters escaped", () => {
    assertWellFormedXml(xml);
    expect(xml).toContain("expected &lt;21&gt; &amp; got &quot;20&quot; &apos;pools&apos;");
    expect(xml).not.toContain("\u0007");
    expect(() => assertWellFormedXml("<a><b></a>")).toThrow();
    expect(() => assertWellFormedXml("<a>x & y</a>")).toThrow();
  });

  it("has a testsuite per criterion with counts, and a testcase per check", () => {
    expect(xml.match(/<testsuite /g)).toHaveLength(4);
    expect(xml).toContain('<testsuites name="metallb-conformance" tests="5" failures="2" errors="0" skipped="1"');
    expect(xml).toMatch(
      /<testsuite name="AC1: MetalLB is deployed by Helm" id="AC1" tests="2" failures="0" errors="0" skipped="0" time="1.314"/,
    );
    expect(xml).toContain('<testcase classname="AC1" name="release at chart 0.15.3" time="1.234"/>');
  });

  it("reports failures with the first line as message and the full text as body", () => {
    expect(xml).toContain(
      '<failure type="failed" message="expected &lt;21&gt; &amp; got &quot;20&quot; &apos;pools&apos; | a|b">expected &lt;21&gt;',
    );
    expect(xml).toContain("\nsecond line\uFFFD</failure>");
  });

  it("reports skipped checks as skipped and a criterion without checks as a failed pseudo-check", () => {
    expect(xml).toMatch(/name="arp reply" time="0.000">\n\s*<skipped message="skipped"\/>/);
    expect(xml).toMatch(
      /<testsuite name="AC4: [^"]*" id="AC4" tests="1" failures="1"[\s\S]*?name="\(no checks ran\)"[\s\S]*?<failure type="failed" message="ran no checks/,
    );
  });

  it("reports blocked checks as skipped with their reason", () => {
    const blocked = buildVerdict({
      target: "k3s",
      profile: "p",
      runId: "r",
      startedAt: "2025-01-01T00:00:00.000Z",
      criteria: [
        { id: "AC1", title: "t", checks: [{ name: "release", status: "failed", message: "not installed", durationMs: 1 }] },
        { id: "AC2", title: "t", checks: [{ name: "pool", status: "failed", message: "missing", durationMs: 1 }] },
      ],
    });
    const out = toJUnitXml(blocked);
    assertWellFormedXml(out);
    expect(out).toContain('<skipped message="blocked: blocked by AC1: release: not installed; own failure: missing"/>');
  });

  it("keeps line breaks in attributes as character references", () => {
    const verdict = buildVerdict({
      target: "k3s",
      profile: "p",
      runId: "r",
      startedAt: "2025-01-01T00:00:00.000Z",
      expected: [],
      criteria: [
        { id: "x", title: "t", checks: [{ name: "n", status: "skipped", message: "no probe host\n\tsee docs", durationMs: 1 }] },
      ],
    });
    const out = toJUnitXml(verdict);
    assertWellFormedXml(out);
    expect(out).toContain('<skipped message="skipped: no probe host&#10;&#9;see docs"/>');
    expect(escapeXml("a\nb")).toBe("a\nb");
  });
});

describe("toJson", () => {
  it("has exactly the documented shape", () => {
    const parsed = JSON.parse(toJson(sampleVerdict()));
    expect(parsed).toMatchObject({
      target: "k3s",
      profile: "homelab-ephemeral",
      phases: [
        { name: "cluster", durationMs: 45_000 },
        { name: "install", durationMs: 30_100 },
      ],
    });
    expect(parsed.criteria.map((c: { id: string; status: string }) => `${c.id}=${c.status}`)).toEqual([
      "AC1=passed",
      "AC2=failed",
      "AC3=skipped",
      "AC4=failed",
    ]);
    expect(parsed.criteria[0].checks[0]).toEqual({
      name: "release at chart 0.15.3",
      status: "passed",
      message: null,
      durationMs: 1234,
      notes: [],
    });
    expect(parsed.criteria[0].checks[1].notes).toEqual(["3 speakers, <one> per node"]);
    expect(parsed.criteria[1].checks[0].message).toBe(TRICKY);
    expect(parsed.criteria[3].checks).toEqual([]);
  });
});

describe("toMarkdown", () => {
  const md = toMarkdown(sampleVerdict());

  it("starts with the overall verdict and a criterion overview", () => {
    expect(md.split("\n")[0]).toBe("## ❌ MetalLB conformance: failed");
    expect(md).toContain("| AC1: MetalLB is deployed by Helm | ✅ passed | 2/2 passed |");
    expect(md).toContain("| AC4: a LoadBalancer Service gets an IP from the pool and serves HTTP | ❌ failed | 0/0 passed |");
  });

  it("has one table per criterion, with cells that cannot break the table or inject HTML", () => {
    expect(md.match(/^### /gm)).toHaveLength(4);
    expect(md).toContain(
      "| address count &lt;21&gt; | ❌ failed | 1m02s | expected &lt;21&gt; &amp; got \"20\" 'pools' \\| a\\|b<br>second line\u0007 |",
    );
    for (const row of md.split("\n").filter((l) => l.startsWith("| "))) {
      expect(row.replace(/\\\|/g, "").split("|").length, row).toBeGreaterThanOrEqual(4);
    }
    expect(md).toContain("| (no checks ran) | ❌ failed | 0ms | ran no checks");
    expect(md.trimEnd().split("\n").at(-1)).toBe("Phases: cluster 45.0s · install 30.1s");
  });
});

describe("a check's notes (its test's annotations)", () => {
  it("appear in every format", () => {
    const v = sampleVerdict();
    expect(toJUnitXml(v)).toContain("<system-out>3 speakers, &lt;one&gt; per node</system-out>");
    expect(toMarkdown(v)).toContain("3 speakers, &lt;one&gt; per node");
    expect(toConsoleTable(v)).toContain("3 speakers, <one> per node");
  });
});

describe("toConsoleTable", () => {
  it("lists every criterion and check in aligned columns on single lines", () => {
    const lines = toConsoleTable(sampleVerdict()).trimEnd().split("\n");
    expect(lines[0]).toBe("MetalLB conformance: FAILED (target k3s, profile homelab-ephemeral, run r1a2b3c)");
    expect(lines[1]).toMatch(/^\s+STATUS\s+TIME\s+CHECK\s+MESSAGE$/);
    expect(lines).toContainEqual(expect.stringMatching(/^AC1\s+PASSED\s+MetalLB is deployed by Helm$/));
    expect(lines).toContainEqual(expect.stringMatching(/^AC4\s+FAILED\s+a LoadBalancer Service/));
    const failed = lines.find((l) => l.includes("address count"));
    expect(failed).toMatch(/^\s+failed\s+1m02s\s+address count <21>\s+expected <21> .* \| second line/);
    const checkRows = lines.filter((l) => /^\s+(passed|failed|skipped)\s/.test(l));
    expect(checkRows).toHaveLength(5);
    const nameColumn = new Set(checkRows.map((l) => l.search(/(release|speaker|address|arp|\(no checks)/)));
    expect(nameColumn.size).toBe(1);
    expect(lines.at(-1)).toBe("phases: cluster 45.0s, install 30.1s");
    expect(lines.every((l) => !/\x1b\[/.test(l))).toBe(true);
  });
});
