import { defineConfig } from "vitest/config";
import CriteriaOrder from "./suites/setup/sequencer.ts";

// Two projects: `unit` (pure helpers, no cluster) and `e2e` (the smoke suite and the AC suites
// against one real cluster, started once by the global setup, files in criteria order).
// No retries anywhere: a flaky check is a bug to find, not to hide.
export default defineConfig({
  test: {
    retry: 0,
    sequence: { sequencer: CriteriaOrder },
    reporters: ["default", "./suites/setup/verdict-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["helpers/**/*.test.ts", "bin/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "e2e",
          include: [
            "suites/smoke/**/*.test.ts",
            "suites/ac*.test.ts",
            "suites/beyond/**/*.test.ts",
            "suites/live-target/**/*.test.ts",
            "suites/faults/**/*.test.ts",
          ],
          globalSetup: ["suites/setup/global-e2e.ts"],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
