// Before a run touches a live cluster: does its API server answer, does it accept the
// credentials, and may they do everything a verify-only run does? Every request has its own
// deadline (a blackholed address would hang); every failure is a PreflightError of one line that
// says what failed, where (server, context, user — never credentials) and what to do.
import { basename } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { CONTROLLER_SELECTOR, SPEAKER_SELECTOR } from "./metallb.ts";
import { kubeconfigMetricsAccess, metricsEndpointOf } from "./metallb-metrics.ts";
import { redactSecrets } from "./redact.ts";

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Where the run is pointed, in the user's terms. */
export interface Target {
  readonly server: string;
  readonly context: string;
  readonly user: string;
  /** the user entry has no token, client certificate, password, exec plugin or auth provider */
  readonly noCredentials?: boolean;
  /** the command of the user's exec credential plugin (its arguments may hold secrets) */
  readonly credentialPlugin?: string;
}

export class PreflightError extends Error {
  constructor(message: string) {
    super(oneLine(message));
    this.name = "PreflightError";
  }
}

/** Redacted, on one line: messages from client-node may quote headers or bodies. */
export function oneLine(text: string): string {
  return redactSecrets(text)
    .replace(/\s*\n\s*/g, " ")
    .trim();
}

// --- what a verify-only run needs ---------------------------------------------------------------

/** cluster: a cluster-scoped resource; all-namespaces: a namespaced one, listed everywhere;
 * metallb: MetalLB's namespace; run: the run's own namespace (new every run, so only a
 * ClusterRole bound cluster-wide can grant these). */
export type Scope = "cluster" | "all-namespaces" | "metallb" | "run";

export interface Permission {
  readonly verb: "get" | "list" | "create" | "delete";
  /** plural, with a subresource after a slash: "pods/proxy" */
  readonly resource: string;
  /** API group; "" is the core group */
  readonly group: string;
  readonly scope: Scope;
  /** only when the profile names a segmentProbe (hostNetwork probe pods in the run's namespace) */
  readonly segmentProbeOnly?: true;
  /** only when MetalLB serves HTTPS metrics (0.16+) and the user has a bearer token to read them */
  readonly httpsMetricsOnly?: true;
  readonly why: string;
}

const APPS = "apps";
const METALLB = "metallb.io";

/** Every request a verify-only run makes (suites, helpers, global setup, diagnostics). The
 * README's "Nightly" permission list is this list. */
export const VERIFY_ONLY_PERMISSIONS: readonly Permission[] = [
  { verb: "list", resource: "nodes", group: "", scope: "cluster", why: "AC1 nodes Ready and a speaker on each; AC2 node IPs" },
  { verb: "create", resource: "namespaces", group: "", scope: "cluster", why: "the run's own namespace" },
  { verb: "get", resource: "namespaces", group: "", scope: "cluster", why: "waiting until the run's namespace is gone" },
  { verb: "delete", resource: "namespaces", group: "", scope: "cluster", why: "removing the run's namespace" },
  {
    verb: "get",
    resource: "customresourcedefinitions",
    group: "apiextensions.k8s.io",
    scope: "cluster",
    why: "AC1 MetalLB's CRDs served",
  },
  { verb: "list", resource: "deployments", group: APPS, scope: "all-namespaces", why: "finding MetalLB's controller" },
  { verb: "list", resource: "daemonsets", group: APPS, scope: "all-namespaces", why: "finding MetalLB's speaker" },
  { verb: "list", resource: "services", group: "", scope: "all-namespaces", why: "pool addresses in use; diagnostics" },
  {
    verb: "list",
    resource: "ipaddresspools",
    group: METALLB,
    scope: "all-namespaces",
    why: "AC2 no pool elsewhere; diagnostics",
  },
  { verb: "list", resource: "l2advertisements", group: METALLB, scope: "all-namespaces", why: "AC3; diagnostics" },
  {
    verb: "list",
    resource: "servicel2statuses",
    group: METALLB,
    scope: "all-namespaces",
    why: "AC3 announcing node; diagnostics",
  },
  { verb: "list", resource: "secrets", group: "", scope: "metallb", why: "AC1 Helm release (Helm keeps it in Secrets)" },
  { verb: "get", resource: "deployments", group: APPS, scope: "metallb", why: "AC1 controller Available" },
  { verb: "get", resource: "daemonsets", group: APPS, scope: "metallb", why: "AC1 speaker DaemonSet status" },
  { verb: "list", resource: "pods", group: "", scope: "metallb", why: "AC1 speakers Ready; whose metrics to read" },
  { verb: "get", resource: "pods/proxy", group: "", scope: "metallb", why: "AC2/AC3 MetalLB metrics (through the pod proxy)" },
  { verb: "get", resource: "pods/log", group: "", scope: "metallb", why: "diagnostics: controller and speaker logs" },
  { verb: "list", resource: "events", group: "", scope: "metallb", why: "diagnostics" },
  { verb: "get", resource: "ipaddresspools", group: METALLB, scope: "metallb", why: "AC2 the profile's pool" },
  {
    verb: "create",
    resource: "ipaddresspools",
    group: METALLB,
    scope: "metallb",
    why: "AC1 the webhook rejects a malformed pool (server-side dry run: nothing is stored)",
  },
  { verb: "create", resource: "deployments", group: APPS, scope: "run", why: "AC3/AC4 nginx backend" },
  { verb: "get", resource: "deployments", group: APPS, scope: "run", why: "AC3/AC4 backend Available" },
  { verb: "create", resource: "services", group: "", scope: "run", why: "AC3/AC4 LoadBalancer Service" },
  { verb: "get", resource: "services", group: "", scope: "run", why: "AC3/AC4 external IP" },
  { verb: "delete", resource: "services", group: "", scope: "run", why: "AC4 the IP returns to the pool" },
  { verb: "list", resource: "events", group: "", scope: "run", why: "why a Service stays Pending; diagnostics" },
  {
    verb: "list",
    resource: "endpointslices",
    group: "discovery.k8s.io",
    scope: "run",
    why: "AC4 why HTTP fails: ready endpoints",
  },
  { verb: "list", resource: "pods", group: "", scope: "run", why: "AC4 why the backend is not ready; segment probe pods" },
  { verb: "get", resource: "nodes", group: "", scope: "cluster", segmentProbeOnly: true, why: "segment probe: node InternalIP" },
  { verb: "create", resource: "daemonsets", group: APPS, scope: "run", segmentProbeOnly: true, why: "segment probe pods" },
  { verb: "get", resource: "daemonsets", group: APPS, scope: "run", segmentProbeOnly: true, why: "segment probe Ready" },

  // Websocket exec is a GET (authorized as "get" up to Kubernetes 1.30, as "create" from 1.31).
  { verb: "get", resource: "pods/exec", group: "", scope: "run", segmentProbeOnly: true, why: "ARP and HTTP from the probe" },
  { verb: "create", resource: "pods/exec", group: "", scope: "run", segmentProbeOnly: true, why: "ARP and HTTP from the probe" },
  // MetalLB 0.16+: metrics over HTTPS, for tokens allowed to get /metrics, through a port-forward.
  {
    verb: "get",
    resource: "/metrics",
    group: "",
    scope: "cluster",
    httpsMetricsOnly: true,
    why: "MetalLB 0.16+ metrics authorization",
  },
  {
    verb: "get",
    resource: "pods/portforward",
    group: "",
    scope: "metallb",
    httpsMetricsOnly: true,
    why: "MetalLB 0.16+ metrics",
  },
  {
    verb: "create",
    resource: "pods/portforward",
    group: "",
    scope: "metallb",
    httpsMetricsOnly: true,
    why: "MetalLB 0.16+ metrics",
  },
];

/** kubectl's spelling: "list nodes", "get pods/proxy", "list ipaddresspools.metallb.io". */
export function permissionName(p: Permission): string {
  if (p.resource.startsWith("/")) return `${p.verb} ${p.resource}`; // a non-resource URL
  const [resource, subresource] = p.resource.split("/");
  const qualified = p.group ? `${resource}.${p.group}` : resource;
  return `${p.verb} ${qualified}${subresource ? `/${subresource}` : ""}`;
}

export interface Namespaces {
  /** undefined when MetalLB's namespace is not known (not installed, or not discoverable) */
  readonly metallb?: string;
  /** MetalLB's namespace could not be looked up (forbidden, say): its permissions were not checked */
  readonly metallbUnchecked?: boolean;
  readonly run: string;
}

/** One line naming every missing permission, grouped by where it is missing. */
export function missingPermissionsLine(target: Target, missing: readonly Permission[], namespaces: Namespaces): string {
  const names = (scope: Scope) => missing.filter((p) => p.scope === scope).map(permissionName);
  const groups: [Scope, string][] = [
    ["cluster", ""],
    ["all-namespaces", "in all namespaces: "],
    ["metallb", `in ${namespaces.metallb ?? "MetalLB's namespace"}: `],
    ["run", `in the run's namespace ${namespaces.run}: `],
  ];
  const parts = groups.filter(([scope]) => names(scope).length > 0).map(([scope, where]) => where + names(scope).join(", "));
  if (namespaces.metallbUnchecked) parts.push("(MetalLB's namespace not checked: finding it needs list deployments.apps)");
  return `RBAC: user ${target.user} (context ${target.context}) may not: ${parts.join("; ")} — grant them (see README "Nightly")`;
}

// --- classifying a failed request -------------------------------------------------------------

export class DeadlineExceeded extends Error {
  constructor(
    readonly request: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer to ${request} within ${timeoutMs} ms`);
    this.name = "DeadlineExceeded";
  }
}

const UNREACHABLE: Readonly<Record<string, string>> = {
  ECONNREFUSED: "ECONNREFUSED (nothing listens there)",
  ECONNRESET: "ECONNRESET (the connection was dropped)",
  EHOSTUNREACH: "EHOSTUNREACH (no route to the host)",
  ENETUNREACH: "ENETUNREACH (no route to the network)",
  ETIMEDOUT: "ETIMEDOUT",
  ENOTFOUND: "ENOTFOUND (the host name does not resolve)",
  EAI_AGAIN: "EAI_AGAIN (DNS did not answer)",
  EPIPE: "EPIPE (the connection was dropped)",
  UND_ERR_CONNECT_TIMEOUT: "connect timeout",
  UND_ERR_HEADERS_TIMEOUT: "no response headers in time",
  UND_ERR_SOCKET: "the connection was dropped",
};

export const SSAR_REQUEST = "create selfsubjectaccessreviews.authorization.k8s.io";

const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(VERIFY|GET)|EPROTO|HOSTNAME/;

/** The first `code` along an error's cause chain (fetch wraps the socket error in `cause`). */
export function errorCode(error: unknown): { code: string; message: string } | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const { code, message, cause, errors } = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === "string") return { code, message: String(message ?? "") };
    e = cause ?? (Array.isArray(errors) ? errors[0] : undefined);
  }
  return undefined;
}

/** The HTTP status of an API error (client-node's ApiException), and the server's own message. */
export function httpStatus(error: unknown): { code: number; message?: string } | undefined {
  if (!(error instanceof k8s.ApiException)) return undefined;
  const body = error.body as { message?: unknown } | string | undefined;
  const message = typeof body === "string" ? body : typeof body?.message === "string" ? body.message : undefined;
  return { code: error.code, message: message?.trim() || undefined };
}

function tlsAdvice(code: string, target: Target): string {
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID")
    return "the server's certificate does not name this address: use an address it names, or set tls-server-name in the kubeconfig";
  if (code === "CERT_HAS_EXPIRED") return "the server's certificate has expired: renew it";
  if (/ALERT/.test(code))
    return `the server refused the handshake (client certificate of user ${target.user}?): refresh the kubeconfig`;
  return "the server's certificate is not signed by the kubeconfig's certificate-authority: fetch a fresh kubeconfig for this cluster";
}

/** One line for a request to the API server that failed (never a stack, never a credential:
 * PreflightError redacts). Text quoted from elsewhere goes last: redaction hides a `token: …`
 * value up to the end of the line. */
export function describeRequestFailure(error: unknown, target: Target, request: string): string {
  const where = `API server ${target.server} (context ${target.context})`;
  if (error instanceof DeadlineExceeded) {
    const plugin = target.credentialPlugin
      ? `, or credential plugin ${target.credentialPlugin} of user ${target.user} hangs`
      : "";
    return `${where} unreachable${plugin}: ${error.message} — is the cluster up and the address right (a firewall that drops packets looks like this)?`;
  }
  const status = httpStatus(error);
  if (status?.code === 401 && target.noCredentials)
    return `user ${target.user} (context ${target.context}) has no credentials (no token, client certificate or exec plugin) and ${target.server} rejects anonymous requests (HTTP 401) — use a kubeconfig with credentials`;
  if (status?.code === 401)
    return `credentials of user ${target.user} (context ${target.context}) rejected by ${target.server} (HTTP 401): token or client certificate expired or invalid — refresh the kubeconfig`;
  if (status?.code === 403) {
    const who = `RBAC: user ${target.user} (context ${target.context}) may not ${request} on ${target.server}`;
    const server = status.message ? `: ${status.message}` : "";
    return request === SSAR_REQUEST
      ? `${who} (HTTP 403${server}): the permission check itself is forbidden, so the run's permissions are missing too — grant them (see README "Nightly")`
      : `${who} (HTTP 403${server}) — grant it (see README "Nightly")`;
  }
  if (status)
    return `${where} answered ${request} with HTTP ${status.code} — is this the cluster's API server, and is it healthy?${status.message ? ` It said: ${status.message}` : ""}`;
  const socket = errorCode(error);
  if (socket && UNREACHABLE[socket.code])
    return `${where} unreachable: ${UNREACHABLE[socket.code]} — is the cluster up and the address right?`;
  if (socket && TLS_CODE.test(socket.code)) {
    const detail = socket.message.split(/[;\n]/)[0]!.trim();
    return `TLS certificate problem with ${where}: ${socket.code}${detail ? ` (${detail})` : ""} — ${tlsAdvice(socket.code, target)}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/HTTP protocol is not allowed/.test(message))
    return `${where} is addressed over plain http, which client-node refuses without insecure-skip-tls-verify: use its https:// address`;
  if (!socket && target.credentialPlugin)
    return `credential plugin ${target.credentialPlugin} of user ${target.user} (context ${target.context}) failed (run it by hand to see why, or refresh the kubeconfig): ${message.split("\n")[0]}`;
  const cause = socket && !message.includes(socket.message) ? `: ${socket.code} ${socket.message}` : "";
  return `cannot ${request} on ${where}: ${message.split("\n")[0]}${cause}`;
}

// --- the checks -------------------------------------------------------------------------------

export interface PreflightOptions {
  /** the profile's MetalLB namespace, or "discover" (then: where its controller runs) */
  readonly metallbNamespace: string;
  readonly runNamespace: string;
  readonly segmentProbe: boolean;
  readonly requestTimeoutMs?: number;
}

export interface PreflightResult {
  readonly target: Target;
  /** the server's gitVersion, e.g. v1.25.4+k3s1 */
  readonly serverVersion: string;
  readonly metallbNamespace?: string;
  readonly permissionsChecked: number;
  readonly durationMs: number;
}

/** Server, context and user of the kubeconfig's current context. */
export function targetOf(kc: k8s.KubeConfig): Target {
  const user = kc.getCurrentUser();
  const credentials = [user?.token, user?.certData, user?.certFile, user?.password, user?.exec, user?.authProvider];
  return {
    server: kc.getCurrentCluster()?.server ?? "(no server)",
    context: kc.getCurrentContext() || "(none)",
    user: user?.name ?? "(none)",
    noCredentials: credentials.every((c) => !c),
    credentialPlugin: typeof user?.exec?.command === "string" ? basename(user.exec.command) : undefined,
  };
}

type RequestOptions = k8s.ConfigurationOptions;

/** Runs `call` with an abort signal that fires after `timeoutMs`; also gives up then if the
 * call ignores it (an exec credential plugin, say). */
export async function withDeadline<T>(
  request: string,
  timeoutMs: number,
  call: (options: RequestOptions) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const expired = new DeadlineExceeded(request, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(expired);
      reject(expired);
    }, timeoutMs);
  });
  const signal: k8s.ObservableMiddleware = {
    pre: (context) => {
      context.setSignal(controller.signal);
      return new k8s.Observable(Promise.resolve(context));
    },
    post: (response) => new k8s.Observable(Promise.resolve(response)),
  };
  try {
    return await Promise.race([call({ middleware: [signal], middlewareMergeStrategy: "append" }), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where MetalLB runs, like discoverMetallbNamespace, within a deadline; undefined when unknown. */
async function discoverNamespace(apps: k8s.AppsV1Api, timeoutMs: number): Promise<string | undefined> {
  // Two lists at most; a failure (forbidden, say) is the caller's to note.
  const lists = [
    (o: RequestOptions) => apps.listDeploymentForAllNamespaces({ labelSelector: CONTROLLER_SELECTOR }, o),
    (o: RequestOptions) => apps.listDaemonSetForAllNamespaces({ labelSelector: SPEAKER_SELECTOR }, o),
  ];
  for (const list of lists) {
    const { items } = await withDeadline("list MetalLB workloads", timeoutMs, list);
    const namespaces = new Set(items.map((o) => o.metadata?.namespace).filter((n) => n !== undefined));
    if (namespaces.size === 1) return [...namespaces][0];
    if (namespaces.size > 1) return undefined;
  }
  return undefined;
}

/** Does MetalLB's controller in `namespace` serve its metrics over HTTPS (0.16+)? Unknown: no. */
async function servesHttpsMetrics(apps: k8s.AppsV1Api, namespace: string, timeoutMs: number): Promise<boolean> {
  const { items } = await withDeadline("list MetalLB's controller", timeoutMs, (o) =>
    apps.listNamespacedDeployment({ namespace, labelSelector: CONTROLLER_SELECTOR }, o),
  ).catch(() => ({ items: [] as k8s.V1Deployment[] }));
  return items.some((d) => metricsEndpointOf({ spec: d.spec?.template.spec }).scheme === "https");
}

async function allowed(
  authz: k8s.AuthorizationV1Api,
  p: Permission,
  namespace: string | undefined,
  timeoutMs: number,
): Promise<boolean> {
  const [resource, subresource] = p.resource.split("/");
  const review = await withDeadline(SSAR_REQUEST, timeoutMs, (options) =>
    authz.createSelfSubjectAccessReview(
      {
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectAccessReview",
          spec: p.resource.startsWith("/")
            ? { nonResourceAttributes: { verb: p.verb, path: p.resource } }
            : { resourceAttributes: { verb: p.verb, group: p.group, resource, subresource, namespace } },
        },
      },
      options,
    ),
  );
  return review.status?.allowed === true;
}

/**
 * GET /version, then a SelfSubjectAccessReview per permission the run needs. Returns what it
 * found, or throws a PreflightError (one line) naming the first problem — every missing
 * permission at once.
 */
export async function preflight(kc: k8s.KubeConfig, options: PreflightOptions): Promise<PreflightResult> {
  const t0 = performance.now();
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const target = targetOf(kc);
  const step = async <T>(request: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof PreflightError) throw error;
      throw new PreflightError(describeRequestFailure(error, target, request));
    }
  };
  let version: k8s.VersionApi, authz: k8s.AuthorizationV1Api, apps: k8s.AppsV1Api;
  try {
    version = kc.makeApiClient(k8s.VersionApi);
    authz = kc.makeApiClient(k8s.AuthorizationV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
  } catch (error) {
    throw new PreflightError(`context ${target.context} cannot be used: ${(error as Error).message}`);
  }

  const info = await step("GET /version", () => withDeadline("GET /version", timeoutMs, (o) => version.getCode({}, o)));

  const needed = VERIFY_ONLY_PERMISSIONS.filter((p) => (options.segmentProbe || !p.segmentProbeOnly) && !p.httpsMetricsOnly);
  const check = (scope: Scope, namespace: string | undefined, list = needed) =>
    Promise.all(
      list.filter((p) => p.scope === scope).map(async (p) => ({ p, ok: await allowed(authz, p, namespace, timeoutMs) })),
    );
  const reviewed = await step(SSAR_REQUEST, async () => {
    const fixed = options.metallbNamespace !== "discover" ? options.metallbNamespace : undefined;
    let metallbUnchecked = false;
    const [cluster, everywhere, run, discovered] = await Promise.all([
      check("cluster", undefined),
      check("all-namespaces", undefined),
      check("run", options.runNamespace),
      // Not installed: nothing to check there (AC1 says so). Forbidden: its own review says so.
      fixed ??
        discoverNamespace(apps, timeoutMs).catch(() => {
          metallbUnchecked = true;
          return undefined;
        }),
    ]);
    const metallb = discovered ? await check("metallb", discovered) : [];
    // Reading HTTPS metrics needs more, but only with a token to read them with (without one
    // those checks are reported "not verifiable here").
    const https =
      discovered && (await kubeconfigMetricsAccess(kc)).bearerToken && (await servesHttpsMetrics(apps, discovered, timeoutMs))
        ? VERIFY_ONLY_PERMISSIONS.filter((p) => p.httpsMetricsOnly)
        : [];
    const httpsResults = [...(await check("cluster", undefined, https)), ...(await check("metallb", discovered, https))];
    return {
      results: [...cluster, ...everywhere, ...metallb, ...run, ...httpsResults],
      metallbNamespace: discovered,
      metallbUnchecked,
    };
  });
  const missing = reviewed.results.filter((r) => !r.ok).map((r) => r.p);
  if (missing.length > 0)
    throw new PreflightError(
      missingPermissionsLine(target, missing, {
        metallb: reviewed.metallbNamespace,
        metallbUnchecked: reviewed.metallbUnchecked,
        run: options.runNamespace,
      }),
    );
  return {
    target,
    serverVersion: info.gitVersion,
    metallbNamespace: reviewed.metallbNamespace,
    permissionsChecked: reviewed.results.length,
    durationMs: Math.round(performance.now() - t0),
  };
}
