// Helm releases read from the cluster itself (Helm 3 keeps each revision in a Secret labelled
// owner=helm), so verify-only runs need neither the helm CLI nor write access.
import { gunzipSync } from "node:zlib";
import type { KubeClients } from "./kube.ts";

export interface ReleaseInfo {
  name: string;
  namespace: string;
  revision: number;
  status: string;
  chartName: string;
  chartVersion: string;
  appVersion?: string;
}

interface ReleasePayload {
  name: string;
  namespace: string;
  version: number;
  info?: { status?: string };
  chart?: { metadata?: { name?: string; version?: string; appVersion?: string } };
}

export function decodeReleaseSecret(data: string): ReleasePayload {
  // Secret data is base64 (Kubernetes) of base64 (Helm) of gzip(JSON).
  const helmEncoded = Buffer.from(data, "base64").toString("utf8");
  const gz = Buffer.from(helmEncoded, "base64");
  const json = gz[0] === 0x1f && gz[1] === 0x8b ? gunzipSync(gz).toString("utf8") : gz.toString("utf8");
  return JSON.parse(json) as ReleasePayload;
}

/** The latest revision of every Helm release of `chartName` in `namespace` (read there only: a
 * nightly identity should not need to list Secrets cluster-wide). */
export async function findReleasesOfChart(kube: KubeClients, namespace: string, chartName: string): Promise<ReleaseInfo[]> {
  const { items } = await kube.core.listNamespacedSecret({ namespace, labelSelector: "owner=helm" });
  const latest = new Map<string, ReleaseInfo>();
  for (const secret of items) {
    const data = secret.data?.release;
    if (!data) continue;
    const r = decodeReleaseSecret(data);
    if (r.chart?.metadata?.name !== chartName) continue;
    const info: ReleaseInfo = {
      name: r.name,
      namespace: r.namespace,
      revision: r.version,
      status: r.info?.status ?? "unknown",
      chartName,
      chartVersion: r.chart.metadata.version ?? "unknown",
      appVersion: r.chart.metadata.appVersion,
    };
    const key = `${info.namespace}/${info.name}`;
    if ((latest.get(key)?.revision ?? -1) < info.revision) latest.set(key, info);
  }
  return [...latest.values()];
}
