import { describe, expect, it } from "vitest";
import { findSamples, parseMetrics } from "./metrics.ts";

const TEXT = `# HELP metallb_allocator_addresses_total Number of usable IP addresses, per pool
# TYPE metallb_allocator_addresses_total gauge
metallb_allocator_addresses_total{pool="homelab-pool"} 21
metallb_allocator_addresses_in_use_total{pool="homelab-pool"} 2
metallb_speaker_announced{ip="172.28.2.100",node="k3s-worker-01",protocol="layer2",service="ns/web"} 1
go_goroutines 42
broken line {
`;

describe("parseMetrics", () => {
  it("reads samples with and without labels", () => {
    const samples = parseMetrics(TEXT);
    expect(samples).toHaveLength(4);
    expect(findSamples(samples, "go_goroutines")[0]?.value).toBe(42);
  });
  it("matches by label subset", () => {
    const samples = parseMetrics(TEXT);
    expect(findSamples(samples, "metallb_allocator_addresses_total", { pool: "homelab-pool" })[0]?.value).toBe(21);
    expect(findSamples(samples, "metallb_allocator_addresses_total", { pool: "other" })).toEqual([]);
    const announced = findSamples(samples, "metallb_speaker_announced", { ip: "172.28.2.100" });
    expect(announced[0]?.labels.node).toBe("k3s-worker-01");
  });
  it("unescapes label values", () => {
    expect(parseMetrics('m{a="x\\"y"} 1')[0]?.labels.a).toBe('x"y');
  });
});
