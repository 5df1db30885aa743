// The ephemeral target's MetalLB, as the story sets it up: the chart with values-homelab.yaml,
// then the pool and L2Advertisement (the story's ip-pool.yaml) at the homelab's host offsets
// inside the cluster's own subnet.
import type { ImageManifest } from "./cache.ts";
import type { EphemeralCluster } from "./cluster.ts";
import { kubeClients } from "./kube.ts";
import { applyPoolAndAdvertisement, helmUpgradeInstall, type PoolSpec } from "./metallb-install.ts";
import type { Profile } from "./profile.ts";
import { progress } from "./progress.ts";
import { done, waitFor } from "./wait.ts";

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

/** `helm upgrade --install` of the profile's chart from the local cache (idempotent). */
export async function upgradeInstallMetallb(images: ImageManifest, kubeconfigPath: string, setup: MetallbSetup): Promise<void> {
  const chart = images.metallbCharts[setup.chartVersion];
  if (!chart)
    throw new Error(
      `no local chart for MetalLB ${setup.chartVersion} (built: ${Object.keys(images.metallbCharts).join(", ")}): add v${setup.chartVersion} to METALLB_VERSIONS in images/versions.env and run \`npm run images\``,
    );
  await helmUpgradeInstall({
    helm: images.helm,
    kubeconfigPath,
    chart,
    chartVersion: setup.chartVersion,
    release: setup.release,
    namespace: setup.namespace,
    valuesFile: setup.valuesFile,
    timeoutMs: setup.timeoutMs,
  });
}

export async function installMetallbForProfile(
  cluster: EphemeralCluster,
  images: ImageManifest,
  profile: Profile,
  timeoutMs: number,
): Promise<void> {
  const setup = setupFromProfile(profile, timeoutMs);
  await upgradeInstallMetallb(images, cluster.kubeconfigPath, setup);
  const kube = kubeClients({ path: cluster.kubeconfigPath });
  progress(
    "metallb",
    `applying IPAddressPool ${setup.pool.poolName} (${setup.pool.addresses.join(", ")}) and L2Advertisement ${setup.pool.advertisementName}`,
  );
  // MetalLB's webhook validates the pool; right after the install its endpoint may not answer
  // yet (connection refused): apply until it does, within a deadline.
  await waitFor(
    "IPAddressPool and L2Advertisement accepted",
    async () => {
      await applyPoolAndAdvertisement(kube, setup.pool);
      return done(undefined);
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}
