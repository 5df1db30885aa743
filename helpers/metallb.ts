// Read-only queries about a MetalLB installation: where it runs, its pools, advertisements,
// L2 status (metrics: metallb-metrics.ts). Nothing here changes the cluster.
import type * as k8s from "@kubernetes/client-node";
import { isNotFound, type KubeClients } from "./kube.ts";

export const METALLB_GROUP = "metallb.io";
export const METALLB_VERSION = "v1beta1";
export const CONTROLLER_SELECTOR = "app.kubernetes.io/component=controller,app.kubernetes.io/name=metallb";
export const SPEAKER_SELECTOR = "app.kubernetes.io/component=speaker,app.kubernetes.io/name=metallb";

export interface MetallbObject {
  metadata: k8s.V1ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** The namespace MetalLB is installed in: where its controller Deployment is (also when scaled
 * to 0), else where its speaker DaemonSet is; undefined when neither exists. */
export async function discoverMetallbNamespace(kube: KubeClients): Promise<string | undefined> {
  const sources = [
    async () => (await kube.apps.listDeploymentForAllNamespaces({ labelSelector: CONTROLLER_SELECTOR })).items,
    async () => (await kube.apps.listDaemonSetForAllNamespaces({ labelSelector: SPEAKER_SELECTOR })).items,
  ];
  for (const list of sources) {
    const namespaces = [...new Set((await list()).map((o) => o.metadata?.namespace).filter((n): n is string => !!n))];
    if (namespaces.length > 1) throw new Error(`MetalLB is installed in several namespaces: ${namespaces.join(", ")}`);
    if (namespaces[0]) return namespaces[0];
  }
  return undefined;
}

export async function listMetallb(kube: KubeClients, plural: string, namespace?: string): Promise<MetallbObject[]> {
  const response = namespace
    ? await kube.custom.listNamespacedCustomObject({ group: METALLB_GROUP, version: METALLB_VERSION, namespace, plural })
    : await kube.custom.listClusterCustomObject({ group: METALLB_GROUP, version: METALLB_VERSION, plural });
  return (response as { items: MetallbObject[] }).items;
}

export async function readMetallb(
  kube: KubeClients,
  plural: string,
  namespace: string,
  name: string,
): Promise<MetallbObject | undefined> {
  try {
    return (await kube.custom.getNamespacedCustomObject({
      group: METALLB_GROUP,
      version: METALLB_VERSION,
      namespace,
      plural,
      name,
    })) as MetallbObject;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Does an L2Advertisement select a pool (by name, by label selector, or — with neither — all pools)? */
export function advertisementSelectsPool(adv: MetallbObject, pool: MetallbObject): boolean {
  const names = (adv.spec?.ipAddressPools as string[] | undefined) ?? [];
  const selectors = (adv.spec?.ipAddressPoolSelectors as k8s.V1LabelSelector[] | undefined) ?? [];
  if (names.length === 0 && selectors.length === 0) return true;
  if (names.includes(pool.metadata.name ?? "")) return true;
  const labels = pool.metadata.labels ?? {};
  return selectors.some((s) => selectorMatches(s, labels));
}

function selectorMatches(selector: k8s.V1LabelSelector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpr = (selector.matchExpressions ?? []).every((e) => {
    const has = e.key in labels;
    const value = labels[e.key];
    switch (e.operator) {
      case "In":
        return has && (e.values ?? []).includes(value!);
      case "NotIn":
        return !has || !(e.values ?? []).includes(value!);
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
      default:
        return false;
    }
  });
  return byLabel && byExpr;
}

/** The ServiceL2Status MetalLB keeps for a Service (which node announces it), if any. */
export async function serviceL2Status(kube: KubeClients, metallbNamespace: string, service: { namespace: string; name: string }) {
  const statuses = await listMetallb(kube, "servicel2statuses", metallbNamespace);
  return statuses.find((s) => s.status?.serviceName === service.name && s.status?.serviceNamespace === service.namespace);
}

/** Scrapes a MetalLB pod's metrics through the API server's pod proxy. */
export async function metallbPods(kube: KubeClients, namespace: string, selector: string): Promise<k8s.V1Pod[]> {
  return (await kube.core.listNamespacedPod({ namespace, labelSelector: selector })).items;
}

export function podIsReady(pod: k8s.V1Pod): boolean {
  return (
    pod.status?.phase === "Running" && (pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false)
  );
}
