// Renders a Verdict as JUnit XML (CI), JSON (machines), Markdown ($GITHUB_STEP_SUMMARY) and a
// plain-text table (console).
import type { CheckResult, CheckStatus, CriterionResult, CriterionStatus, Verdict } from "./verdict.ts";

/** The pseudo-check shown for a criterion that ran none, so no format shows it as empty-and-green. */
const NO_CHECKS = "(no checks ran)";

function checksOrPlaceholder(criterion: CriterionResult): readonly CheckResult[] {
  if (criterion.checks.length > 0) return criterion.checks;
  const status: CheckStatus = criterion.status === "blocked" ? "blocked" : "failed";
  const message = criterion.message ? { message: criterion.message } : {};
  return [{ name: NO_CHECKS, status, durationMs: 0, ...message }];
}

const totalMs = (checks: readonly CheckResult[]) => checks.reduce((sum, c) => sum + c.durationMs, 0);

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}

function firstLine(text: string | undefined): string {
  return (text ?? "").split("\n", 1)[0] ?? "";
}

// ---- JUnit XML -------------------------------------------------------------------------------

// Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF).
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** Attribute values also keep their line breaks and tabs (a parser would turn them into spaces). */
function attr(text: string): string {
  return escapeXml(text).replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(/\t/g, "&#9;");
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** The check's message, then what it noted (one per line). */
function messageAndNotes(check: CheckResult): string {
  return [check.message ?? "", ...(check.notes ?? [])].filter((t) => t !== "").join("\n");
}

function junitCase(criterion: CriterionResult, check: CheckResult): string {
  const open =
    `    <testcase classname="${attr(criterion.id)}" name="${attr(check.name)}" ` + `time="${seconds(check.durationMs)}"`;
  const message = check.message ?? "";
  const notes = check.notes?.length ? `\n      <system-out>${escapeXml(check.notes.join("\n"))}</system-out>` : "";
  const close = `${notes}\n    </testcase>`;
  switch (check.status) {
    case "passed":
      return notes ? `${open}>${close}` : `${open}/>`;
    case "failed": {
      const summary = attr(firstLine(message) || "failed");
      return `${open}>\n      <failure type="failed" message="${summary}">${escapeXml(message)}</failure>${close}`;
    }
    case "blocked":
    case "skipped": {
      const reason = attr(message ? `${check.status}: ${message}` : check.status);
      return `${open}>\n      <skipped message="${reason}"/>${close}`;
    }
  }
}

function junitSuite(verdict: Verdict, criterion: CriterionResult): string {
  const checks = checksOrPlaceholder(criterion);
  const count = (...statuses: CheckStatus[]) => checks.filter((c) => statuses.includes(c.status)).length;
  const properties = [
    ["criterion", criterion.id],
    ["status", criterion.status],
    ["target", verdict.target],
    ["profile", verdict.profile],
    ["runId", verdict.runId],
  ]
    .map(([name = "", value = ""]) => `      <property name="${attr(name)}" value="${attr(value)}"/>`)
    .join("\n");
  return [
    `  <testsuite name="${attr(`${criterion.id}: ${criterion.title}`)}" id="${attr(criterion.id)}" ` +
      `tests="${checks.length}" failures="${count("failed")}" errors="0" skipped="${count("blocked", "skipped")}" ` +
      `time="${seconds(totalMs(checks))}" timestamp="${attr(verdict.startedAt)}">`,
    `    <properties>\n${properties}\n    </properties>`,
    ...checks.map((check) => junitCase(criterion, check)),
    "  </testsuite>",
  ].join("\n");
}

export function toJUnitXml(verdict: Verdict): string {
  const all = verdict.criteria.flatMap(checksOrPlaceholder);
  const count = (...statuses: CheckStatus[]) => all.filter((c) => statuses.includes(c.status)).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="metallb-conformance" tests="${all.length}" failures="${count("failed")}" errors="0" ` +
      `skipped="${count("blocked", "skipped")}" time="${seconds(totalMs(all))}" ` +
      `timestamp="${attr(verdict.startedAt)}">`,
    ...verdict.criteria.map((criterion) => junitSuite(verdict, criterion)),
    "</testsuites>",
    "",
  ].join("\n");
}

// ---- JSON ------------------------------------------------------------------------------------

export function toJson(verdict: Verdict): string {
  const document = {
    target: verdict.target,
    profile: verdict.profile,
    runId: verdict.runId,
    startedAt: verdict.startedAt,
    status: verdict.status,
    criteria: verdict.criteria.map((c) => ({
      id: c.id,
      title: c.title,
      status: c.status,
      message: c.message ?? null,
      checks: c.checks.map((k) => ({
        name: k.name,
        status: k.status,
        message: k.message ?? null,
        durationMs: k.durationMs,
        notes: k.notes ?? [],
      })),
    })),
    phases: verdict.phases.map((p) => ({ name: p.name, durationMs: p.durationMs })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

// ---- Markdown --------------------------------------------------------------------------------

const ICON: Record<CriterionStatus, string> = {
  passed: "✅",
  failed: "❌",
  blocked: "⛔",
  skipped: "⏭️",
};

/** Table cells: no raw HTML, no column breaks, line breaks kept as <br>. */
function cell(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");
}

const row = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
const statusCell = (status: CriterionStatus) => `${ICON[status]} ${status}`;

export function toMarkdown(verdict: Verdict): string {
  const { target, profile, runId, startedAt } = verdict;
  const lines = [
    `## ${ICON[verdict.status]} MetalLB conformance: ${verdict.status}`,
    "",
    `target \`${target}\` · profile \`${profile}\` · run \`${runId}\` · started ${startedAt}`,
    "",
    row(["criterion", "status", "checks"]),
    row(["---", "---", "---"]),
    ...verdict.criteria.map((c) => {
      const passed = c.checks.filter((k) => k.status === "passed").length;
      return row([cell(`${c.id}: ${c.title}`), statusCell(c.status), `${passed}/${c.checks.length} passed`]);
    }),
  ];
  for (const criterion of verdict.criteria) {
    const name = cell(`${criterion.id}: ${criterion.title}`);
    lines.push("", `### ${ICON[criterion.status]} ${name} — ${criterion.status}`, "");
    lines.push(row(["check", "status", "time", "message"]), row(["---", "---", "---", "---"]));
    for (const check of checksOrPlaceholder(criterion)) {
      const time = formatDuration(check.durationMs);
      lines.push(row([cell(check.name), statusCell(check.status), time, cell(messageAndNotes(check))]));
    }
  }
  if (verdict.phases.length > 0) {
    const phases = verdict.phases.map((p) => `${cell(p.name)} ${formatDuration(p.durationMs)}`);
    lines.push("", `Phases: ${phases.join(" · ")}`);
  }
  return `${lines.join("\n")}\n`;
}

// ---- Console ---------------------------------------------------------------------------------

/** Pads every column but the last; a row's last cell never widens its column. */
function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((text, i) => (widths[i] = Math.max(widths[i] ?? 0, text.length)));
  }
  return rows.map((row) =>
    row
      .map((text, i) => (i === row.length - 1 ? text : text.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

export function toConsoleTable(verdict: Verdict): string {
  const rows: string[][] = [["", "STATUS", "TIME", "CHECK", "MESSAGE"]];
  for (const criterion of verdict.criteria) {
    rows.push([criterion.id, criterion.status.toUpperCase(), "", criterion.title]);
    for (const check of checksOrPlaceholder(criterion)) {
      const message = messageAndNotes(check).replace(/\s*\n\s*/g, " | ");
      rows.push(["", check.status, formatDuration(check.durationMs), check.name, message]);
    }
  }
  const { target, profile, runId } = verdict;
  const status = verdict.status.toUpperCase();
  const header = `MetalLB conformance: ${status} (target ${target}, profile ${profile}, run ${runId})`;
  const phases = verdict.phases.map((p) => `${p.name} ${formatDuration(p.durationMs)}`).join(", ");
  return [header, ...alignColumns(rows), ...(phases ? [`phases: ${phases}`] : [])].join("\n") + "\n";
}
