// Applying a fault of the catalog to an ephemeral cluster, and undoing it: every object a step
// touches is recorded first and put back afterwards (replaced, or re-created when the step deleted
// it); objects a step created are deleted; an uninstalled MetalLB is installed again.
import { PatchStrategy, type KubernetesObject } from "@kubernetes/client-node";
import type { ImageManifest } from "./cache.ts";
import type { EphemeralCluster } from "./cluster.ts";
import { daemonSetReady, deleteNamespace, deploymentAvailable } from "./conditions.ts";
import type { FaultStep } from "./fault-catalog.ts";
import { helmUninstall } from "./metallb-install.ts";
import { installMetallbForProfile, setupFromProfile } from "./metallb-setup.ts";
import { isNotFound, type KubeClients } from "./kube.ts";
import type { Profile } from "./profile.ts";
import { ipsInRange } from "./ip-range.ts";
import { loadBalancerAddressesInUse } from "./pool-addresses.ts";
import { poolRanges } from "./profile.ts";
import { done, notYet, waitFor } from "./wait.ts";
import { createLoadBalancerService, MANAGED_BY } from "./workloads.ts";

const API_VERSION: Record<string, string> = {
  Deployment: "apps/v1",
  DaemonSet: "apps/v1",
  IPAddressPool: "metallb.io/v1beta1",
  L2Advertisement: "metallb.io/v1beta1",
};

export interface FaultEnvironment {
  kube: KubeClients;
  cluster: EphemeralCluster;
  images: ImageManifest;
  /** the cluster's healthy profile (MetalLB's namespace, release, pool) */
  profile: Profile;
  timeoutMs: number;
}

type Undo = () => Promise<void>;

const MERGE_PATCH = [undefined, undefined, undefined, undefined, PatchStrategy.MergePatch] as const;

function metallbNamespace(profile: Profile): string {
  return setupFromProfile(profile, 0).namespace;
}

function spec(kind: string, name: string, namespace: string): KubernetesObject {
  return { apiVersion: API_VERSION[kind], kind, metadata: { name, namespace } };
}

/** The object as it can be created again: no server-set metadata, no status. */
function recreatable(o: KubernetesObject): KubernetesObject {
  const {
    uid: _u,
    resourceVersion: _r,
    creationTimestamp: _c,
    managedFields: _m,
    generation: _g,
    ...metadata
  } = o.metadata ?? {};
  const { status: _s, ...rest } = o as KubernetesObject & { status?: unknown };
  return { ...rest, metadata };
}

async function record(env: FaultEnvironment, kind: string, name: string): Promise<KubernetesObject> {
  return env.kube.objects.read(
    spec(kind, name, metallbNamespace(env.profile)) as KubernetesObject & { metadata: { name: string } },
  );
}

/** Puts `saved` back as it was: replaced when it exists, created when it does not. */
async function restore(env: FaultEnvironment, saved: KubernetesObject): Promise<void> {
  const body = recreatable(saved);
  try {
    const now = await env.kube.objects.read(body as KubernetesObject & { metadata: { name: string } });
    await env.kube.objects.replace({ ...body, metadata: { ...body.metadata, resourceVersion: now.metadata?.resourceVersion } });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await env.kube.objects.create(body);
  }
}

/** Applies one step; returns how to undo it. */
export async function applyStep(env: FaultEnvironment, step: FaultStep): Promise<Undo> {
  const { kube } = env;
  if ("helmUninstall" in step) {
    const setup = setupFromProfile(env.profile, env.timeoutMs);
    await helmUninstall({
      helm: env.images.helm,
      kubeconfigPath: env.cluster.kubeconfigPath,
      release: setup.release,
      namespace: setup.namespace,
      timeoutMs: env.timeoutMs,
    });
    // Uninstalling removes the chart's CRDs with the pool and advertisement (the crds subchart
    // templates them); the reinstall re-applies both from the profile.
    return () => installMetallbForProfile(env.cluster, env.images, env.profile, env.timeoutMs);
  }
  if ("occupy" in step) return occupyPool(env, step.occupy.leave);
  if ("scale" in step) {
    const saved = await record(env, step.scale.kind, step.scale.name);
    await kube.objects.patch(
      {
        ...spec(step.scale.kind, step.scale.name, metallbNamespace(env.profile)),
        spec: { replicas: step.scale.replicas },
      } as KubernetesObject,
      ...MERGE_PATCH,
    );
    await settled(env, step.scale.kind, step.scale.name);
    return () => restore(env, saved);
  }
  if ("patch" in step) {
    const saved = await record(env, step.patch.kind, step.patch.name);
    await kube.objects.patch(
      { ...spec(step.patch.kind, step.patch.name, metallbNamespace(env.profile)), ...step.patch.patch } as KubernetesObject,
      ...MERGE_PATCH,
    );
    await settled(env, step.patch.kind, step.patch.name);
    return () => restore(env, saved);
  }
  if ("delete" in step) {
    const saved = await record(env, step.delete.kind, step.delete.name);
    await kube.objects.delete(saved);
    return () => restore(env, saved);
  }
  // move: the object leaves MetalLB's namespace for another one (the seeds' `infra` mistake).
  const saved = await record(env, step.move.kind, step.move.name);
  const target = step.move.toNamespace;
  const created = await kube.core
    .createNamespace({ body: { metadata: { name: target } } })
    .then(() => true)
    .catch((error: unknown) => {
      if ((error as { code?: number }).code === 409) return false;
      throw error;
    });
  const moved = recreatable(saved);
  // MetalLB's webhook refuses a pool outside its namespace; such a pool exists when it predates
  // the webhook (applied before MetalLB, or with the webhook down). That state is made here by
  // setting MetalLB's validating webhooks aside for this one create.
  await withoutMetallbWebhooks(env, () => kube.objects.create({ ...moved, metadata: { ...moved.metadata, namespace: target } }));
  await kube.objects.delete(saved);
  return async () => {
    if (created) await deleteNamespace(kube, target, env.timeoutMs);
    else await kube.objects.delete({ ...moved, metadata: { ...moved.metadata, namespace: target } }).catch(() => undefined);
    await restore(env, saved);
  };
}

/** A changed Deployment or DaemonSet has rolled out (the broken state an operator would find). */
async function settled(env: FaultEnvironment, kind: string, name: string): Promise<void> {
  if (kind !== "Deployment" && kind !== "DaemonSet") return;
  const namespace = metallbNamespace(env.profile);
  await waitFor(
    `${kind} ${namespace}/${name} rolled out`,
    async () => {
      const o = (await env.kube.objects.read(
        spec(kind, name, namespace) as KubernetesObject & { metadata: { name: string } },
      )) as KubernetesObject & {
        status?: Record<string, number | undefined>;
      };
      const s = o.status ?? {};
      const current = (s.observedGeneration ?? 0) >= (o.metadata?.generation ?? 0);
      const rolled =
        kind === "Deployment"
          ? (s.updatedReplicas ?? 0) === (s.replicas ?? 0) &&
            (s.replicas ?? 0) === ((o as { spec?: { replicas?: number } }).spec?.replicas ?? 0)
          : (s.updatedNumberScheduled ?? 0) === (s.desiredNumberScheduled ?? 0) &&
            (s.numberReady ?? 0) === (s.desiredNumberScheduled ?? 0);
      return current && rolled ? done(true) : notYet(JSON.stringify(s));
    },
    { timeoutMs: env.timeoutMs, intervalMs: 500 },
  );
}

/** Runs `create` while MetalLB's validating webhook configurations are removed; puts them back. */
async function withoutMetallbWebhooks(env: FaultEnvironment, create: () => Promise<unknown>): Promise<void> {
  const namespace = metallbNamespace(env.profile);
  const { items } = await env.kube.admission.listValidatingWebhookConfiguration();
  const metallb = items.filter((w) => w.webhooks?.some((h) => h.clientConfig.service?.namespace === namespace));
  for (const w of metallb) await env.kube.admission.deleteValidatingWebhookConfiguration({ name: w.metadata!.name! });
  try {
    await create();
  } finally {
    for (const w of metallb) {
      await env.kube.admission.createValidatingWebhookConfiguration({ body: recreatable(w as KubernetesObject) as typeof w });
    }
  }
}

export const OCCUPY_NAMESPACE = "metallb-conformance-fault-occupy";

/** Services (no backend needed: MetalLB assigns regardless) asking for every pool address but
 * the last `leave` unreserved ones, each held before the run starts. */
async function occupyPool(env: FaultEnvironment, leave: number): Promise<Undo> {
  const { kube, profile } = env;
  const reserved = new Set(profile.pool.reserved.map((r) => r.address));
  const inUse = new Set(await loadBalancerAddressesInUse(kube, profile));
  const free = poolRanges(profile)
    .flatMap((range) => [...ipsInRange(range)].map((ip) => ip.toString()))
    .filter((a) => !inUse.has(a));
  const freeUnreserved = free.filter((a) => !reserved.has(a));
  const kept = new Set(freeUnreserved.slice(Math.max(0, freeUnreserved.length - leave)));
  const targets = free.filter((a) => !kept.has(a));
  await kube.core.createNamespace({ body: { metadata: { name: OCCUPY_NAMESPACE, labels: MANAGED_BY } } });
  const undo = () => deleteNamespace(kube, OCCUPY_NAMESPACE, env.timeoutMs);
  try {
    for (const [i, address] of targets.entries()) {
      await createLoadBalancerService(kube, {
        namespace: OCCUPY_NAMESPACE,
        name: `occupy-${i}`,
        runId: "fault",
        selector: "none",
        requestedIP: address,
      });
    }
    await waitFor(
      `${targets.length} pool addresses held in ${OCCUPY_NAMESPACE}`,
      async () => {
        const { items } = await kube.core.listNamespacedService({ namespace: OCCUPY_NAMESPACE });
        const held = items.filter((s) => s.status?.loadBalancer?.ingress?.[0]?.ip).length;
        return held === targets.length ? done(held) : notYet(`${held} held`);
      },
      { timeoutMs: env.timeoutMs, intervalMs: 250 },
    );
  } catch (error) {
    await undo();
    throw error;
  }
  return undo;
}

/** After an undo: MetalLB's controller Available and a Ready speaker on every node again. */
export async function waitHealthy(env: FaultEnvironment): Promise<void> {
  const ns = metallbNamespace(env.profile);
  const release = env.profile.metallb.release;
  const opts = { timeoutMs: env.timeoutMs, intervalMs: 500 };
  await waitFor(
    `controller ${ns}/${release}-controller Available`,
    deploymentAvailable(env.kube, ns, `${release}-controller`),
    opts,
  );
  await waitFor(
    `speaker ${ns}/${release}-speaker Ready on every node`,
    daemonSetReady(env.kube, ns, `${release}-speaker`, env.cluster.nodes.length),
    opts,
  );
}
