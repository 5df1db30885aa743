import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DeadlineExceeded,
  describeRequestFailure,
  errorCode,
  missingPermissionsLine,
  permissionName,
  preflight,
  PreflightError,
  SSAR_REQUEST,
  VERIFY_ONLY_PERMISSIONS,
  type Permission,
  type Target,
} from "./preflight.ts";

const TOKEN = "metallb-conformance-FAKE-TOKEN-0123456789abcdef";
const target: Target = { server: "https://192.168.2.20:6443", context: "homelab", user: "nightly" };

function fetchFailure(code: string, message: string): Error {
  return new TypeError("fetch failed", { cause: Object.assign(new Error(message), { code }) });
}

const perm = (verb: Permission["verb"], resource: string, group: string, scope: Permission["scope"]): Permission => ({
  verb,
  resource,
  group,
  scope,
  why: "test",
});

describe("VERIFY_ONLY_PERMISSIONS", () => {
  it("lists each permission once, each with a reason", () => {
    const keys = VERIFY_ONLY_PERMISSIONS.map((p) => `${p.scope} ${permissionName(p)}`);
    expect(new Set(keys).size, `duplicates in ${keys.join(", ")}`).toBe(keys.length);
    for (const p of VERIFY_ONLY_PERMISSIONS) expect(p.why, permissionName(p)).not.toBe("");
  });

  it("covers what the suites read cluster-wide and what the run creates", () => {
    const names = VERIFY_ONLY_PERMISSIONS.map((p) => `${p.scope} ${permissionName(p)}`);
    expect(names).toEqual(
      expect.arrayContaining([
        "cluster list nodes",
        "cluster create namespaces",
        "cluster delete namespaces",
        "metallb list secrets",
        "all-namespaces list deployments.apps",
        "all-namespaces list ipaddresspools.metallb.io",
        "metallb get pods/proxy",
        "run create services",
        "run create deployments.apps",
      ]),
    );
  });
});

describe("permissionName", () => {
  it("spells permissions the way kubectl auth can-i does", () => {
    expect(permissionName(perm("list", "nodes", "", "cluster"))).toBe("list nodes");
    expect(permissionName(perm("get", "pods/proxy", "", "metallb"))).toBe("get pods/proxy");
    expect(permissionName(perm("list", "ipaddresspools", "metallb.io", "all-namespaces"))).toBe("list ipaddresspools.metallb.io");
  });
});

describe("missingPermissionsLine", () => {
  it("names every missing permission on one line, grouped by namespace", () => {
    const line = missingPermissionsLine(
      target,
      [
        perm("list", "nodes", "", "cluster"),
        perm("create", "namespaces", "", "cluster"),
        perm("list", "secrets", "", "all-namespaces"),
        perm("get", "pods/proxy", "", "metallb"),
        perm("create", "services", "", "run"),
      ],
      { metallb: "metallb-system", run: "metallb-conformance-abc" },
    );
    expect(line).toBe(
      'RBAC: user nightly (context homelab) may not: list nodes, create namespaces; in all namespaces: list secrets; in metallb-system: get pods/proxy; in the run\'s namespace metallb-conformance-abc: create services — grant them (see README "Nightly")',
    );
  });

  it("says when MetalLB's namespace could not be looked up, so its permissions were not checked", () => {
    const line = missingPermissionsLine(target, [perm("list", "deployments", "apps", "all-namespaces")], {
      run: "r",
      metallbUnchecked: true,
    });
    expect(line).toBe(
      'RBAC: user nightly (context homelab) may not: in all namespaces: list deployments.apps; (MetalLB\'s namespace not checked: finding it needs list deployments.apps) — grant them (see README "Nightly")',
    );
  });

  it("leaves out groups with nothing missing and says so when MetalLB's namespace is unknown", () => {
    const line = missingPermissionsLine(target, [perm("get", "pods/log", "", "metallb")], { run: "r" });
    expect(line).toBe(
      'RBAC: user nightly (context homelab) may not: in MetalLB\'s namespace: get pods/log — grant them (see README "Nightly")',
    );
  });
});

describe("describeRequestFailure", () => {
  it("says the API server is unreachable when nothing listens", () => {
    const line = describeRequestFailure(
      fetchFailure("ECONNREFUSED", "connect ECONNREFUSED 192.168.2.20:6443"),
      target,
      "GET /version",
    );
    expect(line).toBe(
      "API server https://192.168.2.20:6443 (context homelab) unreachable: ECONNREFUSED (nothing listens there) — is the cluster up and the address right?",
    );
  });

  it("says the host name does not resolve", () => {
    const line = describeRequestFailure(fetchFailure("ENOTFOUND", "getaddrinfo ENOTFOUND k3s"), target, "GET /version");
    expect(line).toMatch(/unreachable: ENOTFOUND \(the host name does not resolve\)/);
  });

  it("finds the code inside an AggregateError (several addresses tried)", () => {
    const aggregate = new AggregateError([Object.assign(new Error("connect EHOSTUNREACH"), { code: "EHOSTUNREACH" })]);
    expect(errorCode(new TypeError("fetch failed", { cause: aggregate }))?.code).toBe("EHOSTUNREACH");
  });

  it("names the deadline when the server does not answer", () => {
    const line = describeRequestFailure(new DeadlineExceeded("GET /version", 10_000), target, "GET /version");
    expect(line).toMatch(
      /^API server https:\/\/192\.168\.2\.20:6443 \(context homelab\) unreachable: no answer to GET \/version within 10000 ms/,
    );
  });

  it("calls a TLS failure a certificate problem", () => {
    const self = describeRequestFailure(
      fetchFailure(
        "DEPTH_ZERO_SELF_SIGNED_CERT",
        "self-signed certificate; if the root CA is installed locally, try --use-system-ca",
      ),
      target,
      "GET /version",
    );
    expect(self).toBe(
      "TLS certificate problem with API server https://192.168.2.20:6443 (context homelab): DEPTH_ZERO_SELF_SIGNED_CERT (self-signed certificate) — the server's certificate is not signed by the kubeconfig's certificate-authority: fetch a fresh kubeconfig for this cluster",
    );
    const altname = describeRequestFailure(
      fetchFailure("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames"),
      target,
      "GET /version",
    );
    expect(altname).toMatch(/certificate problem.*does not name this address/);
  });

  it("says the credentials were rejected on 401", () => {
    const line = describeRequestFailure(
      new k8s.ApiException(401, "Unauthorized", { message: "Unauthorized" }, {}),
      target,
      "GET /version",
    );
    expect(line).toBe(
      "credentials of user nightly (context homelab) rejected by https://192.168.2.20:6443 (HTTP 401): token or client certificate expired or invalid — refresh the kubeconfig",
    );
  });

  it("says so when the kubeconfig's user has no credentials at all (401 as anonymous)", () => {
    const error = new k8s.ApiException(401, "Unauthorized", { message: "Unauthorized" }, {});
    const line = describeRequestFailure(error, { ...target, noCredentials: true }, "GET /version");
    expect(line).toBe(
      "user nightly (context homelab) has no credentials (no token, client certificate or exec plugin) and https://192.168.2.20:6443 rejects anonymous requests (HTTP 401) — use a kubeconfig with credentials",
    );
  });

  it("treats a 403 on the access review itself as missing permissions, and says so", () => {
    const body = {
      message: 'selfsubjectaccessreviews.authorization.k8s.io is forbidden: User "system:anonymous" cannot create resource',
    };
    const line = describeRequestFailure(new k8s.ApiException(403, "Forbidden", body, {}), target, SSAR_REQUEST);
    expect(line).toMatch(
      /^RBAC: user nightly \(context homelab\) may not create selfsubjectaccessreviews\.authorization\.k8s\.io/,
    );
    expect(line).toContain('User "system:anonymous"');
    expect(line).toContain("the permission check itself is forbidden");
  });

  it("asks whether it is an API server at all on other HTTP statuses", () => {
    const line = describeRequestFailure(new k8s.ApiException(502, "Bad Gateway", "upstream down", {}), target, "GET /version");
    expect(line).toMatch(
      /answered GET \/version with HTTP 502 — is this the cluster's API server, and is it healthy\? It said: upstream down$/,
    );
  });

  it("blames the exec credential plugin when it fails, without its output's secrets", () => {
    const error = new Error(`token: ${TOKEN}\nmore`);
    const line = new PreflightError(describeRequestFailure(error, { ...target, credentialPlugin: "kubelogin" }, "GET /version"))
      .message;
    expect(line).toBe(
      "credential plugin kubelogin of user nightly (context homelab) failed (run it by hand to see why, or refresh the kubeconfig): token: [REDACTED]",
    );
  });

  it("keeps an unknown error to one line without credentials (PreflightError redacts)", () => {
    const error = new Error(`exec plugin failed\nAuthorization: Bearer ${TOKEN}\ntoken: ${TOKEN}`);
    const message = new PreflightError(describeRequestFailure(error, target, "GET /version")).message;
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain("\n");
    expect(message).toMatch(
      /^cannot GET \/version on API server https:\/\/192\.168\.2\.20:6443 \(context homelab\): exec plugin failed/,
    );
  });
});

// preflight() against a fake API server on loopback: it answers /version, access reviews (denying
// what `deny` names) and the MetalLB discovery list.
describe("preflight (fake API server on 127.0.0.1)", () => {
  let server: Server;
  let url: string;
  let behaviour: {
    version: number;
    deny: (attrs: Record<string, string>) => boolean;
    hang: boolean;
    discovery?: number;
    /** the controller's metrics port, as MetalLB 0.16+ declares it */
    httpsMetrics?: boolean;
  };
  const reviews: Record<string, string>[] = [];

  function reply(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (behaviour.hang) return; // never answers
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.url === "/version") {
      if (behaviour.version !== 200) return reply(res, behaviour.version, { kind: "Status", message: "Unauthorized", code: 401 });
      return reply(res, 200, {
        major: "1",
        minor: "25",
        gitVersion: "v1.25.4+k3s1",
        gitCommit: "x",
        gitTreeState: "clean",
        buildDate: "2022-11-15T00:00:00Z",
        goVersion: "go1.19",
        compiler: "gc",
        platform: "linux/amd64",
      });
    }
    if (req.url?.startsWith("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")) {
      const review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        spec: { resourceAttributes?: Record<string, string>; nonResourceAttributes?: Record<string, string> };
      };
      const attrs = review.spec.resourceAttributes ?? review.spec.nonResourceAttributes!;
      reviews.push(attrs);
      return reply(res, 201, { ...review, status: { allowed: !behaviour.deny(attrs) } });
    }
    if (req.url?.startsWith("/apis/apps/v1/deployments") && behaviour.discovery === 403)
      return reply(res, 403, { kind: "Status", message: "deployments.apps is forbidden", code: 403 });
    if (req.url?.startsWith("/apis/apps/v1/deployments"))
      return reply(res, 200, { items: [{ metadata: { name: "metallb-controller", namespace: "metallb-system" } }] });
    if (req.url?.startsWith("/apis/apps/v1/namespaces/metallb-system/deployments")) {
      const port = behaviour.httpsMetrics
        ? { name: "metricshttps", containerPort: 9120 }
        : { name: "monitoring", containerPort: 7472 };
      const template = { spec: { containers: [{ name: "controller", ports: [port] }] } };
      return reply(res, 200, { items: [{ metadata: { name: "metallb-controller" }, spec: { selector: {}, template } }] });
    }
    reply(res, 404, { kind: "Status", code: 404 });
  }

  function kubeconfig(): k8s.KubeConfig {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: url, skipTLSVerify: true }],
      users: [{ name: "nightly", token: TOKEN }],
      contexts: [{ name: "fake-ctx", cluster: "fake", user: "nightly" }],
      currentContext: "fake-ctx",
    });
    return kc;
  }

  const options = {
    metallbNamespace: "discover",
    runNamespace: "metallb-conformance-t1",
    segmentProbe: false,
    requestTimeoutMs: 2000,
  };

  beforeAll(async () => {
    server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("passes when every permission is granted, discovering MetalLB's namespace", async () => {
    behaviour = { version: 200, deny: () => false, hang: false };
    reviews.length = 0;
    const result = await preflight(kubeconfig(), options);
    expect(result.serverVersion).toBe("v1.25.4+k3s1");
    expect(result.metallbNamespace).toBe("metallb-system");
    const expected = VERIFY_ONLY_PERMISSIONS.filter((p) => !p.segmentProbeOnly && !p.httpsMetricsOnly).length;
    expect(result.permissionsChecked).toBe(expected);
    expect(reviews).toHaveLength(expected);
    expect(reviews).toContainEqual(
      expect.objectContaining({ verb: "get", resource: "pods", subresource: "proxy", namespace: "metallb-system" }),
    );
    expect(reviews).toContainEqual(
      expect.objectContaining({ verb: "create", resource: "services", namespace: "metallb-conformance-t1" }),
    );
    const listNodes = reviews.find((r) => r.verb === "list" && r.resource === "nodes");
    expect(listNodes?.namespace, "a cluster-wide review carries no namespace").toBeUndefined();
  });

  it("checks the segment probe's permissions only when the profile has one", async () => {
    behaviour = { version: 200, deny: () => false, hang: false };
    reviews.length = 0;
    const result = await preflight(kubeconfig(), { ...options, segmentProbe: true });
    expect(result.permissionsChecked).toBe(VERIFY_ONLY_PERMISSIONS.filter((p) => !p.httpsMetricsOnly).length);
    expect(reviews).toContainEqual(expect.objectContaining({ verb: "create", resource: "pods", subresource: "exec" }));
  });

  it("checks port-forward and get /metrics only when MetalLB serves HTTPS metrics (0.16+)", async () => {
    behaviour = { version: 200, deny: (a) => a.path === "/metrics", hang: false, httpsMetrics: true };
    reviews.length = 0;
    const error = await preflight(kubeconfig(), options).catch((e: unknown) => e);
    expect(reviews).toContainEqual({ verb: "get", path: "/metrics" });
    expect(reviews).toContainEqual(
      expect.objectContaining({ verb: "create", resource: "pods", subresource: "portforward", namespace: "metallb-system" }),
    );
    expect((error as Error).message).toBe(
      'RBAC: user nightly (context fake-ctx) may not: get /metrics — grant them (see README "Nightly")',
    );
  });

  it("names every denied permission in one RBAC line", async () => {
    behaviour = {
      version: 200,
      deny: (a) => (a.verb === "list" && a.resource === "nodes") || (a.verb === "create" && a.resource === "namespaces"),
      hang: false,
    };
    const error = await preflight(kubeconfig(), options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreflightError);
    expect((error as Error).message).toBe(
      'RBAC: user nightly (context fake-ctx) may not: list nodes, create namespaces — grant them (see README "Nightly")',
    );
  });

  it("notes that MetalLB's namespace went unchecked when finding it is forbidden", async () => {
    behaviour = { version: 200, deny: (a) => a.resource === "deployments" && a.verb === "list", hang: false, discovery: 403 };
    reviews.length = 0;
    const error = (await preflight(kubeconfig(), options).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(
      'RBAC: user nightly (context fake-ctx) may not: in all namespaces: list deployments.apps; (MetalLB\'s namespace not checked: finding it needs list deployments.apps) — grant them (see README "Nightly")',
    );
    expect(reviews.some((r) => r.resource === "pods" && r.subresource === "proxy")).toBe(false);
  });

  it("reports rejected credentials (401) without the token", async () => {
    behaviour = { version: 401, deny: () => false, hang: false };
    const error = (await preflight(kubeconfig(), options).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(PreflightError);
    expect(error.message).toMatch(
      /^credentials of user nightly \(context fake-ctx\) rejected by http:\/\/127\.0\.0\.1:\d+ \(HTTP 401\)/,
    );
    expect(error.message).not.toContain(TOKEN);
  });

  it("gives up on a server that never answers at the deadline", async () => {
    behaviour = { version: 200, deny: () => false, hang: true };
    const t0 = Date.now();
    const error = (await preflight(kubeconfig(), { ...options, requestTimeoutMs: 300 }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(PreflightError);
    expect(error.message).toMatch(/unreachable: no answer to GET \/version within 300 ms/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
