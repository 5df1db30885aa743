// A kubeconfig file and context, checked before anything is contacted: the file exists and
// parses, the context exists (or the current one does), and it names a cluster and a user the
// file defines. Shared by the commands that take --kubeconfig (conformance, gate). Each problem
// is one line naming the file and what to pass; no credential is ever part of it.
import { existsSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";

export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KubeconfigError";
  }
}

const names = (items: readonly { name: string }[]) => items.map((i) => i.name).join(", ") || "none";

/** The kubeconfig at `path` with `context` (or its current one) selected; throws KubeconfigError. */
export function loadKubeconfigFile(path: string | undefined, context?: string): KubeConfig {
  if (!path || !existsSync(path)) throw new KubeconfigError(`kubeconfig not found: ${path ?? "(none given)"}`);
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (error) {
    const reason = error instanceof TypeError ? "empty, or not a YAML mapping" : (error as Error).message.split("\n")[0];
    throw new KubeconfigError(`kubeconfig ${path} is not readable: ${reason}`);
  }
  const contexts = `contexts: ${names(kc.getContexts())}`;
  if (context) {
    if (!kc.getContextObject(context)) throw new KubeconfigError(`context "${context}" not in ${path} (${contexts})`);
    kc.setCurrentContext(context);
  }
  const current = kc.getCurrentContext();
  if (!current) throw new KubeconfigError(`kubeconfig ${path} has no current-context (${contexts}): pass --context NAME`);
  const selected = kc.getContextObject(current);
  if (!selected)
    throw new KubeconfigError(
      `current-context "${current}" of ${path} is not one of its contexts (${contexts}): pass --context NAME`,
    );
  if (!kc.getCurrentCluster()?.server)
    throw new KubeconfigError(
      `context "${current}" of ${path} names cluster "${selected.cluster}", which the file does not define with a server (clusters: ${names(kc.getClusters())})`,
    );
  if (selected.user && !kc.getCurrentUser())
    throw new KubeconfigError(
      `context "${current}" of ${path} names user "${selected.user}", which the file does not define (users: ${names(kc.getUsers())})`,
    );
  return kc;
}
