// Facts several criteria start from, read from the cluster (never assumed from a document).
import { deploymentAvailable } from "../../helpers/conditions.ts";
import type { KubeClients } from "../../helpers/kube.ts";
import {
  advertisementSelectsPool,
  discoverMetallbNamespace,
  listMetallb,
  readMetallb,
  type MetallbObject,
} from "../../helpers/metallb.ts";
import type { RunContext } from "../../helpers/run-context.ts";

/** Where MetalLB runs: the profile's namespace, or — "discover" — wherever its controller runs. */
export async function metallbNamespace(kube: KubeClients, run: RunContext): Promise<string | undefined> {
  if (run.profile.metallb.namespace !== "discover") return run.profile.metallb.namespace;
  return discoverMetallbNamespace(kube);
}

/** AC1's outcome as a precondition: undefined when MetalLB's controller is Available. */
export async function metallbRunning(kube: KubeClients, run: RunContext): Promise<string | undefined> {
  const ns = await metallbNamespace(kube, run);
  if (!ns) return "AC1: MetalLB is not installed in the cluster";
  const probe = await deploymentAvailable(kube, ns, `${run.profile.metallb.release}-controller`)();
  return probe.done
    ? undefined
    : `AC1: controller ${ns}/${run.profile.metallb.release}-controller not Available (${probe.observed})`;
}

/** AC1's outcome, then the profile's pool in MetalLB's namespace; a string says what is missing. */
async function metallbPool(kube: KubeClients, run: RunContext): Promise<{ ns: string; pool: MetallbObject } | string> {
  const earlier = await metallbRunning(kube, run);
  if (earlier) return earlier;
  const ns = (await metallbNamespace(kube, run))!;
  const pool = await readMetallb(kube, "ipaddresspools", ns, run.profile.pool.name);
  return pool ? { ns, pool } : `AC2: IPAddressPool ${run.profile.pool.name} not found in ${ns}`;
}

/** AC2's outcome as a precondition (AC1's included: each Given builds on the one before). */
export async function poolConfigured(kube: KubeClients, run: RunContext): Promise<string | undefined> {
  const found = await metallbPool(kube, run);
  return typeof found === "string" ? found : undefined;
}

/** AC3's outcome as a precondition (AC1's and AC2's included). */
export async function poolAdvertised(kube: KubeClients, run: RunContext): Promise<string | undefined> {
  const found = await metallbPool(kube, run);
  if (typeof found === "string") return found;
  const advs = await listMetallb(kube, "l2advertisements", found.ns);
  return advs.some((a) => advertisementSelectsPool(a, found.pool))
    ? undefined
    : `AC3: no L2Advertisement in ${found.ns} selects ${run.profile.pool.name}`;
}
