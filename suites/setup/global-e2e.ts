// Vitest global setup for the cluster suites: resolves the run configuration, brings up the
// target (ephemeral: 3-node k3s, MetalLB by Helm, the profile's pool; kubeconfig: the cluster as
// it is), creates the run's namespace, and hands a RunContext to every suite through `provide`.
// Teardown collects diagnostics when anything failed, then removes what the run created — also
// on Ctrl-C and SIGTERM.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { loadImageManifest } from "../../helpers/cache.ts";
import { nodePlanFromProfile, startEphemeralCluster, stopEphemeralCluster } from "../../helpers/cluster.ts";
import { CONFIG_ENV, parseArgs, readConfigFromEnv, resolveTimeouts } from "../../helpers/config.ts";
import { collectDiagnostics } from "../../helpers/diagnostics.ts";
import { deleteNamespace } from "../../helpers/conditions.ts";
import { kubeClients } from "../../helpers/kube.ts";
import { grantMetricsReader, kubeconfigMetricsAccess, revokeMetricsReader } from "../../helpers/metallb-metrics.ts";
import { installMetallbForProfile } from "../../helpers/metallb-setup.ts";
import { probeAddressFor, startProbe } from "../../helpers/probe.ts";
import { deriveEphemeralProfile, loadProfile, withChartVersion } from "../../helpers/profile.ts";
import { progress, timed } from "../../helpers/progress.ts";
import { runNamespaceName, runState, type RunContext } from "../../helpers/run-context.ts";
import { createRunNamespace } from "../../helpers/workloads.ts";
import { spawnDetachedCleanup } from "../../helpers/detached-cleanup.ts";

declare module "vitest" {
  export interface ProvidedContext {
    run: RunContext;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // No reaper image can be pulled here: cleanup is ours, by label (also `npm run cluster -- sweep`).
  process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
  const state = runState();
  const config = process.env[CONFIG_ENV] ? readConfigFromEnv(process.env) : parseArgs([], process.env);
  state.reportsDir = config.reportsDir;
  // The chart matrix (--metallb-version) installs another chart, which AC1 then expects.
  const homelab = withChartVersion(loadProfile(config.profile), config.metallbVersion);
  const timeouts = resolveTimeouts(homelab.timeouts, config.timeouts);
  const testNamespace = runNamespaceName(config.runId);
  const diagnosticsDir = join(config.reportsDir, "diagnostics");
  let context: RunContext | undefined;

  let stopping: Promise<void> | undefined;
  const cleanup = () =>
    (stopping ??= (async () => {
      if (context && state.failed) {
        await collectDiagnostics(context, diagnosticsDir).catch((e: unknown) => progress("diagnostics", `failed: ${String(e)}`));
      } else if (!state.failed) {
        // Node logs are kept only for a failed run; diagnostics exist only when something failed.
        await rm(diagnosticsDir, { recursive: true, force: true });
      }
      if (context) {
        const kube = kubeClients({ path: context.kubeconfigPath, context: context.context });
        if (config.target === "k3s")
          await revokeMetricsReader(kube, config.runId).catch((e: unknown) =>
            progress("cleanup", `metrics reader: ${String(e)}`),
          );
        await timed(state.phases, "cleanup: run namespace", () => deleteNamespace(kube, testNamespace, timeouts.cleanupMs)).catch(
          (e: unknown) => progress("cleanup", `namespace ${testNamespace}: ${String(e)}`),
        );
      }
      if (config.target === "k3s") {
        if (process.env.METALLB_CONFORMANCE_KEEP_CLUSTER === "1")
          progress("cluster", `kept run ${config.runId} (METALLB_CONFORMANCE_KEEP_CLUSTER=1)`);
        else await timed(state.phases, "teardown", () => stopEphemeralCluster(config.runId));
      }
    })());
  // Vitest exits on SIGINT/SIGTERM right away (its own handler), so an in-process cleanup would be
  // cut short: the run hands it to a detached process that outlives this one. Ctrl-C may arrive
  // twice (terminal process group, relayed by tsx): hand it over once.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    const log = join(config.reportsDir, `cleanup-${config.runId}.log`);
    const pid = spawnDetachedCleanup(
      {
        runId: config.runId,
        target: config.target,
        kubeconfigPath: context?.kubeconfigPath,
        context: context?.context,
        namespace: testNamespace,
      },
      log,
    );
    progress(
      "run",
      `${signal}: removing run ${config.runId} in the background (pid ${pid}, log ${log}); \`npm run sweep\` removes any leftovers`,
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    if (config.target === "k3s") {
      const images = await loadImageManifest();
      const chartVersion = homelab.metallb.chart.version;
      if (!images.metallbCharts[chartVersion])
        throw new Error(
          `no local chart for MetalLB ${chartVersion} (built: ${Object.keys(images.metallbCharts).join(", ")}): add v${chartVersion} to METALLB_VERSIONS in images/versions.env and run \`npm run images\``,
        );
      const cluster = await timed(state.phases, "cluster up", () =>
        startEphemeralCluster({
          runId: config.runId,
          images,
          nodes: nodePlanFromProfile(homelab),
          nodeStartTimeoutMs: timeouts.clusterReadyMs,
          nodesReadyTimeoutMs: timeouts.clusterReadyMs,
          nodeLogDir: join(diagnosticsDir, "nodes"),
        }),
      );
      const profile = deriveEphemeralProfile(homelab, cluster.network.subnet);
      const probeAddress = probeAddressFor(profile);
      const probe = await startProbe(images.probeImage, config.runId, cluster.network.name, probeAddress);
      context = {
        target: config.target,
        mode: config.mode,
        runId: config.runId,
        profile,
        timeouts,
        kubeconfigPath: cluster.kubeconfigPath,
        testNamespace,
        metricsAccess: {},
        nginxImage: profile.backend.image,
        ephemeral: { cluster, images, probe: { containerId: probe.getId(), address: probeAddress } },
      };
      state.context = context;
      await timed(state.phases, "MetalLB install", () =>
        installMetallbForProfile(cluster, images, profile, timeouts.metallbReadyMs),
      );
    } else {
      if (!config.kubeconfig)
        throw new Error("target kubeconfig needs a kubeconfig (--kubeconfig, $KUBECONFIG or ~/.kube/config)");
      context = {
        target: config.target,
        mode: config.mode,
        runId: config.runId,
        profile: homelab,
        timeouts,
        kubeconfigPath: config.kubeconfig,
        context: config.context,
        testNamespace,
        metricsAccess: {},
        nginxImage: homelab.backend.image,
      };
      state.context = context;
    }
    const kube = kubeClients({ path: context.kubeconfigPath, context: context.context });
    await createRunNamespace(kube, testNamespace, config.runId);
    // MetalLB 0.16+ serves metrics only to a token allowed to get /metrics: on a cluster the run
    // owns it makes one (removed in cleanup); on a live one it may only use the user's own.
    context.metricsAccess =
      config.target === "k3s"
        ? await grantMetricsReader(kube, testNamespace, config.runId)
        : await kubeconfigMetricsAccess(kube.kc);
  } catch (error) {
    state.failed = true;
    await cleanup();
    throw error;
  }
  project.provide("run", context);
  return async () => {
    await cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
