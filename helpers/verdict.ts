// The verdict model: what each criterion's checks showed, and how that rolls up.
import { redactSecrets } from "./redact.ts";

export type CheckStatus = "passed" | "failed" | "blocked" | "skipped";
/** "skipped": nothing failed or was blocked, but not every check ran, so it is not proven. */
export type CriterionStatus = "passed" | "failed" | "blocked" | "skipped";

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly message?: string;
  readonly durationMs: number;
  /** what the check measured or saw (its test's annotations: failover times, the event quoted) */
  readonly notes?: readonly string[];
}

export interface CriterionResult {
  /** "AC1".."AC4", or the id of a beyond-story suite. */
  readonly id: string;
  readonly title: string;
  readonly status: CriterionStatus;
  readonly message?: string;
  readonly checks: readonly CheckResult[];
}

export interface Phase {
  readonly name: string;
  readonly durationMs: number;
}

export interface Verdict {
  readonly target: string;
  readonly profile: string;
  readonly runId: string;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly status: CriterionStatus;
  readonly criteria: readonly CriterionResult[];
  readonly phases: readonly Phase[];
}

export interface CriterionInput {
  readonly id: string;
  readonly title: string;
  readonly checks: readonly CheckResult[];
}

/** Story 3.1's criteria, in the order they depend on each other. */
export const STORY_CRITERIA: readonly Omit<CriterionInput, "checks">[] = [
  { id: "AC1", title: "MetalLB is deployed by Helm" },
  { id: "AC2", title: "the IPAddressPool is configured" },
  { id: "AC3", title: "L2Advertisement announces the pool over ARP" },
  { id: "AC4", title: "a LoadBalancer Service gets an IP from the pool and serves HTTP" },
];

export const NO_CHECKS_MESSAGE = "ran no checks (the suite did not run or was filtered out)";

export function criterionStatus(checks: readonly CheckResult[]): CriterionStatus {
  if (checks.length === 0 || checks.some((c) => c.status === "failed")) return "failed";
  if (checks.some((c) => c.status === "blocked")) return "blocked";
  if (checks.some((c) => c.status === "skipped")) return "skipped";
  return "passed";
}

/** The worst status wins: failed > blocked > skipped > passed; nothing at all is failed. */
export function overallStatus(criteria: readonly { status: CriterionStatus }[]): CriterionStatus {
  for (const status of ["failed", "blocked", "skipped"] as const) {
    if (criteria.some((c) => c.status === status)) return status;
  }
  return criteria.length > 0 ? "passed" : "failed";
}

export function criterionResult(input: CriterionInput): CriterionResult {
  const status = criterionStatus(input.checks);
  return { ...input, status, ...(input.checks.length === 0 ? { message: NO_CHECKS_MESSAGE } : {}) };
}

/** Why a failed criterion failed, in one line: its first failed check. */
export function failureReason(criterion: CriterionResult): string {
  const check = criterion.checks.find((c) => c.status === "failed");
  const reason = check ? `${check.name}: ${check.message ?? "failed"}` : (criterion.message ?? "failed");
  const line = reason.split("\n", 1)[0] ?? reason;
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/**
 * Sorts criteria by `order` (others after, as given) and, once a criterion of `order` has
 * failed, reports the failed, skipped or missing checks of every later criterion as
 * "blocked by AC1: <reason>": they could not meaningfully run. Passed checks stay passed.
 */
export function applyBlocking(criteria: readonly CriterionResult[], order: readonly string[]): CriterionResult[] {
  const rank = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length);
  const sorted = [...criteria].sort((a, b) => rank(a.id) - rank(b.id));
  let blocker: string | undefined;
  return sorted.map((criterion) => {
    const result = blocker === undefined ? criterion : blockCriterion(criterion, blocker);
    if (blocker === undefined && result.status === "failed" && order.includes(result.id)) {
      blocker = `blocked by ${result.id}: ${failureReason(result)}`;
    }
    return result;
  });
}

function blockCriterion(criterion: CriterionResult, blocker: string): CriterionResult {
  if (criterion.checks.length === 0) return { ...criterion, status: "blocked", message: blocker };
  const checks = criterion.checks.map((check): CheckResult => {
    if (check.status !== "failed" && check.status !== "skipped") return check;
    const own = check.status === "failed" && check.message ? `; own failure: ${check.message}` : "";
    return { ...check, status: "blocked", message: `${blocker}${own}` };
  });
  return { ...criterion, checks, status: criterionStatus(checks) };
}

export interface VerdictInput {
  readonly target: string;
  readonly profile: string;
  readonly runId: string;
  readonly startedAt: Date | string;
  readonly criteria: readonly CriterionInput[];
  readonly phases?: readonly Phase[];
  /** Criteria that must appear; a missing one fails as "ran no checks". Default: Story 3.1's. */
  readonly expected?: readonly Omit<CriterionInput, "checks">[];
  /** Dependency order for blocking. Default: the ids of `expected`. */
  readonly order?: readonly string[];
}

export function buildVerdict(input: VerdictInput): Verdict {
  const expected = input.expected ?? STORY_CRITERIA;
  const given = mergeById(input.criteria);
  const missing = expected.filter((e) => !given.some((c) => c.id === e.id)).map((e) => ({ ...e, checks: [] }));
  const criteria = applyBlocking([...given, ...missing].map(criterionResult), input.order ?? expected.map((e) => e.id));
  return redactVerdict({
    target: input.target,
    profile: input.profile,
    runId: input.runId,
    startedAt: typeof input.startedAt === "string" ? input.startedAt : input.startedAt.toISOString(),
    status: overallStatus(criteria),
    criteria,
    phases: input.phases ?? [],
  });
}

/** Checks reported under the same id in several pieces (files, describe blocks) form one criterion. */
function mergeById(criteria: readonly CriterionInput[]): CriterionInput[] {
  const byId = new Map<string, CriterionInput>();
  for (const criterion of criteria) {
    const earlier = byId.get(criterion.id);
    const merged = earlier ? { ...earlier, checks: [...earlier.checks, ...criterion.checks] } : criterion;
    byId.set(criterion.id, merged);
  }
  return [...byId.values()];
}

/**
 * Every text of the verdict without credentials: check messages quote cluster output, and the
 * verdict is printed and uploaded. Redacting values (not rendered files) keeps JSON and tables intact.
 */
export function redactVerdict(verdict: Verdict): Verdict {
  return {
    ...verdict,
    criteria: verdict.criteria.map((c) => ({
      ...c,
      title: redactSecrets(c.title),
      ...(c.message === undefined ? {} : { message: redactSecrets(c.message) }),
      checks: c.checks.map((k) => ({
        ...k,
        name: redactSecrets(k.name),
        ...(k.message === undefined ? {} : { message: redactSecrets(k.message) }),
        ...(k.notes === undefined ? {} : { notes: k.notes.map(redactSecrets) }),
      })),
    })),
  };
}
