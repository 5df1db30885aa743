// Chart matrix (issue 5): the same AC suites pass with every other MetalLB version `npm run images`
// built (METALLB_VERSIONS in images/versions.env) as with the profile's. Each version gets a run of
// its own, as a user would start it: `npm run conformance -- --metallb-version V`, a fresh
// ephemeral k3s with that chart installed by Helm with values-homelab.yaml (FRR and frr-k8s off),
// judged by its verdict.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, inject, it } from "vitest";
import { userEnv } from "../../helpers/user-env.ts";
import { STORY_CRITERIA, failureReason, type Verdict } from "../../helpers/verdict.ts";

const run = inject("run");
const profileVersion = run.profile.metallb.chart.version;
const others = Object.keys(run.ephemeral?.images.metallbCharts ?? {}).filter((v) => v !== profileVersion);
const RUN_TIMEOUT_MS = 900_000;

/** The child's run id: this run's, marked with the version ("r1a2b3c-m0161"). */
const childRunId = (version: string) => `${run.runId}-m${version.replace(/\./g, "")}`.slice(0, 20).replace(/-+$/, "");

describe(`ChartMatrix: AC1-AC4 pass with MetalLB ${others.join(", ") || "(no other version built)"} as with ${profileVersion}`, () => {
  if (!run.ephemeral || others.length === 0) {
    it("runs every other MetalLB version built", ({ skip }) =>
      skip(
        run.ephemeral
          ? `no MetalLB version but ${profileVersion} built: add one to METALLB_VERSIONS in images/versions.env`
          : "not on a kubeconfig target: the matrix installs MetalLB on ephemeral clusters of its own",
      ));
  }

  for (const version of others) {
    it(
      `MetalLB ${version} (chart ${version}, FRR off): a fresh ephemeral run passes AC1-AC4`,
      async () => {
        const reportsDir = join("reports", "matrix", version);
        const runId = childRunId(version);
        // prettier-ignore
        const child = await execa("tsx", [
          "bin/conformance.ts", "--metallb-version", version, "--reports-dir", reportsDir, "--run-id", runId,
        ], { preferLocal: true, reject: false, all: true, env: userEnv(), extendEnv: false, timeout: RUN_TIMEOUT_MS });
        const text = await readFile(join(reportsDir, "verdict.json"), "utf8").catch(() => undefined);
        const verdict = text ? (JSON.parse(text) as Verdict) : undefined;
        const tail = String(child.all ?? "")
          .trim()
          .split("\n")
          .slice(-8)
          .join("\n");
        expect(
          verdict?.runId,
          `ChartMatrix: the MetalLB ${version} run wrote no verdict (exit ${child.exitCode}${child.timedOut ? ", timed out" : ""}):\n${tail}`,
        ).toBe(runId);
        const title = verdict!.criteria.find((c) => c.id === "AC1")?.title ?? "";
        expect(title, `ChartMatrix: the run did not expect MetalLB ${version} (AC1: "${title}")`).toContain(version);
        const notPassed = STORY_CRITERIA.map(
          (s) => verdict!.criteria.find((c) => c.id === s.id) ?? { id: s.id, status: "missing" },
        )
          .filter((c) => c.status !== "passed")
          .map((c) => ("checks" in c ? `${c.id} ${c.status}: ${failureReason(c)}` : `${c.id} missing`));
        expect(notPassed, `ChartMatrix: with MetalLB ${version} (reports in ${reportsDir}): ${notPassed.join("; ")}`).toEqual([]);
        expect(
          child.exitCode,
          `ChartMatrix: the MetalLB ${version} run passed every AC but exited ${child.exitCode}:\n${tail}`,
        ).toBe(0);
      },
      RUN_TIMEOUT_MS + 60_000,
    );
  }
});
