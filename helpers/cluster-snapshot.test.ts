import { describe, expect, it } from "vitest";
import { diffSnapshots, type RecordedObject } from "./cluster-snapshot.ts";

const snap = (entries: Record<string, RecordedObject>) => new Map(Object.entries(entries));

describe("diffSnapshots", () => {
  const before = snap({
    "Node k3s-master": { resourceVersion: "10", specHash: "a" },
    "IPAddressPool metallb-system/homelab-pool": { resourceVersion: "11", specHash: "b" },
    "Secret(helm) metallb-system/sh.helm.release.v1.metallb.v1": { resourceVersion: "12", specHash: "c" },
    "Namespace kube-system": { resourceVersion: "13", specHash: "d" },
  });

  it("finds nothing when every resourceVersion is the same", () => {
    expect(diffSnapshots(before, before)).toEqual({ changed: [], statusOnly: [], removed: [], added: [] });
  });

  it("tells a write (spec, labels, annotations) from a status-only update", () => {
    const after = new Map(before);
    after.set("Node k3s-master", { resourceVersion: "20", specHash: "a" });
    after.set("IPAddressPool metallb-system/homelab-pool", { resourceVersion: "21", specHash: "b2" });
    const diff = diffSnapshots(before, after);
    expect(diff.statusOnly).toEqual(["Node k3s-master"]);
    expect(diff.changed).toEqual(["IPAddressPool metallb-system/homelab-pool"]);
  });

  it("reports removed and added objects", () => {
    const after = new Map(before);
    after.delete("Secret(helm) metallb-system/sh.helm.release.v1.metallb.v1");
    after.set("Namespace metallb-conformance-x", { resourceVersion: "30", specHash: "e" });
    const diff = diffSnapshots(before, after);
    expect(diff.removed).toEqual(["Secret(helm) metallb-system/sh.helm.release.v1.metallb.v1"]);
    expect(diff.added).toEqual(["Namespace metallb-conformance-x"]);
  });
});
