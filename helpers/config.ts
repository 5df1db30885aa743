// The run configuration: CLI flags > METALLB_CONFORMANCE_* environment > defaults, validated
// once here. The main command hands the result to vitest workers through one env var.
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { Command, CommanderError } from "commander";
import { z } from "zod";
import { MAX_TIMEOUT_MS, TIMEOUT_KEYS, type TimeoutKey, type Timeouts, describeValue } from "./profile-schema.ts";
import { randomRunId } from "./run-id.ts";

export const TARGETS = ["k3s", "kubeconfig"] as const;
export const MODES = ["verify-only", "install"] as const;
export type Target = (typeof TARGETS)[number];
export type Mode = (typeof MODES)[number];
export type TimeoutOverrides = Partial<Record<TimeoutKey, number>>;

export interface RunConfig {
  readonly target: Target;
  /** Path of the profile YAML; loaded by the caller with loadProfile. */
  readonly profile: string;
  /** Only for target kubeconfig. */
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly mode: Mode;
  readonly reportsDir: string;
  readonly runId: string;
  /** Only for target k3s: install (and expect) this MetalLB chart version instead of the
   * profile's metallb.chart.version — the chart matrix. */
  readonly metallbVersion?: string;
  /** Overrides of the profile's timeouts; see resolveTimeouts. */
  readonly timeouts: Readonly<TimeoutOverrides>;
  /** Target kubeconfig: the deadline of each preflight request (default: the preflight's). */
  readonly preflightTimeoutMs?: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

export const ENV_PREFIX = "METALLB_CONFORMANCE_";
export const CONFIG_ENV = `${ENV_PREFIX}CONFIG`;
export const DEFAULT_PROFILE = "fixtures/profiles/homelab.yaml";
export const DEFAULT_REPORTS_DIR = "reports";

/** A bad value, in one line: `invalid mode: got "x", expected one of ... (from --mode)`. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly value: string | undefined,
    readonly expected: string,
    readonly source?: string,
  ) {
    const got = value === undefined ? "nothing" : JSON.stringify(value);
    super(`invalid ${field}: got ${got}, expected ${expected}${source ? ` (from ${source})` : ""}`);
    this.name = "ConfigError";
  }
}

/** Thrown for --help: the caller prints `text` and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly text: string) {
    super("help requested");
    this.name = "HelpRequested";
  }
}

const RUN_ID = /^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$/;
const EXPECTED_MS = `a positive whole number of milliseconds (at most ${MAX_TIMEOUT_MS})`;

interface Field<T> {
  readonly schema: z.ZodType<T>;
  readonly expected: string;
}

const nonEmpty = z
  .string()
  .trim()
  .min(1)
  .refine((s) => !/[\r\n]/.test(s));

const FIELDS = {
  target: { schema: z.enum(TARGETS), expected: 'one of "k3s", "kubeconfig"' },
  profile: { schema: nonEmpty, expected: "a path to a profile YAML file" },
  kubeconfig: {
    schema: nonEmpty.refine((s) => !s.includes(delimiter)),
    expected: `a single kubeconfig file path (a "${delimiter}"-separated list is not supported; pass one file)`,
  },
  context: { schema: nonEmpty, expected: "a kubeconfig context name" },
  mode: { schema: z.enum(MODES), expected: 'one of "verify-only", "install"' },
  reportsDir: { schema: nonEmpty, expected: "a directory path for the reports" },
  metallbVersion: {
    schema: z.string().regex(/^\d+\.\d+\.\d+$/),
    expected: "a MetalLB chart version like 0.16.1 (one of METALLB_VERSIONS in images/versions.env)",
  },
  runId: {
    schema: z.string().regex(RUN_ID),
    expected: "1-20 lowercase letters, digits or '-', starting and ending with a letter or digit",
  },
} as const satisfies Record<string, Field<unknown>>;

// Plain digits only: Number() would also accept "1e3", "0x10" and " 5 ".
const TIMEOUT_FIELD: Field<number> = {
  schema: z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().positive().max(MAX_TIMEOUT_MS)),
  expected: EXPECTED_MS,
};

const optionalMs = z.number().int().positive().max(MAX_TIMEOUT_MS).optional();

const RunConfigSchema = z.strictObject({
  target: FIELDS.target.schema,
  profile: FIELDS.profile.schema,
  kubeconfig: FIELDS.kubeconfig.schema.optional(),
  context: FIELDS.context.schema.optional(),
  mode: FIELDS.mode.schema,
  reportsDir: FIELDS.reportsDir.schema,
  metallbVersion: FIELDS.metallbVersion.schema.optional(),
  runId: FIELDS.runId.schema,
  timeouts: z.strictObject(
    Object.fromEntries(TIMEOUT_KEYS.map((key) => [key, optionalMs])) as Record<TimeoutKey, typeof optionalMs>,
  ),
  preflightTimeoutMs: optionalMs,
});

type FieldName = keyof typeof FIELDS;

const FLAG: Record<FieldName, string> = {
  target: "--target",
  profile: "--profile",
  kubeconfig: "--kubeconfig",
  context: "--context",
  mode: "--mode",
  reportsDir: "--reports-dir",
  metallbVersion: "--metallb-version",
  runId: "--run-id",
};

const ENV: Record<FieldName, string> = {
  target: `${ENV_PREFIX}TARGET`,
  profile: `${ENV_PREFIX}PROFILE`,
  kubeconfig: `${ENV_PREFIX}KUBECONFIG`,
  context: `${ENV_PREFIX}CONTEXT`,
  mode: `${ENV_PREFIX}MODE`,
  reportsDir: `${ENV_PREFIX}REPORTS_DIR`,
  metallbVersion: `${ENV_PREFIX}METALLB_VERSION`,
  runId: `${ENV_PREFIX}RUN_ID`,
};

/** clusterReadyMs -> cluster-ready */
function timeoutSlug(key: TimeoutKey): string {
  return key.replace(/Ms$/, "").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
export const timeoutFlag = (key: TimeoutKey) => `--timeout-${timeoutSlug(key)}`;
export const timeoutEnv = (key: TimeoutKey) => `${ENV_PREFIX}TIMEOUT_${timeoutSlug(key).replace(/-/g, "_").toUpperCase()}_MS`;

/** A value as given, and where it came from (a flag, an env var or "default"). */
interface Raw {
  readonly value: string;
  readonly source: string;
}

type Options = Readonly<Record<string, string | undefined>>;

/** CLI > env; an empty env var counts as unset (CI often passes empty variables). */
function pickRaw(options: Options, env: Env, flag: string, envName: string): Raw | undefined {
  const cli = options[camel(flag)];
  if (cli !== undefined) return { value: cli, source: flag };
  const fromEnv = env[envName];
  return fromEnv ? { value: fromEnv, source: envName } : undefined;
}

function validate<T>(name: string, field: Field<T>, raw: Raw): T {
  const parsed = field.schema.safeParse(raw.value);
  if (!parsed.success) throw new ConfigError(name, raw.value, field.expected, raw.source);
  return parsed.data;
}

function buildCommand(): Command {
  const command = new Command("metallb-conformance")
    .description("Conformance suite for a MetalLB Layer-2 deployment (Story 3.1, AC1-AC4)")
    .option(`${FLAG.target} <target>`, '"k3s" (ephemeral, default) or "kubeconfig" (an existing cluster)')
    .option(`${FLAG.profile} <path>`, `expected facts (default ${DEFAULT_PROFILE})`)
    .option(`${FLAG.kubeconfig} <path>`, "for target kubeconfig (default $KUBECONFIG, then ~/.kube/config)")
    .option(`${FLAG.context} <name>`, "kubeconfig context (default: the current one)")
    .option(`${FLAG.mode} <mode>`, '"install" (default for k3s) or "verify-only" (default for kubeconfig)')
    .option(`${FLAG.reportsDir} <dir>`, `where reports are written (default ${DEFAULT_REPORTS_DIR})`)
    .option(`${FLAG.runId} <id>`, "id in every name and label (default: random)")
    .option(`${FLAG.metallbVersion} <version>`, "target k3s: install this MetalLB chart instead of the profile's (chart matrix)");
  for (const key of TIMEOUT_KEYS) {
    command.option(`${timeoutFlag(key)} <ms>`, `override the profile's timeouts.${key}`);
  }
  command.option(`${PREFLIGHT_FLAG} <ms>`, "target kubeconfig: deadline of each preflight request (default 10000)");
  return command
    .exitOverride()
    .allowExcessArguments(true)
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
}

function runCommand(argv: readonly string[]): Command {
  const command = buildCommand();
  try {
    command.parse(argv, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    throw commanderToConfigError(error, command);
  }
  const operand = command.args[0];
  if (operand !== undefined) throw new ConfigError("argument", operand, "only options (see --help)");
  return command;
}

function commanderToConfigError(error: CommanderError, command: Command): Error {
  if (error.code === "commander.helpDisplayed" || error.code === "commander.help") {
    return new HelpRequested(command.helpInformation());
  }
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? error.message;
  if (error.code === "commander.unknownOption") {
    const known = command.options.map((option) => option.long).filter((flag) => flag !== undefined);
    return new ConfigError("option", quoted, `one of ${known.join(", ")}`);
  }
  if (error.code === "commander.optionMissingArgument") {
    const flag = quoted.split(" ")[0] ?? quoted;
    return new ConfigError(flag.replace(/^--/, ""), undefined, "a value after the flag", flag);
  }
  return new ConfigError("arguments", undefined, error.message.replace(/^error: /, ""));
}

/**
 * Parses user arguments (process.argv.slice(2)) and the environment into a validated RunConfig.
 * Never exits the process: throws ConfigError (one line) or HelpRequested.
 */
export function parseArgs(argv: readonly string[], env: Env): RunConfig {
  const options = runCommand(argv).opts<Options>();
  const pick = (name: FieldName) => pickRaw(options, env, FLAG[name], ENV[name]);
  const read = (name: "profile" | "reportsDir" | "runId", fallback: string): string =>
    validate(name, FIELDS[name], pick(name) ?? { value: fallback, source: "default" });

  const target = validate("target", FIELDS.target, pick("target") ?? { value: "k3s", source: "default" });
  const explicitKubeconfig = pick("kubeconfig");
  const explicitContext = pick("context");
  if (target === "k3s") rejectClusterSelection({ kubeconfig: explicitKubeconfig, context: explicitContext });
  const metallbVersion = pick("metallbVersion");
  if (metallbVersion && target !== "k3s") {
    const expected =
      "no value with target kubeconfig (a live cluster runs what it runs: set metallb.chart.version in its profile)";
    throw new ConfigError("metallbVersion", metallbVersion.value, expected, metallbVersion.source);
  }

  const modeRaw = pick("mode") ?? { value: target === "k3s" ? "install" : "verify-only", source: "default" };
  const mode = validate("mode", FIELDS.mode, modeRaw);
  if (target === "k3s" && mode === "verify-only") {
    const expected = '"install" with target k3s (a fresh ephemeral cluster has no MetalLB to verify)';
    throw new ConfigError("mode", mode, expected, modeRaw.source);
  }
  if (target === "kubeconfig" && mode === "install" && modeRaw.source !== FLAG.mode) {
    throw new ConfigError(
      "mode",
      mode,
      `"verify-only" with target kubeconfig unless ${FLAG.mode} install is given on the command line`,
      modeRaw.source,
    );
  }

  const config: RunConfig = {
    target,
    profile: read("profile", DEFAULT_PROFILE),
    ...(target === "kubeconfig"
      ? { kubeconfig: validate("kubeconfig", FIELDS.kubeconfig, explicitKubeconfig ?? defaultKubeconfig(env)) }
      : {}),
    ...(explicitContext ? { context: validate("context", FIELDS.context, explicitContext) } : {}),
    mode,
    reportsDir: read("reportsDir", DEFAULT_REPORTS_DIR),
    ...(metallbVersion ? { metallbVersion: validate("metallbVersion", FIELDS.metallbVersion, metallbVersion) } : {}),
    runId: read("runId", randomRunId()),
    timeouts: readTimeoutOverrides(options, env),
    ...readPreflightTimeout(options, env),
  };
  return Object.freeze(config);
}

/** With target k3s a kubeconfig or context would be ignored: the user meant another target. */
function rejectClusterSelection(given: Record<"kubeconfig" | "context", Raw | undefined>): void {
  for (const [name, raw] of Object.entries(given)) {
    if (raw) {
      const expected = "no value with target k3s (the ephemeral cluster has its own; add --target kubeconfig)";
      throw new ConfigError(name, raw.value, expected, raw.source);
    }
  }
}

function defaultKubeconfig(env: Env): Raw {
  if (env.KUBECONFIG) return { value: env.KUBECONFIG, source: "KUBECONFIG" };
  return { value: join(env.HOME || homedir(), ".kube", "config"), source: "default" };
}

function readTimeoutOverrides(options: Options, env: Env): TimeoutOverrides {
  const overrides: TimeoutOverrides = {};
  for (const key of TIMEOUT_KEYS) {
    const raw = pickRaw(options, env, timeoutFlag(key), timeoutEnv(key));
    if (raw) overrides[key] = validate(`timeouts.${key}`, TIMEOUT_FIELD, raw);
  }
  return Object.freeze(overrides);
}

const PREFLIGHT_FLAG = "--timeout-preflight";
export const PREFLIGHT_TIMEOUT_ENV = `${ENV_PREFIX}PREFLIGHT_TIMEOUT_MS`;

function readPreflightTimeout(options: Options, env: Env): { preflightTimeoutMs?: number } {
  const raw = pickRaw(options, env, PREFLIGHT_FLAG, PREFLIGHT_TIMEOUT_ENV);
  return raw ? { preflightTimeoutMs: validate("preflightTimeoutMs", TIMEOUT_FIELD, raw) } : {};
}

/** Commander's option key: --reports-dir -> reportsDir. */
function camel(flag: string): string {
  return flag.replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The profile's timeouts with the run's overrides applied. */
export function resolveTimeouts(profileTimeouts: Timeouts, overrides: Readonly<TimeoutOverrides>): Timeouts {
  return Object.freeze({ ...profileTimeouts, ...overrides });
}

/** Environment entries that carry `config` to a child process (vitest workers). */
export function serializeConfigForChild(config: RunConfig): Record<string, string> {
  return { [CONFIG_ENV]: JSON.stringify(config) };
}

/** The config the main command validated, read back in a child process. */
export function readConfigFromEnv(env: Env): RunConfig {
  const text = env[CONFIG_ENV];
  const expected = "the JSON run configuration the main command sets (run the suites through it)";
  if (!text) throw new ConfigError(CONFIG_ENV, text, expected);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ConfigError(CONFIG_ENV, text.slice(0, 80), expected);
  }
  const parsed = RunConfigSchema.safeParse(data);
  if (parsed.success) return Object.freeze({ ...parsed.data, timeouts: Object.freeze(parsed.data.timeouts) });
  const issue = parsed.error.issues[0];
  const path = issue?.path.map(String) ?? [];
  const name = path.join(".") || "(top level)";
  const field = path[0] === "timeouts" ? TIMEOUT_FIELD : FIELDS[path[0] as FieldName];
  const got = path.reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], data);
  const gotText = got === undefined || typeof got === "string" ? got : describeValue(got);
  throw new ConfigError(name, gotText, field?.expected ?? issue?.message ?? "a valid value", CONFIG_ENV);
}
