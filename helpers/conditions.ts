// Named conditions on top of waitFor: each probe reads the cluster and says what it saw.
import type * as k8s from "@kubernetes/client-node";
import { eventTime, isNotFound, type KubeClients } from "./kube.ts";
import { arpWhoHas } from "./arp.ts";
import type { Executor } from "./exec.ts";
import { httpGet, type HttpResult } from "./http.ts";
import { done, notYet, waitFor, type Observation } from "./wait.ts";

export function deploymentAvailable(kube: KubeClients, namespace: string, name: string) {
  return async (): Promise<Observation<k8s.V1Deployment>> => {
    const d = await kube.apps.readNamespacedDeployment({ namespace, name });
    const available = d.status?.conditions?.find((c) => c.type === "Available");
    const want = d.spec?.replicas ?? 1;
    const ready = d.status?.readyReplicas ?? 0;
    if (available?.status === "True" && ready >= want && want > 0) return done(d);
    return notYet(
      `${ready}/${want} ready, Available=${available?.status ?? "unknown"}${available?.message ? ` (${available.message})` : ""}`,
    );
  };
}

export function daemonSetReady(kube: KubeClients, namespace: string, name: string, expected: number) {
  return async (): Promise<Observation<k8s.V1DaemonSet>> => {
    const ds = await kube.apps.readNamespacedDaemonSet({ namespace, name });
    const s = ds.status;
    const ready = s?.numberReady ?? 0;
    const desired = s?.desiredNumberScheduled ?? 0;
    const current = (s?.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 0);
    if (current && desired === expected && ready === expected && (s?.updatedNumberScheduled ?? 0) === expected) return done(ds);
    return notYet(`${ready}/${desired} ready (want ${expected} nodes)`);
  };
}

export function resourceDeleted(read: () => Promise<unknown>) {
  return async (): Promise<Observation<true>> => {
    try {
      await read();
      return notYet("still present");
    } catch (error) {
      if (isNotFound(error)) return done(true as const);
      throw error;
    }
  };
}

/** Deletes a namespace (404 is success) and waits until it is gone. */
export async function deleteNamespace(kube: KubeClients, name: string, timeoutMs: number): Promise<void> {
  try {
    await kube.core.deleteNamespace({ name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await waitFor(
    `namespace ${name} deleted`,
    resourceDeleted(() => kube.core.readNamespace({ name })),
    { timeoutMs, intervalMs: 500 },
  );
}

/** The Service's first ingress IP, once the load balancer (MetalLB) has set one. */
export function serviceHasIngressIP(kube: KubeClients, namespace: string, name: string) {
  return async (): Promise<Observation<string>> => {
    const svc = await kube.core.readNamespacedService({ namespace, name });
    const ip = svc.status?.loadBalancer?.ingress?.[0]?.ip;
    if (ip) return done(ip);
    const { items } = await kube.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
    const last = items.sort((a, b) => eventTime(a) - eventTime(b)).pop();
    return notYet(`no external IP yet (Pending)${last ? `; last event: ${last.reason}: ${last.message}` : ""}`);
  };
}

/** The newest event with `reason` about the object `name` in `namespace`, once there is one. */
export function eventWithReason(kube: KubeClients, namespace: string, name: string, reason: string) {
  return async (): Promise<Observation<k8s.CoreV1Event>> => {
    const { items } = await kube.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
    const matching = items.filter((e) => e.reason === reason).sort((a, b) => eventTime(a) - eventTime(b));
    const seen = [...new Set(items.map((e) => e.reason))].join(", ");
    return matching.length > 0 ? done(matching[matching.length - 1]!) : notYet(`no ${reason} event (events: ${seen || "none"})`);
  };
}

/** `GET url` answers 200 (a fresh connection each time, `requestTimeoutMs` each). */
export function httpAnswers200(url: string, requestTimeoutMs = 2000) {
  return async (): Promise<Observation<HttpResult>> => {
    const r = await httpGet(url, requestTimeoutMs);
    return r.status === 200 ? done(r) : notYet(`HTTP ${r.status}`);
  };
}

/** Someone answers an ARP request for `address` sent by `host`; the value is the MACs that did. */
export function arpAnswered(host: { executor: Executor; iface: string }, address: string, timeoutS = 2) {
  return async (): Promise<Observation<string[]>> => {
    const replies = await arpWhoHas(host.executor, address, { iface: host.iface, timeoutS });
    return replies.length > 0 ? done(replies) : notYet("no ARP reply");
  };
}
