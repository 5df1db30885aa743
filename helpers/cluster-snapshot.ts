// What a verify-only run must leave untouched: every MetalLB object (all metallb.io kinds, and
// the Deployments, DaemonSets, Secrets, ConfigMaps, Services and ServiceAccounts of its
// namespace), every Helm release secret, every node and every namespace, recorded by
// resourceVersion and compared after the run.
import { createHash } from "node:crypto";
import type { KubeClients } from "./kube.ts";

export interface RecordedObject {
  readonly resourceVersion: string;
  /** hash of the object without status, resourceVersion and managedFields */
  readonly specHash: string;
}

/** "kind namespace/name" -> what was recorded */
export type Snapshot = ReadonlyMap<string, RecordedObject>;

type K8sObject = { metadata?: { name?: string; namespace?: string; resourceVersion?: string; managedFields?: unknown } };

function record(objects: readonly K8sObject[], kind: string, into: Map<string, RecordedObject>): void {
  for (const o of objects) {
    const { resourceVersion, managedFields: _managed, ...metadata } = o.metadata ?? {};
    const { status: _status, ...rest } = o as K8sObject & { status?: unknown };
    const specHash = createHash("sha256")
      .update(JSON.stringify({ ...rest, metadata }))
      .digest("hex");
    const where = metadata.namespace ? `${metadata.namespace}/${metadata.name}` : `${metadata.name}`;
    into.set(`${kind} ${where}`, { resourceVersion: resourceVersion ?? "", specHash });
  }
}

export async function snapshotProtectedObjects(kube: KubeClients, metallbNamespace: string): Promise<Snapshot> {
  const out = new Map<string, RecordedObject>();
  record((await kube.core.listNamespace()).items, "Namespace", out);
  record((await kube.core.listNode()).items, "Node", out);
  record((await kube.core.listSecretForAllNamespaces({ labelSelector: "owner=helm" })).items, "Secret(helm)", out);
  const ns = { namespace: metallbNamespace };
  record((await kube.apps.listNamespacedDeployment(ns)).items, "Deployment", out);
  record((await kube.apps.listNamespacedDaemonSet(ns)).items, "DaemonSet", out);
  record((await kube.core.listNamespacedSecret(ns)).items, "Secret", out);
  record((await kube.core.listNamespacedConfigMap(ns)).items, "ConfigMap", out);
  record((await kube.core.listNamespacedService(ns)).items, "Service", out);
  record((await kube.core.listNamespacedServiceAccount(ns)).items, "ServiceAccount", out);
  const crds = (await kube.apiext.listCustomResourceDefinition()).items.filter((c) => c.spec.group === "metallb.io");
  record(crds, "CustomResourceDefinition", out);
  for (const crd of crds) {
    const version = crd.spec.versions.find((v) => v.storage)?.name ?? crd.spec.versions[0]!.name;
    const list = (await kube.custom.listClusterCustomObject({
      group: "metallb.io",
      version,
      plural: crd.spec.names.plural,
    })) as { items: K8sObject[] };
    record(list.items, crd.spec.names.kind, out);
  }
  return out;
}

export interface SnapshotDiff {
  /** spec, labels, annotations or anything but status changed: a write */
  changed: string[];
  /** only status changed (written by the object's own controller, e.g. the kubelet or MetalLB) */
  statusOnly: string[];
  removed: string[];
  added: string[];
}

export function diffSnapshots(before: Snapshot, after: Snapshot): SnapshotDiff {
  const diff: SnapshotDiff = { changed: [], statusOnly: [], removed: [], added: [] };
  for (const [key, was] of before) {
    const now = after.get(key);
    if (!now) diff.removed.push(key);
    else if (now.resourceVersion !== was.resourceVersion)
      (now.specHash === was.specHash ? diff.statusOnly : diff.changed).push(key);
  }
  for (const key of after.keys()) if (!before.has(key)) diff.added.push(key);
  return diff;
}
