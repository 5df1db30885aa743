// The fault catalog (issue 5) as part of `npm test`: after every other suite, each fault of
// fixtures/faults is applied to this run's ephemeral cluster, a verify-only conformance run is
// judged (the right criterion fails first and names the cause; later ones do not fail on their
// own), and the fault is undone. `npm run faults` runs the same catalog on its own.
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { loadFaults } from "../../helpers/fault-catalog.ts";
import { runFault, runFaultOnItsOwnCluster } from "../../helpers/fault-runner.ts";
import type { FaultEnvironment } from "../../helpers/fault-steps.ts";
import { kubeClients } from "../../helpers/kube.ts";
import { loadProfile } from "../../helpers/profile.ts";
import { DEFAULT_PROFILE } from "../../helpers/config.ts";

const run = inject("run");
const faults = loadFaults();
const reportsDir = join("reports", "faults");
const FAULT_TIMEOUT_MS = 420_000;
let env: FaultEnvironment | undefined;

beforeAll(() => {
  if (!run.ephemeral) return;
  const { cluster, images } = run.ephemeral;
  env = {
    kube: kubeClients({ path: cluster.kubeconfigPath }),
    cluster,
    images,
    profile: run.profile,
    timeoutMs: run.timeouts.metallbReadyMs,
  };
});

describe("fault catalog: each broken cluster fails the right criterion, naming the cause", () => {
  for (const [i, fault] of faults.entries()) {
    it(
      `${fault.name} (${fault.description}) fails ${fault.expect.criterion}`,
      async ({ skip }) => {
        if (!env) skip("faults are applied only to the ephemeral cluster, never to a cluster passed by kubeconfig");
        const judgement = fault.cluster
          ? await runFaultOnItsOwnCluster(fault, {
              runId: `${run.runId}-f${i}`.slice(0, 20),
              images: env!.images,
              homelab: loadProfile(DEFAULT_PROFILE),
              reportsDir,
            })
          : await runFault(env!, fault, reportsDir);
        expect(
          judgement.ok,
          `fault ${fault.name}: expected ${fault.expect.criterion} to fail, observed ${judgement.observed}: ${judgement.why}`,
        ).toBe(true);
      },
      FAULT_TIMEOUT_MS,
    );
  }
});
