// Which node MetalLB's Layer-2 mode elects to announce an address. MetalLB 0.15.3
// (speaker/layer2_controller.go, ShouldAnnounce) sorts the candidate nodes — every node whose
// speaker is in the memberlist, or, with externalTrafficPolicy Local, only those with a ready
// endpoint — by sha256("<node>#<first IP>") and the first one announces. The choice depends on
// the IP and the candidates, not on the Service's name. The suites use this only to choose
// addresses or nodes up front; what MetalLB actually did is always read from ServiceL2Status.
import { createHash } from "node:crypto";

/** The candidates in MetalLB's election order for `ip` (the winner first). */
export function l2ElectionOrder(candidates: readonly string[], ip: string): string[] {
  const key = (node: string) => createHash("sha256").update(`${node}#${ip}`).digest();
  return [...new Set(candidates)]
    .map((node) => ({ node, hash: key(node) }))
    .sort((a, b) => Buffer.compare(a.hash, b.hash))
    .map((c) => c.node);
}

/** The node MetalLB would elect to announce `ip` among `candidates`; undefined without any. */
export function predictedL2Announcer(candidates: readonly string[], ip: string): string | undefined {
  return l2ElectionOrder(candidates, ip)[0];
}
