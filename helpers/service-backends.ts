// What stands behind a Service: its ready endpoints (EndpointSlices, what kube-proxy and MetalLB's
// speakers go by) and, when there are none, why its pods are not ready. For failure messages: a
// Service with an IP that does not answer HTTP is a backend problem, not a load-balancer one.
import type * as k8s from "@kubernetes/client-node";
import { eventTime, type KubeClients } from "./kube.ts";

export interface ServiceBackends {
  readyEndpoints: number;
  /** one line: "2 ready endpoints" or "no ready endpoints: pod x on node (Running, not Ready: ...)" */
  summary: string;
}

const MAX_PODS_DESCRIBED = 3;

export async function serviceBackends(kube: KubeClients, namespace: string, name: string): Promise<ServiceBackends> {
  const { items: slices } = await kube.discovery.listNamespacedEndpointSlice({
    namespace,
    labelSelector: `kubernetes.io/service-name=${name}`,
  });
  const endpoints = slices.flatMap((s) => s.endpoints ?? []);
  const readyEndpoints = endpoints.filter((e) => e.conditions?.ready !== false).length;
  if (readyEndpoints > 0) return { readyEndpoints, summary: `${readyEndpoints} ready endpoint${readyEndpoints > 1 ? "s" : ""}` };

  const svc = await kube.core.readNamespacedService({ namespace, name });
  const selector = Object.entries(svc.spec?.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  if (!selector) return { readyEndpoints, summary: "no ready endpoints: the Service has no selector" };
  const { items: pods } = await kube.core.listNamespacedPod({ namespace, labelSelector: selector });
  if (pods.length === 0) return { readyEndpoints, summary: `no ready endpoints: no pod matches ${selector}` };
  const described = await Promise.all(pods.slice(0, MAX_PODS_DESCRIBED).map((p) => describePod(kube, p)));
  const more = pods.length > MAX_PODS_DESCRIBED ? `; ${pods.length - MAX_PODS_DESCRIBED} more` : "";
  return { readyEndpoints, summary: `no ready endpoints: ${described.join("; ")}${more}` };
}

/** "pod ac4-nginx-6d9f on k3s-worker-01 (Running, not Ready: Readiness probe failed: ...)" */
async function describePod(kube: KubeClients, pod: k8s.V1Pod): Promise<string> {
  const name = pod.metadata?.name ?? "?";
  const where = pod.spec?.nodeName ? ` on ${pod.spec.nodeName}` : " (not scheduled)";
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
  const waiting = (pod.status?.containerStatuses ?? []).map((c) => c.state?.waiting).find((w) => w?.reason);
  let why = waiting ? `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}` : "";
  if (!why) {
    const { items } = await kube.core.listNamespacedEvent({
      namespace: pod.metadata?.namespace ?? "",
      fieldSelector: `involvedObject.name=${name}`,
    });
    const last = items
      .filter((e) => e.type === "Warning")
      .sort((a, b) => eventTime(a) - eventTime(b))
      .pop();
    why = last ? `${last.reason}: ${last.message?.trim()}` : "";
  }
  return `pod ${name}${where} (${pod.status?.phase ?? "Unknown"}, ${ready ? "Ready" : "not Ready"}${why ? `: ${why}` : ""})`;
}
