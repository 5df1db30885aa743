// The ephemeral cluster as the commands use it: the homelab profile's nodes started in Docker,
// the profile derived for the cluster's subnet, and (unless asked not to) MetalLB installed the
// story's way. The vitest global setup does the same steps one by one (it times each phase).
import type { ImageManifest } from "./cache.ts";
import { nodePlanFromProfile, startEphemeralCluster, type EphemeralCluster } from "./cluster.ts";
import { installMetallbForProfile } from "./metallb-setup.ts";
import { deriveEphemeralProfile, type Profile } from "./profile.ts";

export interface HomelabClusterOptions {
  runId: string;
  images: ImageManifest;
  /** the homelab profile; the cluster's own is derived from it */
  homelab: Profile;
  nodeLogDir: string;
  metallb?: boolean;
  keepServiceLB?: boolean;
}

export async function startHomelabCluster(o: HomelabClusterOptions): Promise<{ cluster: EphemeralCluster; profile: Profile }> {
  const cluster = await startEphemeralCluster({
    runId: o.runId,
    images: o.images,
    keepServiceLB: o.keepServiceLB,
    nodes: nodePlanFromProfile(o.homelab),
    nodeStartTimeoutMs: o.homelab.timeouts.clusterReadyMs,
    nodesReadyTimeoutMs: o.homelab.timeouts.clusterReadyMs,
    nodeLogDir: o.nodeLogDir,
  });
  const profile = deriveEphemeralProfile(o.homelab, cluster.network.subnet);
  if (o.metallb ?? true) await installMetallbForProfile(cluster, o.images, profile, profile.timeouts.metallbReadyMs);
  return { cluster, profile };
}
