import { describe, expect, it } from "vitest";
import { l2ElectionOrder, predictedL2Announcer } from "./l2-election.ts";

const NODES = ["k3s-master", "k3s-worker-01", "k3s-worker-02"];

describe("l2ElectionOrder", () => {
  // Reference orders computed with MetalLB 0.15.3's own sort (sha256 of "node#ip", bytes.Compare) in Go.
  it.each([
    ["192.168.2.101", ["k3s-master", "k3s-worker-02", "k3s-worker-01"]],
    ["192.168.2.105", ["k3s-worker-02", "k3s-master", "k3s-worker-01"]],
    ["192.168.2.110", ["k3s-worker-02", "k3s-worker-01", "k3s-master"]],
    ["172.28.5.100", ["k3s-worker-01", "k3s-master", "k3s-worker-02"]],
    ["172.28.5.101", ["k3s-worker-02", "k3s-master", "k3s-worker-01"]],
    ["172.28.5.102", ["k3s-master", "k3s-worker-01", "k3s-worker-02"]],
  ])("orders the nodes for %s as MetalLB does", (ip, expected) => {
    expect(l2ElectionOrder(NODES, ip)).toEqual(expected);
  });

  it("does not depend on the order or repetition of the candidates", () => {
    expect(l2ElectionOrder(["k3s-worker-02", "k3s-master", "k3s-worker-01", "k3s-master"], "192.168.2.101")).toEqual(
      l2ElectionOrder(NODES, "192.168.2.101"),
    );
  });

  it("elects among the remaining candidates when the winner is gone", () => {
    expect(predictedL2Announcer(["k3s-worker-01", "k3s-worker-02"], "172.28.5.102")).toBe("k3s-worker-01");
  });

  it("elects nobody without candidates", () => {
    expect(predictedL2Announcer([], "192.168.2.101")).toBeUndefined();
  });
});
