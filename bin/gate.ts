// `npm run gate -- --kubeconfig PATH [options]`: the Traefik merge gate (issue 6). Reads the
// cluster's Services (read only) and the latest verdict, prints what it checked.
// Exit 0: open (Traefik's PRs may merge); 1: closed (one `gate: ...` line per reason);
// 2: bad input or the cluster could not be read (one line, no stack trace).
import { appendFileSync, readFileSync } from "node:fs";
import * as k8s from "@kubernetes/client-node";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { DEFAULT_PROFILE } from "../helpers/config.ts";
import {
  DEFAULT_MAX_AGE_HOURS,
  evaluateGate,
  GateInputError,
  parseVerdictDocument,
  reservationFor,
  serviceName,
} from "../helpers/gate.ts";
import type { GateResult } from "../helpers/gate.ts";
import { KubeconfigError, loadKubeconfigFile } from "../helpers/kubeconfig-file.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, describeRequestFailure, targetOf, withDeadline } from "../helpers/preflight.ts";
import { loadProfile, ProfileError, type Profile } from "../helpers/profile.ts";
import { redactSecrets } from "../helpers/redact.ts";
import type { Verdict } from "../helpers/verdict.ts";

const API_DEADLINE_MS = DEFAULT_REQUEST_TIMEOUT_MS;

interface Options {
  kubeconfig: string;
  context?: string;
  profile: string;
  verdict: string;
  maxAgeHours: number;
}

function say(line: string): void {
  process.stdout.write(`${redactSecrets(line)}\n`);
}

function badInput(message: string): never {
  process.stderr.write(`gate: ${redactSecrets(message.split("\n", 1)[0] ?? message)}\n`);
  process.exit(2);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n", 1)[0] ?? text;
}

function hours(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0)) throw new InvalidArgumentError("expected a positive number of hours");
  return n;
}

function parseOptions(argv: readonly string[]): Options {
  const program = new Command("gate")
    .description("Traefik merge gate: MetalLB conformance green and the reserved address free or Traefik's")
    .requiredOption("--kubeconfig <path>", "the cluster to read (read only)")
    .option("--context <name>", "kubeconfig context (default: the current one)")
    .option("--profile <path>", "expected facts, with pool.reserved's traefik entry", DEFAULT_PROFILE)
    .option("--verdict <path>", "the latest conformance verdict", "reports/verdict.json")
    .option("--max-age-hours <hours>", "oldest verdict accepted", hours, DEFAULT_MAX_AGE_HOURS)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) process.exit(0); // --help
    badInput(error.message.replace(/^error: /, ""));
  }
  return program.opts<Options>();
}

/** The profile, refused here (exit 2) when it reserves no address for Traefik. */
function readProfile(path: string): Profile {
  try {
    const profile = loadProfile(path);
    reservationFor(profile);
    return profile;
  } catch (error) {
    if (error instanceof ProfileError) badInput(`invalid profile ${path}: ${error.issues.join("; ")}`);
    if (error instanceof GateInputError) badInput(error.message);
    throw error;
  }
}

/** undefined when there is no verdict file: the gate is closed, not misused. */
function readVerdict(path: string): Verdict | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    badInput(`verdict ${path}: cannot read it (${firstLine(error)}), expected a readable verdict.json`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    badInput(`verdict ${path}: not JSON (${firstLine(error)}), expected the verdict.json of a conformance run`);
  }
  try {
    return parseVerdictDocument(data, path);
  } catch (error) {
    if (error instanceof GateInputError) badInput(error.message);
    throw error;
  }
}

interface Cluster {
  readonly server: string;
  readonly context: string;
  readonly services: k8s.V1Service[];
}

/** Checks the kubeconfig and context before any request, then lists every Service (read only). */
async function readCluster(path: string, context: string | undefined): Promise<Cluster> {
  let kc: k8s.KubeConfig;
  try {
    kc = loadKubeconfigFile(path, context);
  } catch (error) {
    if (error instanceof KubeconfigError) badInput(error.message);
    throw error;
  }
  const current = kc.getCurrentContext();
  const server = kc.getCurrentCluster()!.server;
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const request = "list services in all namespaces";
  try {
    const list = await withDeadline(request, API_DEADLINE_MS, (options) => core.listServiceForAllNamespaces({}, options));
    return { server, context: current, services: list.items };
  } catch (error) {
    badInput(redactSecrets(describeRequestFailure(error, targetOf(kc), request)));
  }
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
}

function report(result: GateResult, o: Options, profile: Profile, cluster: Cluster): void {
  const { address, purpose, owner } = result.reservation;
  const loadBalancers = cluster.services.filter((s) => s.spec?.type === "LoadBalancer").length;
  say(
    `gate: profile ${profile.name} (${o.profile}): ${address} reserved for ${purpose}, owner ${owner ? serviceName(owner) : "none"}`,
  );
  say(
    `gate: cluster ${cluster.server} (context ${cluster.context}): ${cluster.services.length} Services, ${loadBalancers} of type LoadBalancer`,
  );
  say(`gate: verdict ${o.verdict}`);
  const rows = [["", "CHECK", "SEEN"], ...result.checks.map((c) => [c.ok ? "ok" : "FAIL", c.name, c.detail])];
  for (const line of table(rows)) say(`  ${line}`);
  say(result.open ? `gate: OPEN: Traefik's PRs may merge` : `gate: CLOSED (${result.reasons.length} reason(s)):`);
  for (const reason of result.reasons) say(reason);
}

/** In GitHub Actions: each reason as an error annotation on the check, the table as the step summary. */
function reportToGitHub(result: GateResult, env: NodeJS.ProcessEnv): void {
  if (env.GITHUB_ACTIONS === "true") {
    for (const reason of result.reasons) say(`::error title=traefik gate::${reason.replace(/%/g, "%25")}`);
  }
  if (!env.GITHUB_STEP_SUMMARY) return;
  const lines = [
    `## ${result.open ? "✅ Traefik gate: open" : "❌ Traefik gate: closed"}`,
    "",
    "| | check | seen |",
    "| --- | --- | --- |",
    ...result.checks.map((c) => `| ${c.ok ? "✅" : "❌"} | ${c.name} | ${c.detail.replace(/\|/g, "\\|")} |`),
    ...(result.reasons.length > 0 ? ["", ...result.reasons.map((r) => `- ${r}`)] : []),
    "",
  ];
  appendFileSync(env.GITHUB_STEP_SUMMARY, redactSecrets(lines.join("\n")));
}

const options = parseOptions(process.argv.slice(2));
const profile = readProfile(options.profile);
const verdict = readVerdict(options.verdict);
const cluster = await readCluster(options.kubeconfig, options.context);
const result = evaluateGate({
  profile,
  services: cluster.services,
  verdict,
  verdictSource: options.verdict,
  now: new Date(),
  maxAgeHours: options.maxAgeHours,
});
report(result, options, profile, cluster);
reportToGitHub(result, process.env);
process.exit(result.open ? 0 : 1);
