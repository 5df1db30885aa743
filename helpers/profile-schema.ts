// The shape of a profile file (fixtures/profiles/*.yaml). Field-level checks only; facts that
// relate fields to each other (pool inside the subnet, counts) are checked in profile.ts.
import { z } from "zod";
import { parseAddressRange, parseCidr, parseIPv4 } from "./ip-range.ts";

export const TIMEOUT_KEYS = [
  "clusterReadyMs",
  "metallbReadyMs",
  "loadBalancerIpMs",
  "httpReadyMs",
  "arpMs",
  "cleanupMs",
] as const;
export type TimeoutKey = (typeof TIMEOUT_KEYS)[number];

/** Longest delay a Node timer can hold; a larger timeout would fire at once. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function expecting(what: string) {
  return { error: (issue: { input?: unknown }) => `expected ${what}, got ${describeValue(issue.input)}` };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

function text(what: string, pattern?: RegExp) {
  const schema = z.string(expecting(what)).trim().min(1, expecting(what));
  return pattern ? schema.regex(pattern, expecting(what)) : schema;
}

const label = (what: string) => text(`${what} (a lowercase DNS-1123 label like metallb-system)`, DNS_LABEL);
const objectName = (what: string) => text(`${what} (a lowercase DNS-1123 name like homelab-pool)`, DNS_SUBDOMAIN);

/** A string field whose value must parse with one of the ip-range parsers; their message is kept. */
function parsedBy(parse: (value: string) => unknown, what: string) {
  return text(what).superRefine((value, ctx) => {
    try {
      parse(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
    }
  });
}

const ipv4 = parsedBy((v) => parseIPv4(v), "an IPv4 address like 192.168.2.20");
const cidr = parsedBy(parseCidr, "an IPv4 network like 192.168.2.0/24");
const addressEntry = parsedBy(parseAddressRange, "an IPv4 range like 192.168.2.100-192.168.2.120");

const milliseconds = z
  .number(expecting("a positive whole number of milliseconds"))
  .int(expecting("a positive whole number of milliseconds"))
  .positive(expecting("a positive whole number of milliseconds"))
  .max(MAX_TIMEOUT_MS, expecting(`at most ${MAX_TIMEOUT_MS} milliseconds`));

/** The backend image when the profile names none (images/versions.env NGINX_IMAGE). */
export const DEFAULT_BACKEND_IMAGE = "docker.io/library/nginx:1.22.1";

/** Like z.strictObject, but an unknown key is reported with the keys that are allowed there. */
function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown field(s) ${issue.keys.join(", ")}, expected only: ${known}`
        : `expected a mapping with fields ${known}, got ${describeValue(issue.input)}`,
  });
}

function list<T extends z.ZodType>(item: T, what: string) {
  return z.array(item, expecting(`a list of ${what}`));
}

const serviceRef = strict({ namespace: label("a namespace"), name: label("a Service name") });

export const ProfileSchema = strict({
  name: label("a profile name"),
  metallb: strict({
    // "discover" is itself a valid namespace name; the suite treats it as "find the controller".
    namespace: label('"discover" or a namespace'),
    namespaceCandidates: list(label("a namespace"), "namespaces").default([]),
    chart: strict({
      name: label("a chart name"),
      version: text("a chart version like 0.15.3 (quote it if YAML reads it as a number)", SEMVER),
    }),
    release: label("a Helm release name"),
    valuesFile: text("a path to a Helm values file"),
  }),
  network: strict({
    subnet: cidr,
    nodes: list(
      strict({
        name: objectName("a node name"),
        address: ipv4,
        role: z.enum(["server", "agent"], expecting('"server" or "agent"')),
      }),
      "nodes",
    ).min(1, expecting("at least one node")),
    reserved: list(strict({ address: ipv4, purpose: text("a purpose like router") }), "reserved addresses").default([]),
  }),
  pool: strict({
    name: objectName("an IPAddressPool name"),
    addresses: list(addressEntry, "address ranges").min(1, expecting("at least one address range")),
    addressCount: z
      .number(expecting("the number of addresses in pool.addresses"))
      .int(expecting("the number of addresses in pool.addresses"))
      .positive(expecting("the number of addresses in pool.addresses")),
    autoAssign: z.boolean(expecting("true or false")),
    reserved: list(
      strict({ address: ipv4, purpose: text("a purpose like traefik"), service: serviceRef.optional() }),
      "reserved pool addresses",
    ).default([]),
  }),
  l2Advertisement: strict({ name: objectName("an L2Advertisement name") }),
  // The nginx image of the AC3/AC4 (and beyond-story) test backends: it must serve the stock
  // welcome page on :80. `npm run images` builds the default under this name for the ephemeral
  // target; a live cluster pulls it (name a mirror here if the nodes cannot reach Docker Hub).
  backend: strict({
    image: text("an nginx image reference like docker.io/library/nginx:1.22.1"),
  }).default({ image: DEFAULT_BACKEND_IMAGE }),
  // "Another device on the segment" on a live cluster: a hostNetwork pod of this image (arping,
  // curl, ip) on a node other than the announcing one. Absent: those checks are "not verifiable".
  segmentProbe: strict({
    image: text("an image reference with arping, curl and ip, like localhost/metallb-conformance/probe:bookworm-1"),
    node: objectName("a node name").optional(),
  }).optional(),
  timeouts: strict(Object.fromEntries(TIMEOUT_KEYS.map((key) => [key, milliseconds])) as Record<TimeoutKey, typeof milliseconds>),
});

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** A validated profile. Addresses stay strings as written; parse them with ip-range.ts. */
export type Profile = DeepReadonly<z.output<typeof ProfileSchema>>;
/** The mutable output of the schema, for building a profile before validating it. */
export type ProfileData = z.output<typeof ProfileSchema>;
export type Timeouts = Profile["timeouts"];

/** `pool.addresses[0]`, `metallb.chart.version`, or `(top level)`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    out += typeof key === "number" ? `[${key}]` : `${out === "" ? "" : "."}${String(key)}`;
  }
  return out === "" ? "(top level)" : out;
}

export function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${formatIssuePath(issue.path)}: ${issue.message}`);
}
