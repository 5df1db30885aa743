// Removes what one run created, from a process of its own: started detached by the run when it is
// interrupted (Ctrl-C, SIGTERM), because the test runner exits on the signal before an in-process
// cleanup could finish. Input: METALLB_CONFORMANCE_CLEANUP={"runId", "target", "kubeconfigPath"?,
// "context"?, "namespace"?}.
import { stopEphemeralCluster } from "../helpers/cluster.ts";
import { deleteNamespace } from "../helpers/conditions.ts";
import type { CleanupOrder } from "../helpers/detached-cleanup.ts";
import { kubeClients } from "../helpers/kube.ts";

const order = JSON.parse(process.env.METALLB_CONFORMANCE_CLEANUP ?? "{}") as CleanupOrder;
if (!order.runId) {
  process.stderr.write("cleanup-run: METALLB_CONFORMANCE_CLEANUP must name a runId\n");
  process.exit(2);
}
if (order.target === "kubeconfig" && order.kubeconfigPath && order.namespace) {
  const kube = kubeClients({ path: order.kubeconfigPath, context: order.context });
  await deleteNamespace(kube, order.namespace, 120_000).catch((e: unknown) =>
    process.stderr.write(`cleanup-run: ${String(e)}\n`),
  );
}
if (order.target === "k3s") await stopEphemeralCluster(order.runId);
