// Profiles: the expected facts of a MetalLB deployment, read from YAML, validated once, frozen.
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import {
  type AddressRange,
  type Subnet,
  addressAtOffset,
  addressCount,
  contains,
  containsRange,
  hostOffset,
  overlaps,
  parseAddressRange,
  parseCidr,
  parseIPv4,
  rangeToString,
  subnetRange,
  subnetToString,
} from "./ip-range.ts";
import { type Profile, type ProfileData, ProfileSchema, formatZodIssues } from "./profile-schema.ts";

export { type Profile, type Timeouts, type TimeoutKey, TIMEOUT_KEYS } from "./profile-schema.ts";

export class ProfileError extends Error {
  readonly issues: readonly string[];
  constructor(source: string, issues: readonly string[]) {
    super(`invalid profile ${source}:\n${issues.map((issue) => `  ${issue}`).join("\n")}`);
    this.name = "ProfileError";
    this.issues = issues;
  }
}

export function loadProfile(path: string): Profile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason = messageOf(error);
    throw new ProfileError(path, [`(file): cannot read it (${reason}), expected a readable YAML file`]);
  }
  return parseProfile(text, path);
}

export function parseProfile(text: string, sourceName: string): Profile {
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new ProfileError(
      sourceName,
      document.errors.map((error) => `(yaml): ${firstLine(error.message)}, expected valid YAML`),
    );
  }
  return validateProfile(document.toJS() as unknown, sourceName);
}

/** Validates plain data (parsed YAML or a derived object) into a frozen Profile. */
export function validateProfile(data: unknown, sourceName: string): Profile {
  const parsed = ProfileSchema.safeParse(data);
  if (!parsed.success) throw new ProfileError(sourceName, formatZodIssues(parsed.error));
  const profile = parsed.data as Profile;
  const issues = crossCheck(profile);
  if (issues.length > 0) throw new ProfileError(sourceName, issues);
  return deepFreeze(profile);
}

export function profileSubnet(profile: Profile): Subnet {
  return parseCidr(profile.network.subnet);
}

export function poolRanges(profile: Profile): AddressRange[] {
  return profile.pool.addresses.map(parseAddressRange);
}

interface FieldValue {
  readonly field: string;
  readonly value: string;
}

/** Facts that relate fields to each other; every problem found is reported, not only the first. */
function crossCheck(profile: Profile): string[] {
  const subnet = profileSubnet(profile);
  const pool = poolRanges(profile);
  const { nodes, reserved } = profile.network;
  const hosts: FieldValue[] = [
    ...nodes.map((node, i) => ({ field: `network.nodes[${i}].address`, value: node.address })),
    ...reserved.map((entry, i) => ({ field: `network.reserved[${i}].address`, value: entry.address })),
  ];
  const poolReserved = profile.pool.reserved.map((entry, i) => ({
    field: `pool.reserved[${i}].address`,
    value: entry.address,
  }));
  const nodeNames = nodes.map((node, i) => ({ field: `network.nodes[${i}].name`, value: node.name }));
  const addressKey = (address: string) => parseIPv4(address).toString();
  return [
    ...checkPoolRanges(profile, subnet, pool),
    ...poolReserved.flatMap((entry) => checkPoolReserved(entry, profile, pool)),
    ...hosts.flatMap((entry) => checkHostAddress(entry, subnet, profile, pool)),
    ...duplicates(hosts, "address", addressKey),
    ...duplicates(poolReserved, "address", addressKey),
    ...duplicates(nodeNames, "name", (name) => name),
  ];
}

function checkPoolRanges(profile: Profile, subnet: Subnet, pool: readonly AddressRange[]): string[] {
  const issues: string[] = [];
  const subnetText = subnetToString(subnet);
  pool.forEach((range, i) => {
    const field = `pool.addresses[${i}]`;
    const got = `got "${profile.pool.addresses[i] ?? rangeToString(range)}"`;
    if (!containsRange(subnetRange(subnet), range)) {
      issues.push(`${field}: expected a range inside network.subnet ${subnetText}, ${got}`);
    } else if (usesNetworkOrBroadcast(subnet, range)) {
      const expected = `expected a range without the network or broadcast address of ${subnetText}`;
      issues.push(`${field}: ${expected}, ${got}`);
    }
    pool.slice(0, i).forEach((other, j) => {
      if (!overlaps(range, other)) return;
      issues.push(`${field}: expected no overlap with pool.addresses[${j}], ${got}`);
    });
  });
  const total = pool.reduce((sum, range) => sum + addressCount(range), 0);
  if (profile.pool.addressCount !== total) {
    const expected = `expected ${total} (the addresses in pool.addresses)`;
    issues.push(`pool.addressCount: ${expected}, got ${profile.pool.addressCount}`);
  }
  return issues;
}

function checkPoolReserved({ field, value }: FieldValue, profile: Profile, pool: readonly AddressRange[]): string[] {
  if (pool.some((range) => contains(range, value))) return [];
  const poolText = profile.pool.addresses.join(", ");
  return [`${field}: expected an address inside pool.addresses (${poolText}), got "${value}"`];
}

function checkHostAddress(
  { field, value }: FieldValue,
  subnet: Subnet,
  profile: Profile,
  pool: readonly AddressRange[],
): string[] {
  const subnetText = subnetToString(subnet);
  const single = { first: parseIPv4(value), last: parseIPv4(value) };
  if (!contains(subnetRange(subnet), value)) {
    return [`${field}: expected an address inside network.subnet ${subnetText}, got "${value}"`];
  }
  if (usesNetworkOrBroadcast(subnet, single)) {
    const expected = `expected a host address, not the network or broadcast address of ${subnetText}`;
    return [`${field}: ${expected}, got "${value}"`];
  }
  if (pool.some((range) => contains(range, value))) {
    const poolText = profile.pool.addresses.join(", ");
    return [`${field}: expected an address outside pool.addresses (${poolText}), got "${value}"`];
  }
  return [];
}

/** /31 and /32 have no network or broadcast address (RFC 3021). */
function usesNetworkOrBroadcast(subnet: Subnet, range: AddressRange): boolean {
  return subnet.prefix < 31 && (contains(range, subnet.network) || contains(range, subnet.broadcast));
}

function duplicates(entries: readonly FieldValue[], what: string, keyOf: (value: string) => string): string[] {
  const firstField = new Map<string, string>();
  const issues: string[] = [];
  for (const { field, value } of entries) {
    const earlier = firstField.get(keyOf(value));
    if (earlier === undefined) firstField.set(keyOf(value), field);
    else issues.push(`${field}: expected a unique ${what}, got "${value}" (already used by ${earlier})`);
  }
  return issues;
}

/**
 * The same profile moved into `subnetCidr`: every address keeps its host offset (192.168.2.100 in
 * 192.168.2.0/24 becomes 172.29.2.100 in 172.29.2.0/24), so the homelab's shape holds on a network
 * the suite owns and no homelab address appears in it.
 */
export function deriveEphemeralProfile(profile: Profile, subnetCidr: string): Profile {
  const name = `${profile.name}-ephemeral`;
  let target: Subnet;
  try {
    target = parseCidr(subnetCidr);
  } catch (error) {
    throw new ProfileError(name, [`network.subnet: ${messageOf(error)}`]);
  }
  const original = profileSubnet(profile);
  if (overlaps(subnetRange(original), subnetRange(target))) {
    throw new ProfileError(name, [
      `network.subnet: expected a subnet sharing no address with ${profile.network.subnet}, got "${subnetCidr}"`,
    ]);
  }

  const issues: string[] = [];
  const move = (field: string, address: string): string => {
    const offset = hostOffset(original, address);
    try {
      return addressAtOffset(target, offset).toString();
    } catch (error) {
      const reason = messageOf(error);
      issues.push(`${field}: cannot keep host offset ${offset} of ${address} in ${subnetCidr} (${reason})`);
      return address;
    }
  };

  const derived = structuredClone(profile) as ProfileData;
  derived.name = name;
  derived.network.subnet = subnetToString(target);
  const moveAll = (entries: { address: string }[], path: string) =>
    entries.forEach((entry, i) => (entry.address = move(`${path}[${i}].address`, entry.address)));
  moveAll(derived.network.nodes, "network.nodes");
  moveAll(derived.network.reserved, "network.reserved");
  moveAll(derived.pool.reserved, "pool.reserved");
  derived.pool.addresses = derived.pool.addresses.map((entry, i) => {
    const range = parseAddressRange(entry);
    const field = `pool.addresses[${i}]`;
    return `${move(field, range.first.toString())}-${move(field, range.last.toString())}`;
  });
  if (issues.length > 0) throw new ProfileError(name, issues);
  return validateProfile(derived, name);
}

/** The profile with another MetalLB chart version: what the chart matrix (`--metallb-version`)
 * installs and AC1 then expects. Everything else, the homelab's facts, stays as it is. */
export function withChartVersion(profile: Profile, version: string | undefined): Profile {
  if (version === undefined || version === profile.metallb.chart.version) return profile;
  const data = structuredClone(profile) as ProfileData;
  data.metallb.chart.version = version;
  return validateProfile(data, profile.name);
}

export type AddressScope = "pool" | "subnet";

const INSIDE = "expected an address inside it";

/**
 * Safety rule: the suite sends traffic only inside its own network (ephemeral target) or the
 * profile's pool (kubeconfig target). Returns the address when allowed, throws otherwise.
 */
export function assertAddressAllowed(
  profile: Profile,
  ip: string,
  { purpose, within }: { purpose: string; within: AddressScope },
): string {
  let address: string;
  try {
    address = parseIPv4(ip).toString();
  } catch (error) {
    throw new Error(`refusing ${purpose}: ${messageOf(error)}`, { cause: error });
  }
  if (within === "subnet") {
    if (contains(subnetRange(profileSubnet(profile)), address)) return address;
    const network = `network ${profile.network.subnet}`;
    throw new Error(`refusing ${purpose} to ${address}: outside ${network} of profile ${profile.name}, ${INSIDE}`);
  }
  if (poolRanges(profile).some((range) => contains(range, address))) return address;
  const pool = `pool ${profile.pool.name} (${profile.pool.addresses.join(", ")})`;
  throw new Error(`refusing ${purpose} to ${address}: outside ${pool} of profile ${profile.name}, ${INSIDE}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function firstLine(text: string): string {
  return (text.split("\n", 1)[0] ?? text).replace(/:$/, "");
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
