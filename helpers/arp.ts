// ARP from "another device on the segment": iputils' arping in the probe, and its answer parsed.
import type { Executor } from "./exec.ts";

/** MAC addresses that answered, from iputils-arping output ("Unicast reply from IP [MAC]"). */
export function parseArpingReplies(output: string, ip: string): string[] {
  const macs = new Set<string>();
  const escaped = ip.replace(/\./g, "\\.");
  for (const m of output.matchAll(new RegExp(`reply from ${escaped} \\[([0-9A-Fa-f:]{17})\\]`, "g")))
    macs.add(m[1]!.toLowerCase());
  return [...macs];
}

/** Sends `count` ARP requests for `ip` out of `iface` and returns the MACs that answered. */
export async function arpWhoHas(
  probe: Executor,
  ip: string,
  { iface = "eth0", count = 3, timeoutS = 5 } = {},
): Promise<string[]> {
  const r = await probe.exec(["arping", "-c", String(count), "-w", String(timeoutS), "-I", iface, ip], (timeoutS + 10) * 1000);
  return parseArpingReplies(r.stdout, ip);
}
