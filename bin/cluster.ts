// `npm run cluster -- up|down|status|sweep`: the ephemeral cluster for people. `up` leaves it
// running with MetalLB installed and prints its kubeconfig path; `down` removes it.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { stringify } from "yaml";
import { cacheDir, loadImageManifest } from "../helpers/cache.ts";
import { stopEphemeralCluster, type EphemeralCluster } from "../helpers/cluster.ts";
import { startHomelabCluster } from "../helpers/homelab-cluster.ts";
import { sweep } from "../helpers/docker.ts";
import { describeNodes, kubeClients } from "../helpers/kube.ts";
import { randomRunId } from "../helpers/run-id.ts";
import { DEFAULT_PROFILE } from "../helpers/config.ts";
import { loadProfile, ProfileError, withChartVersion, type Profile } from "../helpers/profile.ts";

process.env.TESTCONTAINERS_RYUK_DISABLED = "true";

async function knownClusters(): Promise<EphemeralCluster[]> {
  const dir = join(cacheDir(), "clusters");
  const runs = await readdir(dir).catch(() => [] as string[]);
  const clusters: EphemeralCluster[] = [];
  for (const run of runs) {
    const text = await readFile(join(dir, run, "state.json"), "utf8").catch(() => undefined);
    if (text) clusters.push(JSON.parse(text) as EphemeralCluster);
  }
  return clusters;
}

const program = new Command("cluster").description("the ephemeral 3-node k3s of the conformance suite");

program
  .command("up")
  .description("start a cluster, install MetalLB and the profile's pool, leave it running")
  .option("--no-metallb", "start k3s only")
  .option("--metallb-version <version>", "install this MetalLB chart instead of the profile's (one `npm run images` built)")
  .action(async (opts: { metallb: boolean; metallbVersion?: string }) => {
    const runId = randomRunId();
    // Interrupted while starting: remove what was created (once; Ctrl-C may arrive twice).
    let interrupted = false;
    const onSignal = () => {
      if (interrupted) return;
      interrupted = true;
      void stopEphemeralCluster(runId).finally(() => process.exit(130));
    };
    process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
    const images = await loadImageManifest();
    let homelab: Profile;
    try {
      homelab = withChartVersion(loadProfile(DEFAULT_PROFILE), opts.metallbVersion);
    } catch (error) {
      process.stderr.write(`cluster up: ${error instanceof ProfileError ? error.issues.join("; ") : String(error)}\n`);
      process.exit(2);
    }
    const { cluster, profile } = await startHomelabCluster({
      runId,
      images,
      homelab,
      metallb: opts.metallb,
      nodeLogDir: join(cacheDir(), "clusters", `${runId}-logs`),
    });
    const profilePath = join(cluster.stateDir, "profile.yaml");
    await writeFile(profilePath, stringify(JSON.parse(JSON.stringify(profile))));
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    process.stdout.write(
      `run ${runId} is up\nexport KUBECONFIG=${cluster.kubeconfigPath}\n` +
        `verify it: npm run conformance -- --target kubeconfig --kubeconfig ${cluster.kubeconfigPath} --profile ${profilePath}\n`,
    );
  });

program
  .command("down")
  .description("remove the clusters `up` started (all of them, or one run)")
  .argument("[runId]")
  .action(async (runId?: string) => {
    const runs = runId ? [runId] : (await knownClusters()).map((c) => c.runId);
    for (const id of runs) await stopEphemeralCluster(id);
    if (runs.length === 0) process.stdout.write("no cluster of this suite is running\n");
  });

program
  .command("status")
  .description("list the clusters that are running and their nodes")
  .action(async () => {
    const clusters = await knownClusters();
    if (clusters.length === 0) process.stdout.write("no cluster of this suite is running\n");
    for (const c of clusters) {
      let nodes: string;
      try {
        nodes = describeNodes((await kubeClients({ path: c.kubeconfigPath }).core.listNode()).items);
      } catch (error) {
        nodes = `API not answering (${(error as Error).message})`;
      }
      process.stdout.write(
        `run ${c.runId}: network ${c.network.name} ${c.network.subnet}\n  kubeconfig ${c.kubeconfigPath}\n  nodes: ${nodes}\n`,
      );
    }
  });

program
  .command("sweep")
  .description("remove every container and network of this suite (leftovers of crashed runs)")
  .action(async () => {
    const removed = await sweep();
    process.stdout.write(
      `removed containers: ${removed.containers.join(", ") || "none"}; networks: ${removed.networks.join(", ") || "none"}\n`,
    );
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`cluster: ${(error as Error).message}\n`);
  process.exit(1);
});
