// The ephemeral target's MetalLB, as the story sets it up: the chart with values-homelab.yaml,
// then the pool and L2Advertisement (the story's ip-pool.yaml) at the homelab's host offsets
// inside the cluster's own subnet.
import type { ImageManifest } from "./cache.ts";
import { addressAt, type EphemeralCluster } from "./cluster.ts";
import { deploymentAvailable } from "./conditions.ts";
import { kubeClients } from "./kube.ts";
import { applyPoolAndAdvertisement, helmUpgradeInstall, type PoolSpec } from "./metallb-install.ts";
import { progress } from "./progress.ts";
import { waitFor } from "./wait.ts";

export interface MetallbSetup {
  chartVersion: string;
  release: string;
  namespace: string;
  valuesFile: string;
  pool: PoolSpec;
  timeoutMs: number;
}

export function defaultEphemeralSetup(cluster: EphemeralCluster): MetallbSetup {
  const namespace = "metallb-system";
  return {
    chartVersion: "0.15.3",
    release: "metallb",
    namespace,
    valuesFile: "fixtures/metallb/values-homelab.yaml",
    pool: {
      namespace,
      poolName: "homelab-pool",
      addresses: [`${addressAt(cluster.network.subnet, 100)}-${addressAt(cluster.network.subnet, 120)}`],
      autoAssign: true,
      advertisementName: "homelab-l2",
    },
    timeoutMs: 180_000,
  };
}

export async function installMetallbForProfile(
  cluster: EphemeralCluster,
  images: ImageManifest,
  setup: MetallbSetup = defaultEphemeralSetup(cluster),
): Promise<void> {
  const chart = images.metallbCharts[setup.chartVersion];
  if (!chart) throw new Error(`no local chart for MetalLB ${setup.chartVersion}: run \`npm run images -- --metallb v${setup.chartVersion}\``);
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
  progress("metallb", `applying IPAddressPool ${setup.pool.poolName} (${setup.pool.addresses.join(", ")}) and L2Advertisement ${setup.pool.advertisementName}`);
  await waitFor("IPAddressPool and L2Advertisement accepted", async () => {
    await applyPoolAndAdvertisement(kube, setup.pool);
    return { done: true, value: undefined };
  }, { timeoutMs: 60_000, intervalMs: 1_000 });
}
