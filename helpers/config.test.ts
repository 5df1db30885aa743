import { describe, expect, it } from "vitest";
import {
  CONFIG_ENV,
  ConfigError,
  HelpRequested,
  type RunConfig,
  parseArgs,
  readConfigFromEnv,
  resolveTimeouts,
  serializeConfigForChild,
  timeoutEnv,
  timeoutFlag,
} from "./config.ts";
import { loadProfile } from "./profile.ts";

const HOME = { HOME: "/home/tester" };

function errorOf(build: () => unknown): ConfigError {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError, nothing was thrown");
}

describe("parseArgs defaults", () => {
  it("runs the ephemeral k3s target with the homelab profile and install mode", () => {
    const config = parseArgs([], HOME);
    expect(config).toMatchObject({
      target: "k3s",
      profile: "fixtures/profiles/homelab.yaml",
      mode: "install",
      reportsDir: "reports",
      timeouts: {},
    });
    expect(config.kubeconfig).toBeUndefined();
    expect(config.context).toBeUndefined();
  });

  it("generates a fresh DNS-1123-safe run id each time", () => {
    const a = parseArgs([], HOME).runId;
    const b = parseArgs([], HOME).runId;
    expect(a).toMatch(/^[a-z0-9][-a-z0-9]{0,18}[a-z0-9]$/);
    expect(a).not.toBe(b);
  });

  it("ignores $KUBECONFIG for target k3s", () => {
    expect(parseArgs([], { ...HOME, KUBECONFIG: "/etc/rancher/k3s/k3s.yaml" }).kubeconfig).toBeUndefined();
  });

  it("defaults target kubeconfig to verify-only with $KUBECONFIG, then ~/.kube/config", () => {
    expect(parseArgs(["--target", "kubeconfig"], { ...HOME, KUBECONFIG: "/tmp/k.yaml" })).toMatchObject({
      mode: "verify-only",
      kubeconfig: "/tmp/k.yaml",
    });
    expect(parseArgs(["--target=kubeconfig"], HOME).kubeconfig).toBe("/home/tester/.kube/config");
  });

  it("returns a frozen config", () => {
    const config = parseArgs([], HOME);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.timeouts)).toBe(true);
  });
});

describe("parseArgs precedence: CLI > env > defaults", () => {
  const env = {
    ...HOME,
    METALLB_CONFORMANCE_TARGET: "kubeconfig",
    METALLB_CONFORMANCE_PROFILE: "env.yaml",
    METALLB_CONFORMANCE_KUBECONFIG: "/env/kubeconfig",
    METALLB_CONFORMANCE_CONTEXT: "env-ctx",
    METALLB_CONFORMANCE_REPORTS_DIR: "env-reports",
    METALLB_CONFORMANCE_RUN_ID: "env1",
    METALLB_CONFORMANCE_TIMEOUT_ARP_MS: "5000",
    KUBECONFIG: "/ignored/when/explicit",
  };

  it("takes every field from the environment", () => {
    expect(parseArgs([], env)).toEqual({
      target: "kubeconfig",
      profile: "env.yaml",
      kubeconfig: "/env/kubeconfig",
      context: "env-ctx",
      mode: "verify-only",
      reportsDir: "env-reports",
      runId: "env1",
      timeouts: { arpMs: 5000 },
    });
  });

  it("lets every CLI flag win over the environment", () => {
    const argv = [
      "--profile",
      "cli.yaml",
      "--kubeconfig",
      "/cli/kubeconfig",
      "--context",
      "cli-ctx",
      "--reports-dir",
      "cli-reports",
      "--run-id",
      "cli-1",
      "--timeout-arp=7000",
      "--timeout-load-balancer-ip",
      "90000",
    ];
    expect(parseArgs(argv, env)).toEqual({
      target: "kubeconfig",
      profile: "cli.yaml",
      kubeconfig: "/cli/kubeconfig",
      context: "cli-ctx",
      mode: "verify-only",
      reportsDir: "cli-reports",
      runId: "cli-1",
      timeouts: { arpMs: 7000, loadBalancerIpMs: 90000 },
    });
    expect(parseArgs(["--target", "k3s", "--profile", "p.yaml"], { METALLB_CONFORMANCE_TARGET: "kubeconfig" }).target).toBe(
      "k3s",
    );
  });

  it("treats empty environment variables as unset", () => {
    expect(parseArgs([], { ...HOME, METALLB_CONFORMANCE_TARGET: "", METALLB_CONFORMANCE_RUN_ID: "" }).target).toBe("k3s");
  });

  it("names every timeout flag and env var after its profile key", () => {
    expect(timeoutFlag("clusterReadyMs")).toBe("--timeout-cluster-ready");
    expect(timeoutEnv("loadBalancerIpMs")).toBe("METALLB_CONFORMANCE_TIMEOUT_LOAD_BALANCER_IP_MS");
    const all = parseArgs(
      ["--timeout-cluster-ready", "1", "--timeout-metallb-ready", "2", "--timeout-http-ready", "3", "--timeout-cleanup", "4"],
      { METALLB_CONFORMANCE_TIMEOUT_LOAD_BALANCER_IP_MS: "5", METALLB_CONFORMANCE_TIMEOUT_ARP_MS: "6" },
    );
    expect(all.timeouts).toEqual({
      clusterReadyMs: 1,
      metallbReadyMs: 2,
      httpReadyMs: 3,
      cleanupMs: 4,
      loadBalancerIpMs: 5,
      arpMs: 6,
    });
  });
});

describe("parseArgs mode rules", () => {
  it("installs on a kubeconfig target only with --mode install on the command line", () => {
    expect(parseArgs(["--target", "kubeconfig", "--mode", "install"], HOME).mode).toBe("install");
    expect(errorOf(() => parseArgs(["--target", "kubeconfig"], { ...HOME, METALLB_CONFORMANCE_MODE: "install" })).message).toBe(
      'invalid mode: got "install", expected "verify-only" with target kubeconfig unless --mode install is given on the command line (from METALLB_CONFORMANCE_MODE)',
    );
  });
  it("refuses verify-only on the ephemeral target", () => {
    expect(errorOf(() => parseArgs(["--mode", "verify-only"], HOME)).message).toBe(
      'invalid mode: got "verify-only", expected "install" with target k3s (a fresh ephemeral cluster has no MetalLB to verify) (from --mode)',
    );
  });
  it("refuses a kubeconfig or context with target k3s", () => {
    expect(errorOf(() => parseArgs(["--kubeconfig", "/x"], HOME)).field).toBe("kubeconfig");
    expect(errorOf(() => parseArgs([], { METALLB_CONFORMANCE_CONTEXT: "prod" })).message).toMatch(
      /^invalid context: got "prod", expected no value with target k3s .*\(from METALLB_CONFORMANCE_CONTEXT\)$/,
    );
  });
});

describe("parseArgs preflight deadline", () => {
  it("reads --timeout-preflight, or METALLB_CONFORMANCE_PREFLIGHT_TIMEOUT_MS, validated like the other deadlines", () => {
    expect(parseArgs(["--timeout-preflight", "2500"], HOME).preflightTimeoutMs).toBe(2500);
    expect(parseArgs([], { ...HOME, METALLB_CONFORMANCE_PREFLIGHT_TIMEOUT_MS: "3000" }).preflightTimeoutMs).toBe(3000);
    expect(parseArgs([], HOME).preflightTimeoutMs).toBeUndefined();
    expect(errorOf(() => parseArgs([], { ...HOME, METALLB_CONFORMANCE_PREFLIGHT_TIMEOUT_MS: "1e3" })).message).toBe(
      'invalid preflightTimeoutMs: got "1e3", expected a positive whole number of milliseconds (at most 2147483647) (from METALLB_CONFORMANCE_PREFLIGHT_TIMEOUT_MS)',
    );
  });
});

describe("parseArgs chart matrix (--metallb-version)", () => {
  it("is unset by default: the profile's chart version is installed", () => {
    expect(parseArgs([], HOME).metallbVersion).toBeUndefined();
  });
  it("takes a chart version from the flag or the environment, the flag first", () => {
    expect(parseArgs(["--metallb-version", "0.16.1"], HOME).metallbVersion).toBe("0.16.1");
    expect(parseArgs([], { ...HOME, METALLB_CONFORMANCE_METALLB_VERSION: "0.16.1" }).metallbVersion).toBe("0.16.1");
    expect(
      parseArgs(["--metallb-version", "0.15.3"], { ...HOME, METALLB_CONFORMANCE_METALLB_VERSION: "0.16.1" }).metallbVersion,
    ).toBe("0.15.3");
  });
  it('refuses a version with a "v" (the chart, not the Go module, version)', () => {
    expect(errorOf(() => parseArgs(["--metallb-version", "v0.16.1"], HOME)).message).toBe(
      'invalid metallbVersion: got "v0.16.1", expected a MetalLB chart version like 0.16.1 (one of METALLB_VERSIONS in images/versions.env) (from --metallb-version)',
    );
  });
  it("refuses it with target kubeconfig: a live cluster is verified as its profile says", () => {
    const error = errorOf(() => parseArgs(["--target", "kubeconfig", "--metallb-version", "0.16.1"], HOME));
    expect(error.message).toMatch(
      /^invalid metallbVersion: got "0.16.1", expected no value with target kubeconfig .*metallb\.chart\.version/,
    );
  });
  it("travels to the vitest workers with the rest of the config", () => {
    const config = parseArgs(["--metallb-version", "0.16.1"], HOME);
    expect(readConfigFromEnv(serializeConfigForChild(config)).metallbVersion).toBe("0.16.1");
  });
});

describe("parseArgs bad values: one line naming field, value and expectation", () => {
  const cases: [string, readonly string[], Record<string, string>, string][] = [
    ["target (CLI)", ["--target", "kind"], {}, 'invalid target: got "kind", expected one of "k3s", "kubeconfig" (from --target)'],
    [
      "target (env)",
      [],
      { METALLB_CONFORMANCE_TARGET: "K3S" },
      'invalid target: got "K3S", expected one of "k3s", "kubeconfig" (from METALLB_CONFORMANCE_TARGET)',
    ],
    ["mode", ["--mode", "dry-run"], {}, 'invalid mode: got "dry-run", expected one of "verify-only", "install" (from --mode)'],
    ["empty profile", ["--profile", ""], {}, 'invalid profile: got "", expected a path to a profile YAML file (from --profile)'],
    [
      "blank reports dir",
      ["--reports-dir", "  "],
      {},
      'invalid reportsDir: got "  ", expected a directory path for the reports (from --reports-dir)',
    ],
    [
      "upper-case run id",
      ["--run-id", "Run1"],
      {},
      "invalid runId: got \"Run1\", expected 1-20 lowercase letters, digits or '-', starting and ending with a letter or digit (from --run-id)",
    ],
    [
      "run id with trailing dash",
      [],
      { METALLB_CONFORMANCE_RUN_ID: "r1-" },
      "invalid runId: got \"r1-\", expected 1-20 lowercase letters, digits or '-', starting and ending with a letter or digit (from METALLB_CONFORMANCE_RUN_ID)",
    ],
    [
      "zero timeout",
      ["--timeout-arp", "0"],
      {},
      'invalid timeouts.arpMs: got "0", expected a positive whole number of milliseconds (at most 2147483647) (from --timeout-arp)',
    ],
  ];
  it.each(cases)("%s", (_, argv, env, message) => {
    const error = errorOf(() => parseArgs(argv, { ...HOME, ...env }));
    expect(error.message).toBe(message);
    expect(error.message).not.toContain("\n");
  });

  it.each(["-5", "1.5", "1e3", "0x10", "10s", " 5", "2147483648"])("rejects timeout %j", (value) => {
    expect(errorOf(() => parseArgs([], { [timeoutEnv("cleanupMs")]: value })).message).toMatch(
      /^invalid timeouts\.cleanupMs: got ".*", expected a positive whole number of milliseconds .*\(from METALLB_CONFORMANCE_TIMEOUT_CLEANUP_MS\)$/,
    );
  });

  it("rejects a kubeconfig list", () => {
    expect(errorOf(() => parseArgs(["--target", "kubeconfig"], { ...HOME, KUBECONFIG: "/a:/b" })).message).toMatch(
      /^invalid kubeconfig: got "\/a:\/b", expected a single kubeconfig file path .*\(from KUBECONFIG\)$/,
    );
  });

  it("rejects unknown options, listing the known ones", () => {
    const error = errorOf(() => parseArgs(["--traget", "k3s"], HOME));
    expect(error.message).toMatch(/^invalid option: got "--traget", expected one of --target, --profile, .*--timeout-cleanup, --timeout-preflight$/);
  });

  it("rejects a flag without its value", () => {
    expect(errorOf(() => parseArgs(["--profile"], HOME)).message).toBe(
      "invalid profile: got nothing, expected a value after the flag (from --profile)",
    );
  });

  it("rejects positional arguments", () => {
    expect(errorOf(() => parseArgs(["ac1"], HOME)).message).toBe(
      'invalid argument: got "ac1", expected only options (see --help)',
    );
  });

  it("throws HelpRequested with the usage text for --help, without printing", () => {
    let thrown: unknown;
    try {
      parseArgs(["--help"], HOME);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HelpRequested);
    expect((thrown as HelpRequested).text).toMatch(/--target <target>[\s\S]*--timeout-cluster-ready <ms>/);
  });
});

describe("config handed to child processes", () => {
  it("round-trips through the environment", () => {
    const config = parseArgs(["--target", "kubeconfig", "--context", "lab", "--timeout-arp", "3000"], HOME);
    const env = serializeConfigForChild(config);
    expect(Object.keys(env)).toEqual([CONFIG_ENV]);
    expect(readConfigFromEnv(env)).toEqual(config);
  });

  it("explains a missing or unreadable variable", () => {
    expect(errorOf(() => readConfigFromEnv({})).message).toBe(
      "invalid METALLB_CONFORMANCE_CONFIG: got nothing, expected the JSON run configuration the main command sets (run the suites through it)",
    );
    expect(errorOf(() => readConfigFromEnv({ [CONFIG_ENV]: "{not json" })).value).toBe("{not json");
  });

  it("names the bad field of a tampered config", () => {
    const config: RunConfig = parseArgs(["--run-id", "abc"], HOME);
    const tampered = { ...config, target: "aws" };
    expect(errorOf(() => readConfigFromEnv({ [CONFIG_ENV]: JSON.stringify(tampered) })).message).toBe(
      'invalid target: got "aws", expected one of "k3s", "kubeconfig" (from METALLB_CONFORMANCE_CONFIG)',
    );
    const badTimeout = { ...config, timeouts: { arpMs: -1 } };
    expect(errorOf(() => readConfigFromEnv({ [CONFIG_ENV]: JSON.stringify(badTimeout) })).message).toMatch(
      /^invalid timeouts\.arpMs: got "-1", expected a positive whole number/,
    );
  });
});

describe("resolveTimeouts", () => {
  it("overrides only the given timeouts of the profile", () => {
    const profile = loadProfile("fixtures/profiles/homelab.yaml");
    const timeouts = resolveTimeouts(profile.timeouts, { arpMs: 1234 });
    expect(timeouts).toEqual({ ...profile.timeouts, arpMs: 1234 });
    expect(profile.timeouts.arpMs).toBe(10000);
  });
});
