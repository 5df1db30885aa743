import { describe, expect, it } from "vitest";
import { metricsEndpointOf } from "./metallb-metrics.ts";

const pod = (ports: { name?: string; containerPort: number }[]) => ({ spec: { containers: [{ name: "c", ports }] } });

describe("metricsEndpointOf", () => {
  it("reads MetalLB 0.15's plain HTTP port", () => {
    expect(
      metricsEndpointOf(
        pod([
          { name: "monitoring", containerPort: 7472 },
          { name: "memberlist-tcp", containerPort: 7946 },
        ]),
      ),
    ).toEqual({
      scheme: "http",
      port: 7472,
    });
  });
  it("reads MetalLB 0.16's HTTPS port, wherever the chart puts it", () => {
    expect(metricsEndpointOf(pod([{ name: "metricshttps", containerPort: 9120 }]))).toEqual({ scheme: "https", port: 9120 });
    expect(metricsEndpointOf(pod([{ name: "metricshttps", containerPort: 9999 }]))).toEqual({ scheme: "https", port: 9999 });
  });
  it("falls back to 7472 over HTTP for a pod that declares neither", () => {
    expect(metricsEndpointOf({ spec: { containers: [] } })).toEqual({ scheme: "http", port: 7472 });
  });
});
