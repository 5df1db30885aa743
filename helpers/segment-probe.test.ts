import { describe, expect, it } from "vitest";
import { interfaceHolding } from "./segment-probe.ts";

const IP_ADDR = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0@if31    inet 172.28.5.21/24 brd 172.28.5.255 scope global eth0\\       valid_lft forever preferred_lft forever
4: flannel.1    inet 10.42.1.0/32 scope global flannel.1\\       valid_lft forever preferred_lft forever
5: cni0    inet 10.42.1.1/24 brd 10.42.1.255 scope global cni0\\       valid_lft forever preferred_lft forever`;

describe("interfaceHolding", () => {
  it("finds the interface that holds the node's InternalIP, without the @peer suffix", () => {
    expect(interfaceHolding(IP_ADDR, "172.28.5.21")).toBe("eth0");
    expect(interfaceHolding(IP_ADDR, "10.42.1.1")).toBe("cni0");
  });
  it("does not match a prefix of another address", () => {
    expect(interfaceHolding(IP_ADDR, "172.28.5.2")).toBeUndefined();
  });
});
