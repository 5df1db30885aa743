// `npm run bench [-- --runs N]`: the ephemeral conformance run N times (default 3); prints the
// median of each phase (cluster up, MetalLB install, each AC, Service→IP, IP→HTTP 200, teardown,
// whole run) and the peak memory of the node containers. Figures only: nothing here asserts.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { execa } from "execa";
import { dockerode, OWNER_LABEL, ROLE_LABEL } from "../helpers/docker.ts";
import { formatDuration } from "../helpers/report.ts";

interface VerdictFile {
  status: string;
  phases: { name: string; durationMs: number }[];
  criteria: { id: string; checks: { name: string; status: string; durationMs: number }[] }[];
}

const { runs } = new Command("bench").option("--runs <n>", "how many runs", "3").parse().opts<{ runs: string }>();
const count = Number(runs);
if (!Number.isInteger(count) || count < 1) {
  process.stderr.write(`bench: invalid --runs: got "${runs}", expected a positive integer\n`);
  process.exit(2);
}

/** Samples the summed memory of this suite's node containers once a second; returns the peak. */
function memorySampler(): { stop: () => Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    const docker = await dockerode();
    while (running) {
      const nodes = (await docker.listContainers({ filters: { label: [OWNER_LABEL] } })).filter(
        (c) => c.Labels[ROLE_LABEL] === "server" || c.Labels[ROLE_LABEL] === "agent",
      );
      let sum = 0;
      for (const c of nodes) {
        const stats = (await docker
          .getContainer(c.Id)
          .stats({ stream: false })
          .catch(() => undefined)) as { memory_stats?: { usage?: number } } | undefined;
        sum += stats?.memory_stats?.usage ?? 0;
      }
      peak = Math.max(peak, sum);
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return { stop: async () => ((running = false), await loop, peak) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const rows = new Map<string, number[]>();
const add = (name: string, ms: number) => rows.set(name, [...(rows.get(name) ?? []), ms]);
const peaks: number[] = [];
let passed = 0;

// Images are built (or found cached) once, outside the measured runs.
await execa("bash", ["images/build.sh"], { stdio: "inherit" });
for (let i = 1; i <= count; i++) {
  const reports = join("reports", "bench", `run-${i}`);
  const sampler = memorySampler();
  const t0 = performance.now();
  let reportsAt = 0;
  const child = execa("npx", ["tsx", "bin/conformance.ts", "--reports-dir", reports], {
    reject: false,
    all: true,
    env: { IMAGES_PULL: "never" },
  });
  child.all?.on("data", (chunk: Buffer) => {
    if (!reportsAt && chunk.toString().includes("reports: ")) reportsAt = performance.now();
  });
  const result = await child;
  const total = performance.now() - t0;
  peaks.push(await sampler.stop());
  const verdict = JSON.parse(await readFile(join(reports, "verdict.json"), "utf8")) as VerdictFile;
  if (verdict.status === "passed") passed++;
  for (const p of verdict.phases) add(p.name, p.durationMs);
  for (const c of verdict.criteria)
    add(
      c.id,
      c.checks.reduce((n, x) => n + x.durationMs, 0),
    );
  const check = (id: string, prefix: string) =>
    verdict.criteria.find((c) => c.id === id)?.checks.find((x) => x.name.startsWith(prefix))?.durationMs;
  const ip = check("AC4", "gives the LoadBalancer Service an external IP");
  const http = check("AC4", "answers GET http://IP/");
  if (ip !== undefined) add("Service → IP", ip);
  if (http !== undefined) add("IP → HTTP 200", http);
  if (reportsAt) add("teardown (after reports)", total - (reportsAt - t0));
  add("whole run", total);
  process.stdout.write(`run ${i}/${count}: ${verdict.status} (exit ${result.exitCode}) in ${formatDuration(total)}\n`);
}

process.stdout.write(`\nmedian and spread (min-max) of ${count} ephemeral runs (${passed}/${count} passed):\n`);
const width = Math.max(...[...rows.keys()].map((k) => k.length));
for (const [name, values] of rows) {
  process.stdout.write(
    `  ${name.padEnd(width)}  ${formatDuration(median(values)).padStart(8)}  ${`${formatDuration(Math.min(...values))}-${formatDuration(Math.max(...values))}`.padStart(17)}   (${values.map(formatDuration).join(", ")})\n`,
  );
}
process.stdout.write(
  `  ${"peak node memory".padEnd(width)}  ${(Math.max(...peaks) / 2 ** 30).toFixed(2).padStart(6)} GiB (3 nodes, summed)\n`,
);
const dominant = [...rows].filter(([n]) => n !== "whole run").sort((a, b) => median(b[1]) - median(a[1]))[0];
if (dominant) process.stdout.write(`  dominant phase: ${dominant[0]} (${formatDuration(median(dominant[1]))})\n`);
