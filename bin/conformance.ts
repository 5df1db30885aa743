// `npm run conformance [-- options]`: AC1→AC4 against the chosen target, a verdict table per AC,
// and reports/{junit.xml,verdict.json,summary.md}. Exit 0: all passed; 1: not all passed;
// 2: bad input (one line, no stack trace).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { execa } from "execa";
import { startVitest } from "vitest/node";
import { ConfigError, HelpRequested, parseArgs, serializeConfigForChild, type RunConfig } from "../helpers/config.ts";
import { loadProfile, ProfileError } from "../helpers/profile.ts";
import { progress } from "../helpers/progress.ts";

function usageError(message: string): never {
  process.stderr.write(`metallb-conformance: ${message}\n`);
  process.exit(2);
}

function validate(argv: string[]): RunConfig {
  let config: RunConfig;
  try {
    config = parseArgs(argv, process.env);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(error.text);
      process.exit(0);
    }
    if (error instanceof ConfigError) usageError(error.message);
    throw error;
  }
  try {
    loadProfile(config.profile);
  } catch (error) {
    if (error instanceof ProfileError) usageError(`invalid profile ${config.profile}: ${error.issues.join("; ")}`);
    usageError(`cannot read profile ${config.profile}: ${(error as Error).message}`);
  }
  if (config.target === "kubeconfig") describeTarget(config);
  return config;
}

/** Says which cluster a kubeconfig run will touch, before touching it (never credentials). */
function describeTarget(config: RunConfig): void {
  if (!config.kubeconfig || !existsSync(config.kubeconfig))
    usageError(`kubeconfig not found: ${config.kubeconfig ?? "(none)"} (set --kubeconfig or KUBECONFIG)`);
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromFile(config.kubeconfig);
  } catch (error) {
    usageError(`kubeconfig ${config.kubeconfig} is not readable: ${(error as Error).message.split("\n")[0]}`);
  }
  if (config.context) {
    if (!kc.getContextObject(config.context))
      usageError(
        `context "${config.context}" not in ${config.kubeconfig} (contexts: ${kc
          .getContexts()
          .map((c) => c.name)
          .join(", ")})`,
      );
    kc.setCurrentContext(config.context);
  }
  const cluster = kc.getCurrentCluster();
  progress(
    "target",
    `kubeconfig ${config.kubeconfig}, context ${kc.getCurrentContext()}, server ${cluster?.server ?? "?"}, mode ${config.mode}`,
  );
}

async function prepareEphemeral(): Promise<void> {
  for (const [step, script] of [
    ["host bootstrap", "scripts/host-bootstrap.sh"],
    ["images", "images/build.sh"],
  ] as const) {
    progress("prepare", step);
    const r = await execa("bash", [script], { stdio: "inherit", reject: false });
    if (r.exitCode !== 0) {
      process.stderr.write(`metallb-conformance: ${step} failed (exit ${r.exitCode}); see the lines above\n`);
      process.exit(1);
    }
  }
}

const config = validate(process.argv.slice(2));
if (config.target === "k3s") await prepareEphemeral();
Object.assign(process.env, serializeConfigForChild(config));
const vitest = await startVitest("test", ["suites/ac"], { project: ["e2e"], watch: false, run: true });
await vitest.close();
const verdictPath = join(config.reportsDir, "verdict.json");
const verdict = existsSync(verdictPath)
  ? (JSON.parse(await readFile(verdictPath, "utf8")) as { status: string; runId: string })
  : undefined;
if (!verdict || verdict.runId !== config.runId) {
  process.stderr.write("metallb-conformance: no verdict was written (the run did not reach the suites); see the errors above\n");
  process.exit(1);
}
process.exit(verdict.status === "passed" ? 0 : 1);
