// Typed API clients for one cluster, built once from a kubeconfig; small queries shared by the
// suites. Helpers return values or throw; they never assert.
import * as k8s from "@kubernetes/client-node";

export interface KubeClients {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  objects: k8s.KubernetesObjectApi;
  apiext: k8s.ApiextensionsV1Api;
  admission: k8s.AdmissionregistrationV1Api;
  custom: k8s.CustomObjectsApi;
  discovery: k8s.DiscoveryV1Api;
  rbac: k8s.RbacAuthorizationV1Api;
}

export function kubeClients(kubeconfig: { path?: string; text?: string; context?: string }): KubeClients {
  const kc = new k8s.KubeConfig();
  if (kubeconfig.text !== undefined) kc.loadFromString(kubeconfig.text);
  else if (kubeconfig.path !== undefined) kc.loadFromFile(kubeconfig.path);
  else kc.loadFromDefault();
  if (kubeconfig.context) kc.setCurrentContext(kubeconfig.context);
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
    apiext: kc.makeApiClient(k8s.ApiextensionsV1Api),
    admission: kc.makeApiClient(k8s.AdmissionregistrationV1Api),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    discovery: kc.makeApiClient(k8s.DiscoveryV1Api),
    rbac: kc.makeApiClient(k8s.RbacAuthorizationV1Api),
  };
}

export function isNotFound(error: unknown): boolean {
  return (error as { code?: number }).code === 404;
}

/** When an event last happened (the newest of its timestamps that is set), in ms since the epoch. */
export function eventTime(e: k8s.CoreV1Event): number {
  return new Date(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? 0).getTime();
}

export function nodeIsReady(node: k8s.V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

export function nodeInternalIP(node: k8s.V1Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
}

/** Nodes a DaemonSet without special tolerations would land on: schedulable Linux nodes. */
export function isSchedulableLinux(node: k8s.V1Node): boolean {
  const linux = (node.metadata?.labels?.["kubernetes.io/os"] ?? "linux") === "linux";
  return linux && !node.spec?.unschedulable;
}

/** "k3s-master=Ready, k3s-worker-01=NotReady" — for progress lines and timeout messages. */
export function describeNodes(nodes: k8s.V1Node[]): string {
  if (nodes.length === 0) return "no nodes registered";
  return nodes.map((n) => `${n.metadata?.name}=${nodeIsReady(n) ? "Ready" : "NotReady"}`).join(", ");
}
