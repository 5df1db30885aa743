// Installing MetalLB with the helm CLI (built by `npm run images`, or on PATH), and configuring
// the profile's pool and advertisement. Only the ephemeral target, or a kubeconfig target in
// explicit install mode, ever calls this.
import { execa } from "execa";
import { PatchStrategy, type KubernetesObject } from "@kubernetes/client-node";
import type { KubeClients } from "./kube.ts";
import { progress } from "./progress.ts";

export interface HelmInstallOptions {
  helm: string;
  kubeconfigPath: string;
  chart: string;
  chartVersion: string;
  release: string;
  namespace: string;
  valuesFile: string;
  timeoutMs: number;
}

/** `helm upgrade --install --wait`: idempotent; a second call with the same inputs is a no-op upgrade. */
export async function helmUpgradeInstall(o: HelmInstallOptions): Promise<void> {
  progress("metallb", `helm upgrade --install ${o.release} (chart ${o.chartVersion}) in ${o.namespace}`);
  // prettier-ignore
  const result = await execa(
    o.helm,
    [
      "upgrade", "--install", o.release, o.chart,
      "--version", o.chartVersion,
      "--namespace", o.namespace, "--create-namespace",
      "--values", o.valuesFile,
      "--wait", "--timeout", `${Math.ceil(o.timeoutMs / 1000)}s`,
    ],
    { env: { KUBECONFIG: o.kubeconfigPath }, reject: false, all: true },
  );
  if (result.exitCode !== 0) {
    throw new Error(`helm upgrade --install ${o.release} failed (exit ${result.exitCode}): ${lastLines(result.all ?? "", 5)}`);
  }
}

/** `helm uninstall --wait` (the fault catalog's "MetalLB not installed"). */
export async function helmUninstall(
  o: Pick<HelmInstallOptions, "helm" | "kubeconfigPath" | "release" | "namespace" | "timeoutMs">,
): Promise<void> {
  progress("metallb", `helm uninstall ${o.release} in ${o.namespace}`);
  // prettier-ignore
  const result = await execa(
    o.helm,
    ["uninstall", o.release, "--namespace", o.namespace, "--wait", "--timeout", `${Math.ceil(o.timeoutMs / 1000)}s`],
    { env: { KUBECONFIG: o.kubeconfigPath }, reject: false, all: true },
  );
  if (result.exitCode !== 0) {
    throw new Error(`helm uninstall ${o.release} failed (exit ${result.exitCode}): ${lastLines(result.all ?? "", 5)}`);
  }
}

export interface PoolSpec {
  namespace: string;
  poolName: string;
  addresses: string[];
  autoAssign: boolean;
  advertisementName: string;
}

export function poolObjects(spec: PoolSpec): KubernetesObject[] {
  return [
    {
      apiVersion: "metallb.io/v1beta1",
      kind: "IPAddressPool",
      metadata: { name: spec.poolName, namespace: spec.namespace },
      spec: { addresses: spec.addresses, autoAssign: spec.autoAssign },
    } as KubernetesObject,
    {
      apiVersion: "metallb.io/v1beta1",
      kind: "L2Advertisement",
      metadata: { name: spec.advertisementName, namespace: spec.namespace },
      spec: { ipAddressPools: [spec.poolName] },
    } as KubernetesObject,
  ];
}

/** Server-side apply of the pool and advertisement (the story's ip-pool.yaml). */
export async function applyPoolAndAdvertisement(kube: KubeClients, spec: PoolSpec): Promise<void> {
  for (const object of poolObjects(spec)) {
    await kube.objects.patch(object, undefined, undefined, "metallb-conformance", true, PatchStrategy.ServerSideApply);
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join(" | ");
}
