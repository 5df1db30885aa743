// Test workloads, labelled with the run id so a sweep can find them. Create-helpers return the
// created object; readiness is awaited by the caller with its own deadline.
import type * as k8s from "@kubernetes/client-node";
import type { KubeClients } from "./kube.ts";

export const RUN_ID_LABEL = "metallb-conformance/run-id";
export const MANAGED_BY = { "app.kubernetes.io/managed-by": "metallb-conformance" };

export function runLabelsK8s(runId: string): Record<string, string> {
  return { ...MANAGED_BY, [RUN_ID_LABEL]: runId };
}

/** nginx on :80, Ready once it serves "/" (probed every second), or once it runs. */
function nginxContainer(image: string, readyWhen: ReadyWhen = "serving"): k8s.V1Container {
  return {
    name: "nginx",
    image,
    imagePullPolicy: "IfNotPresent",
    ports: [{ containerPort: 80 }],
    readinessProbe: readyWhen === "serving" ? { httpGet: { path: "/", port: 80 }, periodSeconds: 1 } : undefined,
  };
}

/** "serving": Ready once GET / answers on :80; "running": Ready once the container runs. */
export type ReadyWhen = "serving" | "running";

export async function createRunNamespace(kube: KubeClients, name: string, runId: string): Promise<k8s.V1Namespace> {
  // The live target's segment probe is a hostNetwork pod: allowed in this namespace only.
  const labels = { ...runLabelsK8s(runId), "pod-security.kubernetes.io/enforce": "privileged" };
  return kube.core.createNamespace({ body: { metadata: { name, labels } } });
}

export interface WebDaemonSetOptions {
  namespace: string;
  name: string;
  runId: string;
  nginxImage: string;
  probeImage: string;
}

/** nginx on :80 plus a probe sidecar (curl, arping) on every node, tolerating any taint. */
export async function createWebDaemonSet(kube: KubeClients, o: WebDaemonSetOptions): Promise<k8s.V1DaemonSet> {
  const labels = { app: o.name, ...runLabelsK8s(o.runId) };
  return kube.apps.createNamespacedDaemonSet({
    namespace: o.namespace,
    body: {
      metadata: { name: o.name, labels },
      spec: {
        selector: { matchLabels: { app: o.name } },
        template: {
          metadata: { labels },
          spec: {
            tolerations: [{ operator: "Exists" }],
            terminationGracePeriodSeconds: 1,
            containers: [
              nginxContainer(o.nginxImage),
              { name: "probe", image: o.probeImage, imagePullPolicy: "IfNotPresent", command: ["sleep", "infinity"] },
            ],
          },
        },
      },
    },
  });
}

export async function createClusterIPService(
  kube: KubeClients,
  namespace: string,
  name: string,
  runId: string,
): Promise<k8s.V1Service> {
  return kube.core.createNamespacedService({
    namespace,
    body: {
      metadata: { name, labels: runLabelsK8s(runId) },
      spec: { type: "ClusterIP", selector: { app: name }, ports: [{ port: 80, targetPort: 80 }] },
    },
  });
}

export interface NginxDeploymentOptions {
  namespace: string;
  name: string;
  runId: string;
  image: string;
  /** default 1 */
  replicas?: number;
  /** e.g. { "kubernetes.io/hostname": "k3s-worker-01" }: run only there */
  nodeSelector?: Record<string, string>;
  /** at most one replica per node (required pod anti-affinity on the hostname) */
  onePerNode?: boolean;
  /** default "serving" */
  readyWhen?: ReadyWhen;
}

/** An nginx Deployment (one replica unless told) serving the stock welcome page on :80. */
export async function createNginxDeployment(kube: KubeClients, o: NginxDeploymentOptions): Promise<k8s.V1Deployment> {
  const labels = { app: o.name, ...runLabelsK8s(o.runId) };
  const affinity: k8s.V1Affinity | undefined = o.onePerNode
    ? {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { app: o.name } }, topologyKey: "kubernetes.io/hostname" },
          ],
        },
      }
    : undefined;
  return kube.apps.createNamespacedDeployment({
    namespace: o.namespace,
    body: {
      metadata: { name: o.name, labels },
      spec: {
        replicas: o.replicas ?? 1,
        selector: { matchLabels: { app: o.name } },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 1,
            nodeSelector: o.nodeSelector,
            affinity,
            containers: [nginxContainer(o.image, o.readyWhen)],
          },
        },
      },
    },
  });
}

export const REQUESTED_IPS_ANNOTATION = "metallb.universe.tf/loadBalancerIPs";

/** A `type: LoadBalancer` Service on :80 for the pods labelled app=<selector>; optionally asking
 * MetalLB for a specific address, optionally with another externalTrafficPolicy. */
export async function createLoadBalancerService(
  kube: KubeClients,
  o: {
    namespace: string;
    name: string;
    runId: string;
    selector: string;
    requestedIP?: string;
    /** Kubernetes' default (Cluster) when absent */
    externalTrafficPolicy?: "Cluster" | "Local";
  },
): Promise<k8s.V1Service> {
  return kube.core.createNamespacedService({
    namespace: o.namespace,
    body: {
      metadata: {
        name: o.name,
        labels: runLabelsK8s(o.runId),
        annotations: o.requestedIP ? { [REQUESTED_IPS_ANNOTATION]: o.requestedIP } : undefined,
      },
      spec: {
        type: "LoadBalancer",
        selector: { app: o.selector },
        ports: [{ name: "http", port: 80, targetPort: 80 }],
        externalTrafficPolicy: o.externalTrafficPolicy,
      },
    },
  });
}
