import { defineConfig } from "vitest/config";

// Two projects: `unit` (pure helpers, no cluster) and `smoke` / `conformance` (a real cluster,
// started once by the global setup). No retries anywhere: a flaky check is a bug to find.
export default defineConfig({
  test: {
    retry: 0,
    reporters: ["default"],
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
          name: "smoke",
          include: ["suites/smoke/**/*.test.ts"],
          globalSetup: ["suites/setup/global-cluster.ts"],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
