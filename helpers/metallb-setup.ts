// The ephemeral target's MetalLB, as the story sets it up: the chart with values-homelab.yaml,
// then the pool and L2Advertisement (the story's ip-pool.yaml) at the homelab's host offsets
// inside the cluster's own subnet.
import type { ImageManifest } from "./cache.ts";
import type { EphemeralCluster } from "./cluster.ts";
import { deploymentAvailable } from "./conditions.ts";
import { kubeClients } from "./kube.ts";
import { applyPoolAndAdvertisement, helmUpgradeInstall, type PoolSpec } from "./metallb-install.ts";
import type { Profile } from "./profile.ts";
import { progress } from "./progress.ts";
import { waitFor } from "./wait.ts";

/** Where the ephemeral target installs MetalLB when the profile says "discover" (the story's
 * completion notes: the chart's default namespace). */
export const EPHEMERAL_METALLB_NAMESPACE = "metallb-system";

export function setupFromProfile(profile: Profile, timeoutMs: number): MetallbSetup {
  const namespace = profile.metallb.namespace === "discover" ? EPHEMERAL_METALLB_NAMESPACE : profile.metallb.namespace;
  return {
    chartVersion: profile.metallb.chart.version,
    release: profile.metallb.release,
    namespace,
    valuesFile: profile.metallb.valuesFile,
    pool: {
      namespace,
      poolName: profile.pool.name,
      addresses: [...profile.pool.addresses],
      autoAssign: profile.pool.autoAssign,
      advertisementName: profile.l2Advertisement.name,
    },
    timeoutMs,
  };
}

export interface MetallbSetup {
  chartVersion: string;
  release: string;
  namespace: string;
  valuesFile: string;
  pool: PoolSpec;
  timeoutMs: number;
}

export async function installMetallbForProfile(
  cluster: EphemeralCluster,
  images: ImageManifest,
  profile: Profile,
  timeoutMs: number,
): Promise<void> {
  const setup = setupFromProfile(profile, timeoutMs);
  const chart = images.metallbCharts[setup.chartVersion];
  if (!chart)
    throw new Error(
      `no local chart for MetalLB ${setup.chartVersion}: run \`npm run images -- --metallb v${setup.chartVersion}\``,
    );
  await helmUpgradeInstall({
    helm: images.helm,
    kubeconfigPath: cluster.kubeconfigPath,
    chart,
    chartVersion: setup.chartVersion,
    release: setup.release,
    namespace: setup.namespace,
    valuesFile: setup.valuesFile,
    timeoutMs: setup.timeoutMs,
  });
  const kube = kubeClients({ path: cluster.kubeconfigPath });
  // The pool is validated by MetalLB's webhook, served by the controller: wait for it first.
  await waitFor("MetalLB controller Available", deploymentAvailable(kube, setup.namespace, `${setup.release}-controller`), {
    timeoutMs: setup.timeoutMs,
  });
  progress(
    "metallb",
    `applying IPAddressPool ${setup.pool.poolName} (${setup.pool.addresses.join(", ")}) and L2Advertisement ${setup.pool.advertisementName}`,
  );
  await waitFor(
    "IPAddressPool and L2Advertisement accepted",
    async () => {
      await applyPoolAndAdvertisement(kube, setup.pool);
      return { done: true, value: undefined };
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}
