// `npm run conformance [-- options]`: AC1→AC4 against the chosen target, a verdict table per AC,
// and reports/{junit.xml,verdict.json,summary.md}. Exit 0: all passed; 1: not all passed;
// 2: bad input (one line, no stack trace).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type * as k8s from "@kubernetes/client-node";
import { ConfigError, HelpRequested, parseArgs, serializeConfigForChild, type RunConfig } from "../helpers/config.ts";
import { loadProfile, ProfileError, type Profile } from "../helpers/profile.ts";
import { progress } from "../helpers/progress.ts";
import { redactSecrets } from "../helpers/redact.ts";
import { runNamespaceName } from "../helpers/run-context.ts";

// The heavy modules (client-node, vitest, execa: seconds of start-up together) are imported where
// they are first needed, so bad input is reported at once.

/** One line on stderr (credentials redacted), exit 2. */
function usageError(message: string): never {
  const line = redactSecrets(message)
    .replace(/\s*\n\s*/g, " ")
    .trim();
  process.stderr.write(`metallb-conformance: ${line}\n`);
  process.exit(2);
}

function validate(argv: string[]): { config: RunConfig; profile: Profile } {
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
    return { config, profile: loadProfile(config.profile) };
  } catch (error) {
    if (error instanceof ProfileError) usageError(`invalid profile ${config.profile}: ${error.issues.join("; ")}`);
    usageError(`cannot read profile ${config.profile}: ${(error as Error).message}`);
  }
}

/** The kubeconfig and context a kubeconfig run will use, checked before anything is contacted. */
async function loadTarget(config: RunConfig): Promise<k8s.KubeConfig> {
  const { loadKubeconfigFile, KubeconfigError } = await import("../helpers/kubeconfig-file.ts");
  try {
    return loadKubeconfigFile(config.kubeconfig, config.context);
  } catch (error) {
    if (error instanceof KubeconfigError) usageError(error.message);
    throw error;
  }
}

/** Contacts the API server (version, credentials, RBAC) before vitest starts; says which
 * cluster the run touches (never credentials). */
async function checkTarget(config: RunConfig, profile: Profile): Promise<void> {
  const requestTimeoutMs = config.preflightTimeoutMs;
  const kc = await loadTarget(config);
  const { preflight, PreflightError, targetOf } = await import("../helpers/preflight.ts");
  const target = targetOf(kc);
  try {
    const result = await preflight(kc, {
      metallbNamespace: profile.metallb.namespace,
      // the run's namespace, as suites/setup/global-e2e.ts names it
      runNamespace: runNamespaceName(config.runId),
      segmentProbe: profile.segmentProbe !== undefined,
      requestTimeoutMs,
    });
    progress(
      "target",
      `kubeconfig ${config.kubeconfig}, context ${target.context}, user ${target.user}, server ${target.server} (${result.serverVersion}), mode ${config.mode}`,
    );
    progress(
      "preflight",
      `${result.permissionsChecked} permissions granted${result.metallbNamespace ? ` (MetalLB in ${result.metallbNamespace})` : ""}, ${result.durationMs} ms`,
    );
  } catch (error) {
    if (error instanceof PreflightError) usageError(error.message);
    usageError(`preflight of ${target.server} (context ${target.context}) failed: ${(error as Error).message}`);
  }
}

async function prepareEphemeral(): Promise<void> {
  const { execa } = await import("execa");
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

const { config, profile } = validate(process.argv.slice(2));
if (config.target === "kubeconfig") await checkTarget(config, profile);
if (config.target === "k3s") await prepareEphemeral();
Object.assign(process.env, serializeConfigForChild(config));
const { startVitest } = await import("vitest/node");
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
