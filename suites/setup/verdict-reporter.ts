// Turns the suites' results into the run's verdict: one criterion per AC file (its top-level
// describe starts with "AC<n>:"), one check per test; writes junit.xml, verdict.json and
// summary.md, and prints the verdict table.
import type { Reporter, TestCase, TestModule } from "vitest/node";
import { buildVerdict, toConsoleTable, writeReports, type CheckResult, type CriterionInput } from "../../helpers/report.ts";
import { runState } from "../../helpers/run-context.ts";

const CRITERION = /^((?:AC\d+)|(?:[A-Z][A-Za-z0-9-]*)):\s*(.*)$/;

export default class VerdictReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void | Promise<void> {
    const state = runState();
    const criteria: CriterionInput[] = [];
    for (const module of modules) {
      for (const suite of module.children.suites()) {
        const m = CRITERION.exec(suite.name);
        if (!m) continue;
        const checks: CheckResult[] = [];
        for (const test of suite.children.allTests()) {
          const result = test.result();
          const durationMs = Math.round(test.diagnostic()?.duration ?? 0);
          const annotations = test.annotations().map((a) => a.message);
          const notes = annotations.length > 0 ? { notes: annotations } : {};
          if (result.state === "failed") {
            const message = result.errors.map((e) => e.message).join("; ");
            const status = /^blocked by /.test(message) ? "blocked" : "failed";
            checks.push({ name: test.name, status, message, durationMs, ...notes });
          } else if (result.state === "skipped") {
            checks.push({ name: test.name, status: "skipped", message: result.note ?? "skipped", durationMs, ...notes });
          } else if (result.state === "passed") {
            checks.push({ name: test.name, status: "passed", durationMs, ...notes });
          }
        }
        criteria.push({ id: m[1]!, title: m[2]!, checks });
      }
    }
    if (criteria.length === 0) return; // a run without AC suites (unit tests only)
    const context = state.context;
    const verdict = buildVerdict({
      target: context?.target ?? "unknown",
      profile: context?.profile.name ?? "unknown",
      runId: context?.runId ?? "unknown",
      startedAt: state.startedAt,
      criteria,
      phases: state.phases,
    });
    if (verdict.status !== "passed") state.failed = true;
    process.stdout.write(`\n${toConsoleTable(verdict)}\n`);
    return writeReports(verdict, state.reportsDir, process.env).then((w) => {
      process.stdout.write(`reports: ${w.junit}, ${w.json}, ${w.markdown}\n`);
    });
  }

  /** Any failure means a diagnostics bundle at teardown (which runs before onTestRunEnd). */
  onTestCaseResult(test: TestCase): void {
    if (test.result().state === "failed") runState().failed = true;
  }
}
