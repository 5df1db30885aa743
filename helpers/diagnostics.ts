// The diagnostics bundle written when a run fails: what an operator needs to see why, with
// credentials redacted. Every piece is best effort: a missing one is noted, never fatal.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { dump } from "./yaml-dump.ts";
import { kubeClients, type KubeClients } from "./kube.ts";
import { CONTROLLER_SELECTOR, discoverMetallbNamespace, listMetallb, metallbPods, SPEAKER_SELECTOR } from "./metallb.ts";
import { podMetrics } from "./metallb-metrics.ts";
import { progress } from "./progress.ts";
import { redactSecrets } from "./redact.ts";
import type { RunContext } from "./run-context.ts";

export async function collectDiagnostics(context: RunContext, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const kube = kubeClients({ path: context.kubeconfigPath, context: context.context });
  const write = async (name: string, produce: () => Promise<unknown>) => {
    let text: string;
    try {
      const value = await produce();
      text = typeof value === "string" ? value : dump(value);
    } catch (error) {
      text = `could not collect ${name}: ${(error as Error).message}\n`;
    }
    await writeFile(join(dir, name), redactSecrets(text));
  };
  const ns = (await discoverMetallbNamespace(kube).catch(() => undefined)) ?? "metallb-system";
  await write("nodes.yaml", async () => (await kube.core.listNode()).items.map(strip));
  await write("events.yaml", () => events(kube, [ns, context.testNamespace]));
  await write("services.yaml", async () =>
    (await kube.core.listServiceForAllNamespaces()).items.filter((s) => s.spec?.type === "LoadBalancer").map(strip),
  );
  await write("ipaddresspools.yaml", () => listMetallb(kube, "ipaddresspools"));
  await write("l2advertisements.yaml", () => listMetallb(kube, "l2advertisements"));
  await write("servicel2statuses.yaml", () => listMetallb(kube, "servicel2statuses"));
  await write("metallb-pods.yaml", async () => (await kube.core.listNamespacedPod({ namespace: ns })).items.map(strip));
  for (const [role, selector] of [
    ["controller", CONTROLLER_SELECTOR],
    ["speaker", SPEAKER_SELECTOR],
  ] as const) {
    const pods = await metallbPods(kube, ns, selector).catch(() => []);
    for (const pod of pods) {
      const name = pod.metadata!.name!;
      const node = pod.spec?.nodeName ?? "unscheduled";
      await write(`${role}-${node}-${name}.log`, () =>
        kube.core.readNamespacedPodLog({ namespace: ns, name, container: role, tailLines: 2000 }),
      );
      await write(`${role}-${node}-${name}.metrics`, async () =>
        (await podMetrics(kube, ns, name, context.metricsAccess))
          .filter((s) => s.name.startsWith("metallb_"))
          .map((s) => `${s.name} ${JSON.stringify(s.labels)} ${s.value}`)
          .join("\n"),
      );
    }
  }
  progress("diagnostics", `written to ${dir}`);
  return dir;
}

async function events(kube: KubeClients, namespaces: string[]) {
  const all = [];
  for (const namespace of namespaces) {
    const { items } = await kube.core.listNamespacedEvent({ namespace }).catch(() => ({ items: [] }));
    all.push(
      ...items.map((e) => ({
        namespace,
        object: `${e.involvedObject.kind}/${e.involvedObject.name}`,
        type: e.type,
        reason: e.reason,
        message: e.message,
        count: e.count,
        last: e.lastTimestamp ?? e.eventTime,
      })),
    );
  }
  return all;
}

/** Objects without managedFields noise. */
function strip<T extends { metadata?: { managedFields?: unknown } }>(o: T): T {
  if (o.metadata) delete o.metadata.managedFields;
  return o;
}
