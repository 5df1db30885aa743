// IPv4 address and range arithmetic for MetalLB pool entries and the profile's subnet.
// Parsing is ipaddr.js's; this file only adds strictness (dotted quads only) and range math.
import ipaddr from "ipaddr.js";

export type IPv4 = ipaddr.IPv4;

/** An inclusive range of IPv4 addresses, first <= last. */
export interface AddressRange {
  readonly first: IPv4;
  readonly last: IPv4;
}

export interface Subnet {
  readonly network: IPv4;
  readonly prefix: number;
  readonly broadcast: IPv4;
}

/** ipsInRange refuses larger ranges unless a larger limit is given. */
export const DEFAULT_ITERATION_LIMIT = 65_536;

const EXPECTED_ADDRESS = "an IPv4 address in dotted-quad form like 192.168.2.100";
const EXPECTED_ENTRY = 'an IPv4 range "first-last" like 192.168.2.100-192.168.2.120 or a CIDR like 192.168.2.96/28';
const EXPECTED_CIDR = "an IPv4 network in CIDR form like 192.168.2.0/24";

/** Parses one IPv4 address; rejects IPv6, shorthand forms ("10.1", "0x0a...") and leading zeros. */
export function parseIPv4(text: string, label = "IPv4 address"): IPv4 {
  const trimmed = text.trim();
  if (ipaddr.IPv4.isValidFourPartDecimal(trimmed)) return ipaddr.IPv4.parse(trimmed);
  const ipv6 = ipaddr.IPv6.isValid(trimmed) ? " (this is IPv6; only IPv4 is supported)" : "";
  throw new Error(`invalid ${label} "${text}"${ipv6}: expected ${EXPECTED_ADDRESS}`);
}

export function ipv4ToNumber(ip: IPv4): number {
  return ip.toByteArray().reduce((n, byte) => n * 256 + byte, 0);
}

export function numberToIPv4(n: number): IPv4 {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) {
    throw new Error(`invalid IPv4 numeric value ${n}: expected an integer from 0 to 4294967295`);
  }
  return new ipaddr.IPv4([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function toIPv4(ip: IPv4 | string): IPv4 {
  return typeof ip === "string" ? parseIPv4(ip) : ip;
}

export function ipEquals(a: IPv4 | string, b: IPv4 | string): boolean {
  return ipv4ToNumber(toIPv4(a)) === ipv4ToNumber(toIPv4(b));
}

/** Strict CIDR: the address must be the network address (192.168.2.0/24, not 192.168.2.7/24). */
export function parseCidr(cidr: string): Subnet {
  const { network, prefix, given } = parseCidrParts(cidr, EXPECTED_CIDR);
  if (ipv4ToNumber(network) !== ipv4ToNumber(given)) {
    throw new Error(`invalid CIDR "${cidr}": host bits are set, expected the network address ${network.toString()}/${prefix}`);
  }
  return subnetOf(network, prefix);
}

export function subnetToString(subnet: Subnet): string {
  return `${subnet.network.toString()}/${subnet.prefix}`;
}

export function subnetRange(subnet: Subnet): AddressRange {
  return { first: subnet.network, last: subnet.broadcast };
}

/**
 * Parses a MetalLB IPAddressPool `spec.addresses` entry. Like MetalLB, a CIDR with host bits set
 * (192.168.2.101/30) means its whole network, and spaces around the dash are allowed.
 */
export function parseAddressRange(entry: string): AddressRange {
  const text = entry.trim();
  if (text.includes("/")) {
    const { network, prefix } = parseCidrParts(text, EXPECTED_ENTRY);
    return subnetRange(subnetOf(network, prefix));
  }
  const parts = text.split("-");
  if (parts.length !== 2) {
    throw new Error(`invalid address range "${entry}": expected ${EXPECTED_ENTRY}`);
  }
  const [firstText = "", lastText = ""] = parts;
  const first = parseRangeEnd(entry, firstText, "first");
  const last = parseRangeEnd(entry, lastText, "last");
  if (ipv4ToNumber(first) > ipv4ToNumber(last)) {
    throw new Error(`invalid address range "${entry}": the first address is after the last, expected first <= last`);
  }
  return { first, last };
}

function parseRangeEnd(entry: string, text: string, which: "first" | "last"): IPv4 {
  try {
    return parseIPv4(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`invalid address range "${entry}": ${which} address: ${reason}`, { cause: error });
  }
}

function parseCidrParts(text: string, expected: string): { network: IPv4; prefix: number; given: IPv4 } {
  if (ipaddr.IPv6.isValidCIDR(text.trim())) {
    throw new Error(`invalid CIDR "${text}" (this is IPv6; only IPv4 is supported): expected ${expected}`);
  }
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  const addressText = match?.[1];
  const prefixText = match?.[2];
  if (addressText === undefined || prefixText === undefined) {
    throw new Error(`invalid CIDR "${text}": expected ${expected}`);
  }
  const prefix = Number(prefixText);
  if (prefix > 32) {
    throw new Error(`invalid CIDR "${text}": prefix /${prefix} is longer than 32, expected ${expected}`);
  }
  const given = parseIPv4(addressText, `address in CIDR "${text}"`);
  const network = ipaddr.IPv4.networkAddressFromCIDR(`${given.toString()}/${prefix}`);
  return { network, prefix, given };
}

function subnetOf(network: IPv4, prefix: number): Subnet {
  const broadcast = numberToIPv4(ipv4ToNumber(network) + 2 ** (32 - prefix) - 1);
  return { network, prefix, broadcast };
}

export function rangeToString(range: AddressRange): string {
  return `${range.first.toString()}-${range.last.toString()}`;
}

export function addressCount(range: AddressRange): number {
  return ipv4ToNumber(range.last) - ipv4ToNumber(range.first) + 1;
}

export function contains(range: AddressRange, ip: IPv4 | string): boolean {
  const n = ipv4ToNumber(toIPv4(ip));
  return ipv4ToNumber(range.first) <= n && n <= ipv4ToNumber(range.last);
}

/** True when `inner` lies entirely inside `outer`. */
export function containsRange(outer: AddressRange, inner: AddressRange): boolean {
  return contains(outer, inner.first) && contains(outer, inner.last);
}

export function overlaps(a: AddressRange, b: AddressRange): boolean {
  return ipv4ToNumber(a.first) <= ipv4ToNumber(b.last) && ipv4ToNumber(b.first) <= ipv4ToNumber(a.last);
}

/** Position of `ip` inside `subnet`: 192.168.2.20 in 192.168.2.0/24 is 20. */
export function hostOffset(subnet: Subnet, ip: IPv4 | string): number {
  const address = toIPv4(ip);
  if (!contains(subnetRange(subnet), address)) {
    throw new Error(`address ${address.toString()} is outside ${subnetToString(subnet)}, expected an address inside it`);
  }
  return ipv4ToNumber(address) - ipv4ToNumber(subnet.network);
}

/**
 * The usable host address at `offset`. The network and broadcast addresses are refused, except in
 * /31 and /32 where every address is usable (RFC 3021).
 */
export function addressAtOffset(subnet: Subnet, offset: number): IPv4 {
  const size = 2 ** (32 - subnet.prefix);
  const cidr = subnetToString(subnet);
  if (!Number.isInteger(offset) || offset < 0 || offset >= size) {
    throw new Error(`offset ${offset} is outside ${cidr}, expected an integer from 0 to ${size - 1}`);
  }
  if (subnet.prefix < 31 && (offset === 0 || offset === size - 1)) {
    const which = offset === 0 ? "network" : "broadcast";
    throw new Error(`offset ${offset} is the ${which} address of ${cidr}, expected a host offset from 1 to ${size - 2}`);
  }
  return numberToIPv4(ipv4ToNumber(subnet.network) + offset);
}

/** Every address of `range` in order; refuses ranges larger than `limit` at once instead of truncating. */
export function ipsInRange(range: AddressRange, limit = DEFAULT_ITERATION_LIMIT): Generator<IPv4> {
  const count = addressCount(range);
  if (count > limit) {
    throw new Error(`range ${rangeToString(range)} has ${count} addresses, expected at most ${limit} to iterate`);
  }
  return countFrom(ipv4ToNumber(range.first), count);
}

function* countFrom(first: number, count: number): Generator<IPv4> {
  for (let i = 0; i < count; i++) yield numberToIPv4(first + i);
}
