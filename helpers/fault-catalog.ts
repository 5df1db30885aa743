// The fault catalog as data (fixtures/faults/*.yaml): what to break, which criterion must fail,
// and which words its failure must contain. Parsed and validated here, once; judging a verdict
// against a fault is pure. Applying and reverting a fault on a cluster is in fault-steps.ts.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { addressAtOffset, parseCidr } from "./ip-range.ts";
import type { Profile } from "./profile.ts";
import { formatZodIssues, type ProfileData } from "./profile-schema.ts";
import { STORY_CRITERIA, type Verdict } from "./verdict.ts";

export const FAULTS_DIR = "fixtures/faults";

const KINDS = ["Deployment", "DaemonSet", "IPAddressPool", "L2Advertisement"] as const;
const ref = { kind: z.enum(KINDS), name: z.string().min(1) };

const StepSchema = z.union([
  z.strictObject({ scale: z.strictObject({ ...ref, replicas: z.number().int().min(0) }) }),
  z.strictObject({ patch: z.strictObject({ ...ref, patch: z.record(z.string(), z.unknown()) }) }),
  z.strictObject({ delete: z.strictObject(ref) }),
  z.strictObject({ move: z.strictObject({ ...ref, toNamespace: z.string().regex(/^[a-z0-9-]+$/) }) }),
  z.strictObject({ helmUninstall: z.strictObject({}) }),
  /** LoadBalancer Services holding every pool address but `leave` unreserved ones */
  z.strictObject({ occupy: z.strictObject({ leave: z.number().int().min(0) }) }),
]);
export type FaultStep = z.infer<typeof StepSchema>;

const FaultSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9-]+$/),
    description: z.string().min(1),
    /** A cluster of its own, started differently (k3s's ServiceLB left on). */
    cluster: z.strictObject({ keepServiceLB: z.boolean() }).optional(),
    /** Overrides of the derived profile (what the operator expects), by dotted path. */
    profile: z.record(z.string(), z.unknown()).default({}),
    break: z.array(StepSchema).default([]),
    expect: z.strictObject({
      criterion: z.enum(STORY_CRITERIA.map((c) => c.id) as [string, ...string[]]),
      /** each must appear (case-insensitive) in the failure messages of that criterion */
      words: z.array(z.string().min(1)).min(1),
      /** later criteria: "blocked" (their Given is gone) or "not-failed" (default: they may pass,
       * e.g. AC2 with one speaker missing, but never fail on their own) */
      later: z.enum(["blocked", "not-failed"]).default("not-failed"),
      /** the step of that criterion: checks (by part of their name) that must have passed, and
       * that must have failed — "the HTTP step, not the IP step" */
      checks: z
        .strictObject({
          passed: z.array(z.string().min(1)).default([]),
          failed: z.array(z.string().min(1)).default([]),
        })
        .default({ passed: [], failed: [] }),
    }),
  })
  .refine((f) => f.break.length > 0 || f.cluster !== undefined || Object.keys(f.profile).length > 0, {
    message: "expected at least one step in break (or a cluster of its own, or a profile override)",
    path: ["break"],
  });
export type Fault = z.infer<typeof FaultSchema>;

export class FaultFileError extends Error {}

export function parseFault(text: string, source: string): Fault {
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    throw new FaultFileError(`${source}: not YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const parsed = FaultSchema.safeParse(data);
  if (!parsed.success) throw new FaultFileError(`${source}: ${formatZodIssues(parsed.error).join("; ")}`);
  return parsed.data;
}

export function loadFaults(dir = FAULTS_DIR, only?: readonly string[]): Fault[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort();
  const faults = files.map((f) => parseFault(readFileSync(join(dir, f), "utf8"), join(dir, f)));
  if (!only?.length) return faults;
  const unknown = only.filter((name) => !faults.some((f) => f.name === name));
  if (unknown.length)
    throw new FaultFileError(`unknown fault(s) ${unknown.join(", ")}; known: ${faults.map((f) => f.name).join(", ")}`);
  return faults.filter((f) => only.includes(f.name));
}

/**
 * Resolves the catalog's placeholders against the cluster's profile: `{release}`, `{pool}`,
 * `{l2}` in strings, and `@N` (host offset N in the profile's subnet) in address strings, so
 * that the same fault reads the same on any subnet: "@100-@110" is .100-.110 of the cluster's /24.
 */
export function resolvePlaceholders<T>(value: T, profile: Profile): T {
  const subnet = parseCidr(profile.network.subnet);
  const names: Record<string, string> = {
    release: profile.metallb.release,
    pool: profile.pool.name,
    l2: profile.l2Advertisement.name,
  };
  const resolve = (v: unknown): unknown => {
    if (typeof v === "string")
      return v
        .replace(/\{(release|pool|l2)\}/g, (_, key: string) => names[key]!)
        .replace(/@(\d{1,3})\b/g, (_, offset: string) => addressAtOffset(subnet, Number(offset)).toString());
    if (Array.isArray(v)) return v.map(resolve);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
    return v;
  };
  return resolve(value) as T;
}

/** The profile the operator would hold under this fault: the derived profile plus overrides. */
export function faultProfile(base: Profile, fault: Fault): Profile {
  const out = structuredClone(base) as ProfileData;
  for (const [path, value] of Object.entries(resolvePlaceholders(fault.profile, base))) {
    const keys = path.split(".");
    let node = out as unknown as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) {
      if (!node[key] || typeof node[key] !== "object")
        throw new FaultFileError(`fault ${fault.name}: profile path ${path} does not exist`);
      node = node[key] as Record<string, unknown>;
    }
    node[keys.at(-1)!] = value;
  }
  return out;
}

export interface FaultJudgement {
  /** the first criterion, in the story's order, that did not pass; "none" when all passed */
  observed: string;
  ok: boolean;
  why: string;
}

/** Did the run fail for the right reason: the expected criterion failed first, every later one
 * is blocked by it (never a second, confusing failure), and its messages name the cause? */
export function judge(fault: Fault, verdict: Verdict): FaultJudgement {
  const order = STORY_CRITERIA.map((c) => c.id);
  const story = order.map((id) => verdict.criteria.find((c) => c.id === id));
  const firstBad = story.findIndex((c) => !c || c.status !== "passed");
  if (firstBad < 0) return { observed: "none", ok: false, why: "every criterion passed: the fault went unnoticed" };
  const observed = order[firstBad]!;
  const criterion = story[firstBad];
  if (observed !== fault.expect.criterion)
    return {
      observed,
      ok: false,
      why: `${observed} ${criterion?.status ?? "missing"} first, expected ${fault.expect.criterion}`,
    };
  if (criterion!.status !== "failed") return { observed, ok: false, why: `${observed} is ${criterion!.status}, expected failed` };
  const text = criterion!.checks
    .filter((c) => c.status === "failed")
    .map((c) => c.message ?? "")
    .join(" ")
    .toLowerCase();
  const missing = fault.expect.words.filter((w) => !text.includes(w.toLowerCase()));
  if (missing.length)
    return { observed, ok: false, why: `${observed}'s failure does not say ${missing.map((w) => `"${w}"`).join(", ")}` };
  const wrongStep = (["passed", "failed"] as const).flatMap((status) =>
    fault.expect.checks[status]
      .filter((part) => !criterion!.checks.some((c) => c.name.includes(part) && c.status === status))
      .map((part) => {
        const seen = criterion!.checks.find((c) => c.name.includes(part));
        return `"${part}" ${seen ? seen.status : "did not run"}, expected ${status}`;
      }),
  );
  if (wrongStep.length) return { observed, ok: false, why: `${observed} failed at the wrong step: ${wrongStep.join("; ")}` };
  const later = order.slice(firstBad + 1).map((id, i) => ({ id, status: story[firstBad + 1 + i]?.status ?? "missing" }));
  const wrong = later.filter((c) => (fault.expect.later === "blocked" ? c.status !== "blocked" : c.status === "failed"));
  if (wrong.length) {
    const expected = fault.expect.later === "blocked" ? "blocked" : "passed, skipped or blocked";
    return {
      observed,
      ok: false,
      why: `later criteria ${wrong.map((c) => `${c.id} ${c.status}`).join(", ")}, expected ${expected}`,
    };
  }
  return { observed, ok: true, why: firstMessage(criterion!) };
}

function firstMessage(criterion: Verdict["criteria"][number]): string {
  return criterion.checks.find((c) => c.status === "failed")?.message?.split("\n")[0] ?? "";
}
