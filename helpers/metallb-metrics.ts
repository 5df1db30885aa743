// Reading a MetalLB pod's Prometheus metrics, whichever way its version serves them:
// - up to 0.15: plain HTTP on the port named "monitoring" (7472), read through the API server's
//   pods/proxy;
// - from 0.16: HTTPS on the port named "metricshttps" (9120) behind controller-runtime's
//   authentication and authorization: only a bearer token whose user may `get` the non-resource
//   URL /metrics is answered. The API server's proxy drops the caller's credentials, so the
//   request goes through a port-forward (pods/portforward) with the token in its own header.
// Helpers return values or throw; they never assert.
import { request } from "node:https";
import { createServer, type AddressInfo, type Server } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { isNotFound, type KubeClients } from "./kube.ts";
import { parseMetrics, type Sample } from "./metrics.ts";
import { runLabelsK8s } from "./workloads.ts";

export const HTTP_METRICS_PORT = { name: "monitoring", port: 7472 };
export const HTTPS_METRICS_PORT_NAME = "metricshttps";
const REQUEST_TIMEOUT_MS = 10_000;

export interface MetricsEndpoint {
  scheme: "http" | "https";
  port: number;
}

/** How the run may read HTTPS metrics: a bearer token, or why there is none. */
export interface MetricsAccess {
  bearerToken?: string;
  /** shown when HTTPS metrics cannot be read for want of a token */
  noTokenReason?: string;
}

/** The metrics cannot be read here (not a failure of MetalLB): the check is "not verifiable". */
export class MetricsNotReadable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MetricsNotReadable";
  }
}

/** Where a MetalLB pod serves its metrics, from its declared container ports. */
export function metricsEndpointOf(pod: k8s.V1Pod): MetricsEndpoint {
  const ports = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  const https = ports.find((p) => p.name === HTTPS_METRICS_PORT_NAME);
  if (https) return { scheme: "https", port: https.containerPort };
  const http = ports.find((p) => p.name === HTTP_METRICS_PORT.name);
  return { scheme: "http", port: http?.containerPort ?? HTTP_METRICS_PORT.port };
}

export async function podMetrics(
  kube: KubeClients,
  namespace: string,
  podName: string,
  access: MetricsAccess = {},
): Promise<Sample[]> {
  const pod = await kube.core.readNamespacedPod({ namespace, name: podName });
  const endpoint = metricsEndpointOf(pod);
  if (endpoint.scheme === "http") {
    const text = await kube.core.connectGetNamespacedPodProxyWithPath({
      namespace,
      name: `${podName}:${endpoint.port}`,
      path: "metrics",
    });
    return parseMetrics(String(text));
  }
  if (!access.bearerToken)
    throw new MetricsNotReadable(
      `pod ${namespace}/${podName} serves its metrics over HTTPS (port ${HTTPS_METRICS_PORT_NAME} ${endpoint.port}) only to callers whose token may get /metrics; ${access.noTokenReason ?? "this run has no token"}`,
    );
  return parseMetrics(await viaPortForward(kube.kc, namespace, podName, endpoint.port, access.bearerToken));
}

/** GET https://POD:PORT/metrics with the token, through a port-forward on a loopback port. */
async function viaPortForward(kc: k8s.KubeConfig, namespace: string, pod: string, port: number, token: string): Promise<string> {
  const forward = new k8s.PortForward(kc);
  const failures: string[] = [];
  const server: Server = createServer((socket) => {
    forward.portForward(namespace, pod, [port], socket, null, socket).catch((error: unknown) => {
      failures.push(error instanceof Error ? error.message : String((error as { message?: unknown }).message ?? error));
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => server.listen(0, "127.0.0.1", resolve).once("error", reject));
  const local = (server.address() as AddressInfo).port;
  try {
    return await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: local,
          path: "/metrics",
          headers: { Authorization: `Bearer ${token}` },
          // MetalLB's certificate is self-signed by default; the port-forward, authenticated by the
          // API server, is what says this is the pod.
          rejectUnauthorized: false,
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const body = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode === 200) resolve(body);
            else
              reject(
                new Error(
                  `HTTP ${res.statusCode} from https://${pod}:${port}/metrics: ${body.trim().slice(0, 200)}${hint(res.statusCode)}`,
                ),
              );
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on("error", (error) =>
        reject(new Error(`port-forward to ${namespace}/${pod}:${port}: ${failures[0] ?? error.message}`)),
      );
      req.end();
    });
  } finally {
    server.close();
  }
}

function hint(status: number | undefined): string {
  if (status === 401) return " (the token was not accepted)";
  if (status === 403) return ' (the token\'s user may not "get" the non-resource URL /metrics)';
  return "";
}

/** The ClusterRole and ClusterRoleBinding of a run's metrics reader (cluster-scoped). */
export const metricsReaderName = (runId: string) => `metallb-conformance-${runId}-metrics-reader`;

/**
 * Install mode only (the run owns the cluster): a ServiceAccount in the run's namespace, allowed
 * to `get` /metrics by a ClusterRole and ClusterRoleBinding labelled with the run id, and a
 * one-hour token for it. revokeMetricsReader removes the cluster-scoped pair.
 */
export async function grantMetricsReader(kube: KubeClients, namespace: string, runId: string): Promise<MetricsAccess> {
  const name = metricsReaderName(runId);
  const labels = runLabelsK8s(runId);
  await kube.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "metrics-reader", labels } } });
  await kube.rbac.createClusterRole({
    body: { metadata: { name, labels }, rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }] },
  });
  await kube.rbac.createClusterRoleBinding({
    body: {
      metadata: { name, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name: "metrics-reader", namespace }],
    },
  });
  const request = await kube.core.createNamespacedServiceAccountToken({
    namespace,
    name: "metrics-reader",
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const bearerToken = request.status?.token;
  if (!bearerToken) throw new Error(`no token issued for ServiceAccount ${namespace}/metrics-reader`);
  return { bearerToken };
}

export async function revokeMetricsReader(kube: KubeClients, runId: string): Promise<void> {
  const name = metricsReaderName(runId);
  await kube.rbac.deleteClusterRoleBinding({ name }).catch((e: unknown) => ignoreNotFound(e));
  await kube.rbac.deleteClusterRole({ name }).catch((e: unknown) => ignoreNotFound(e));
}

function ignoreNotFound(error: unknown): void {
  if (!isNotFound(error)) throw error;
}

/** Verify-only: the kubeconfig user's own bearer token (a static token or a credential plugin's),
 * or why there is none. Never printed. */
export async function kubeconfigMetricsAccess(kc: k8s.KubeConfig): Promise<MetricsAccess> {
  const options: { headers?: Record<string, string> } = {};
  await kc.applyToHTTPSOptions(options);
  const header = options.headers?.Authorization ?? options.headers?.authorization;
  const bearerToken = header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : undefined;
  if (bearerToken) return { bearerToken };
  const user = kc.getCurrentUser()?.name ?? "(none)";
  return {
    noTokenReason: `the kubeconfig's user ${user} signs in without a token (a client certificate?): use a ServiceAccount token allowed to get /metrics`,
  };
}
