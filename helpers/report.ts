// What a run leaves behind: the verdict as junit.xml, verdict.json and summary.md, the summary
// also appended to $GITHUB_STEP_SUMMARY. The model and formats live beside this file.
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { toJUnitXml, toJson, toMarkdown } from "./report-formats.ts";
import { type Verdict, redactVerdict } from "./verdict.ts";

export * from "./verdict.ts";
export { escapeXml, formatDuration, toConsoleTable, toJUnitXml, toJson, toMarkdown } from "./report-formats.ts";
export { redactSecrets } from "./redact.ts";

export interface WrittenReports {
  readonly junit: string;
  readonly json: string;
  readonly markdown: string;
  /** Set when the summary was appended to $GITHUB_STEP_SUMMARY. */
  readonly stepSummary?: string;
}

export async function writeReports(
  verdict: Verdict,
  dir: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<WrittenReports> {
  await mkdir(dir, { recursive: true });
  const paths = {
    junit: join(dir, "junit.xml"),
    json: join(dir, "verdict.json"),
    markdown: join(dir, "summary.md"),
  };
  // buildVerdict already redacts; this covers a verdict assembled by other means.
  const clean = redactVerdict(verdict);
  const markdown = toMarkdown(clean);
  await writeFile(paths.junit, toJUnitXml(clean));
  await writeFile(paths.json, toJson(clean));
  await writeFile(paths.markdown, markdown);
  const stepSummary = env.GITHUB_STEP_SUMMARY;
  if (!stepSummary) return paths;
  await appendFile(stepSummary, `${markdown}\n`);
  return { ...paths, stepSummary };
}
