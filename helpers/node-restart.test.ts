import type * as k8s from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { nodeNotBackReason, podRunningSince } from "./node-restart.ts";

const since = new Date("2026-11-23T10:00:00.400Z");
const readyNode = (ready: boolean): k8s.V1Node => ({
  metadata: { name: "k3s-worker-01" },
  status: { conditions: [{ type: "Ready", status: ready ? "True" : "Unknown" }] },
});
const lease = (renewTime: string): k8s.V1Lease => ({ spec: { renewTime: new Date(renewTime) } });

describe("nodeNotBackReason", () => {
  it("is satisfied by a Ready node whose kubelet renewed its lease after the restart", () => {
    expect(nodeNotBackReason(readyNode(true), lease("2026-11-23T10:00:03.120Z"), since)).toBeUndefined();
  });
  it("does not trust a Ready condition from before the stop", () => {
    expect(nodeNotBackReason(readyNode(true), lease("2026-11-23T09:59:58.000Z"), since)).toMatch(/before the restart/);
  });
  it("says what is missing", () => {
    expect(nodeNotBackReason(undefined, undefined, since)).toBe("node not registered");
    expect(nodeNotBackReason(readyNode(false), lease("2026-11-23T10:00:03Z"), since)).toBe("node not Ready");
    expect(nodeNotBackReason(readyNode(true), undefined, since)).toBe("kubelet lease never renewed");
  });
});

describe("podRunningSince", () => {
  const pod = (startedAt: string[], ready = true): k8s.V1Pod => ({
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      containerStatuses: startedAt.map((t, i) => ({
        name: `c${i}`,
        image: "i",
        imageID: "",
        ready,
        restartCount: 0,
        state: { running: { startedAt: new Date(t) } },
      })),
    },
  });
  it("accepts a Ready pod whose containers all started since (whole seconds, as Kubernetes writes them)", () => {
    expect(podRunningSince(pod(["2026-11-23T10:00:00Z", "2026-11-23T10:00:05Z"]), since)).toBe(true);
  });
  it("rejects a container still from before, a pod not Ready, or one without containers", () => {
    expect(podRunningSince(pod(["2026-11-23T09:59:59Z", "2026-11-23T10:00:05Z"]), since)).toBe(false);
    expect(podRunningSince(pod(["2026-11-23T10:00:05Z"], false), since)).toBe(false);
    expect(podRunningSince(pod([]), since)).toBe(false);
  });
});
