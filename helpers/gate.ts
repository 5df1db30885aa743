// The Traefik merge gate (issue 6): Story 3.2's PRs merge only while the latest MetalLB conformance
// verdict is green and the pool address the profile reserves for Traefik is free or held by
// Traefik's own Service. Pure: the caller reads the cluster's Services and the verdict file.
import type * as k8s from "@kubernetes/client-node";
import { z } from "zod";
import { HELD_VIA, serviceAddressClaims } from "./pool-addresses.ts";
import type { Profile } from "./profile.ts";
import { describeValue, formatZodIssues } from "./profile-schema.ts";
import { STORY_CRITERIA, failureReason, overallStatus, type CriterionResult, type Verdict } from "./verdict.ts";

export const TRAEFIK = "traefik";
export const DEFAULT_MAX_AGE_HOURS = 26;
const HOUR_MS = 3_600_000;

/** Input the gate cannot judge (a profile without the reservation, a malformed verdict): exit 2. */
export class GateInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GateInputError";
  }
}

export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
}

export interface Reservation {
  readonly address: string;
  readonly purpose: string;
  /** The only Service allowed to hold or ask for the address; none: it must stay free. */
  readonly owner?: ServiceRef;
}

export const serviceName = (ref: ServiceRef) => `${ref.namespace}/${ref.name}`;

/** The profile's `pool.reserved` entry for `purpose` (Traefik's 192.168.2.100 in the homelab). */
export function reservationFor(profile: Profile, purpose = TRAEFIK): Reservation {
  const entry = profile.pool.reserved.find((r) => r.purpose === purpose);
  if (!entry) {
    const purposes = profile.pool.reserved.map((r) => r.purpose).join(", ") || "none";
    throw new GateInputError(
      `profile ${profile.name}: pool.reserved has no entry with purpose ${purpose} (has: ${purposes}), expected one`,
    );
  }
  return { address: entry.address, purpose: entry.purpose, ...(entry.service ? { owner: entry.service } : {}) };
}

/** A LoadBalancer Service that holds (status) or asks for (spec, MetalLB annotation) an address. */
export interface Claimant extends ServiceRef {
  readonly held: boolean;
  readonly via: readonly string[];
}

/** Every Service of type LoadBalancer that holds or asks for `address`; other types are ignored. */
export function claimantsOf(services: readonly k8s.V1Service[], address: string): Claimant[] {
  return services
    .filter((s) => s.spec?.type === "LoadBalancer")
    .flatMap((s) => {
      const via = serviceAddressClaims(s)
        .filter((c) => c.address === address)
        .map((c) => c.via);
      if (via.length === 0) return [];
      const ref = { namespace: s.metadata?.namespace ?? "", name: s.metadata?.name ?? "" };
      return [{ ...ref, held: via.includes(HELD_VIA), via: [...new Set(via)] }];
    });
}

export interface GateCheck {
  readonly name: string;
  readonly ok: boolean;
  /** What was seen, one line. */
  readonly detail: string;
  /** Empty when ok; else one `gate: <what is wrong>, expected <what would pass>` line per cause. */
  readonly reasons: readonly string[];
}

export interface GateResult {
  readonly open: boolean;
  readonly reservation: Reservation;
  readonly checks: readonly GateCheck[];
  /** One line per failed check. */
  readonly reasons: readonly string[];
}

export interface GateInput {
  readonly profile: Profile;
  /** Every Service of the cluster, all namespaces. */
  readonly services: readonly k8s.V1Service[];
  /** The latest verdict; undefined when there is none. */
  readonly verdict: Verdict | undefined;
  /** Where the verdict was looked for, for messages (reports/verdict.json). */
  readonly verdictSource: string;
  readonly now: Date;
  readonly maxAgeHours: number;
  readonly purpose?: string;
}

export function evaluateGate(input: GateInput): GateResult {
  const reservation = reservationFor(input.profile, input.purpose);
  const checks = [...verdictChecks(input), reservationCheck(reservation, input.services)];
  const reasons = checks.flatMap((c) => c.reasons);
  return { open: reasons.length === 0, reservation, checks, reasons };
}

function pass(name: string, detail: string): GateCheck {
  return { name, ok: true, detail, reasons: [] };
}

function fail(name: string, detail: string, ...reasons: string[]): GateCheck {
  return { name, ok: false, detail, reasons: reasons.map((r) => `gate: ${r}`) };
}

function reservationCheck(reservation: Reservation, services: readonly k8s.V1Service[]): GateCheck {
  const { address, purpose, owner } = reservation;
  const name = `${address} reserved for ${purpose}`;
  const claimants = claimantsOf(services, address);
  const isOwner = (c: Claimant) => owner !== undefined && c.namespace === owner.namespace && c.name === owner.name;
  const others = claimants.filter((c) => !isOwner(c));
  const mine = claimants.find(isOwner);
  const expected = owner ? `expected free or ${serviceName(owner)}` : "expected free (the profile names no owner)";
  if (others.length === 0) {
    if (!mine) return pass(name, "free");
    return pass(name, `${mine.held ? "held" : "requested (not yet assigned)"} by Service ${serviceName(mine)}`);
  }
  const lines = others.map(
    (c) =>
      `${address} (reserved for ${purpose}) is ${c.held ? "held" : "requested"} by Service ${serviceName(c)} ` +
      `(${c.via.join(", ")}), ${expected}`,
  );
  // One reason line per offending Service: each names its own cause.
  return fail(name, `claimed by ${others.map(serviceName).join(", ")}`, ...lines);
}

function verdictChecks(input: GateInput): GateCheck[] {
  const { verdict, verdictSource, profile, now, maxAgeHours } = input;
  if (!verdict) {
    return [
      fail(
        "conformance verdict",
        `none at ${verdictSource}`,
        `no conformance verdict at ${verdictSource}, expected a MetalLB conformance run within the last ${maxAgeHours}h`,
      ),
    ];
  }
  return [verdictStatusCheck(verdict), verdictAgeCheck(verdict, now, maxAgeHours), verdictProfileCheck(verdict, profile)];
}

function verdictStatusCheck(verdict: Verdict): GateCheck {
  const name = "conformance verdict";
  const missing = STORY_CRITERIA.filter((c) => !verdict.criteria.some((v) => v.id === c.id));
  // Trust the criteria, not only the summary field: the worst of both counts.
  const status = overallStatus([
    { status: verdict.status },
    ...(verdict.criteria.length > 0 ? [{ status: overallStatus(verdict.criteria) }] : []),
    ...(missing.length > 0 ? [{ status: "failed" as const }] : []),
  ]);
  const detail = `${status}, run ${verdict.runId}`;
  if (status === "passed") return pass(name, detail);
  const causes = [
    ...missing.map((c) => `${c.id}: missing from the verdict`),
    ...verdict.criteria.filter((c) => c.status !== "passed").map(criterionCause),
  ];
  const cause = causes.length > 0 ? causes.join("; ") : `the verdict's status is ${verdict.status}`;
  return fail(name, detail, `conformance verdict is ${status} (${cause}), expected passed`);
}

/** "AC3: <first check with the criterion's status>: <its message>", one line. */
function criterionCause(criterion: CriterionResult): string {
  if (criterion.status === "failed") return `${criterion.id}: ${failureReason(criterion)}`;
  const check = criterion.checks.find((c) => c.status === criterion.status);
  const text = check ? `${check.name}: ${check.message ?? criterion.status}` : (criterion.message ?? criterion.status);
  const line = text.split("\n", 1)[0] ?? text;
  return `${criterion.id}: ${line.length > 200 ? `${line.slice(0, 197)}...` : line}`;
}

function verdictAgeCheck(verdict: Verdict, now: Date, maxAgeHours: number): GateCheck {
  const name = "verdict age";
  const ageHours = (now.getTime() - Date.parse(verdict.startedAt)) / HOUR_MS;
  const detail = `started ${verdict.startedAt}, ${ageHours.toFixed(1)}h ago (at most ${maxAgeHours}h)`;
  if (ageHours <= maxAgeHours) return pass(name, detail);
  return fail(
    name,
    detail,
    `verdict is from ${verdict.startedAt}, older than ${maxAgeHours}h (${ageHours.toFixed(1)}h, run ${verdict.runId}), ` +
      "expected a newer conformance run",
  );
}

function verdictProfileCheck(verdict: Verdict, profile: Profile): GateCheck {
  const name = "verdict profile";
  const detail = `${verdict.profile} (target ${verdict.target})`;
  if (verdict.profile === profile.name) return pass(name, detail);
  return fail(
    name,
    detail,
    `verdict is for profile ${verdict.profile} (target ${verdict.target}), expected ${profile.name}, the profile the gate checks`,
  );
}

// ---- verdict.json ------------------------------------------------------------------------------

const STATUS = ["passed", "failed", "blocked", "skipped"] as const;

function expecting(what: string) {
  return { error: (issue: { input?: unknown }) => `expected ${what}, got ${describeValue(issue.input)}` };
}

const text = z.string(expecting("a string"));
const status = z.enum(STATUS, expecting(`one of ${STATUS.join(", ")}`));
const optionalText = z
  .string(expecting("a string or null"))
  .nullish()
  .transform((v) => v ?? undefined);
const duration = z.number(expecting("a number of milliseconds"));

// What helpers/report-formats.ts toJson writes; unknown extra fields are tolerated.
const VerdictDocumentSchema = z.object(
  {
    target: text,
    profile: text,
    runId: text,
    startedAt: text.refine((s) => !Number.isNaN(Date.parse(s)), expecting("an ISO 8601 time")),
    status,
    criteria: z.array(
      z.object(
        {
          id: text,
          title: text,
          status,
          message: optionalText,
          checks: z.array(z.object({ name: text, status, message: optionalText, durationMs: duration }), expecting("a list")),
        },
        expecting("a criterion object"),
      ),
      expecting("a list of criteria"),
    ),
    phases: z.array(z.object({ name: text, durationMs: duration }), expecting("a list")).default([]),
  },
  expecting("a verdict object"),
);

/** Validates parsed verdict.json data into a Verdict; throws GateInputError naming the field. */
export function parseVerdictDocument(data: unknown, source: string): Verdict {
  const parsed = VerdictDocumentSchema.safeParse(data);
  if (!parsed.success) throw new GateInputError(`verdict ${source}: ${formatZodIssues(parsed.error).join("; ")}`);
  return parsed.data;
}
