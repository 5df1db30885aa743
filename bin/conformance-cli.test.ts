// `npm run conformance -- --target kubeconfig …` with bad input, as a new user would type it: exit
// 2, one line on stderr naming the cause, no stack trace, never the kubeconfig's token. No cluster
// needed: the only API server address used is a closed port on 127.0.0.1.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, it, type ExpectStatic } from "vitest";

const REPO = resolve(import.meta.dirname, "..");
const TOKEN = "metallb-conformance-FAKE-TOKEN-0123456789abcdef";
const SPAWN_TIMEOUT_MS = 20_000;

let dir: string;
let closedPort: number;

/** A loopback port nothing listens on (bound once by us, then released). */
async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

function kubeconfig(o: { server?: string; currentContext?: string } = {}): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: ${o.server ?? `https://127.0.0.1:${closedPort}`}
contexts:
- name: lab
  context: { cluster: lab, user: lab-admin }
- name: other
  context: { cluster: lab, user: lab-admin }
current-context: ${o.currentContext ?? "lab"}
users:
- name: lab-admin
  user:
    token: ${TOKEN}
`;
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** The environment of a new user's shell: no METALLB_CONFORMANCE_* or KUBECONFIG of ours. */
function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[1] !== undefined && !/^(METALLB_CONFORMANCE_|KUBECONFIG$|VITEST)/.test(e[0]),
    ),
  );
}

async function conformance(args: string[]) {
  const r = await execa("tsx", ["bin/conformance.ts", "--target", "kubeconfig", "--reports-dir", join(dir, "reports"), ...args], {
    cwd: REPO,
    preferLocal: true,
    env: cleanEnv(),
    extendEnv: false,
    reject: false,
    timeout: SPAWN_TIMEOUT_MS,
  });
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), timedOut: r.timedOut };
}

/** Exit 2 and exactly one line on stderr, matching `cause`; no stack frame, no token anywhere. */
function expectOneLineError(expect: ExpectStatic, r: Awaited<ReturnType<typeof conformance>>, cause: RegExp): void {
  const all = `${r.stdout}\n${r.stderr}`;
  expect(r.timedOut, `the CLI did not exit within ${SPAWN_TIMEOUT_MS} ms`).toBe(false);
  expect(all, "the kubeconfig's token was printed").not.toContain(TOKEN);
  expect(r.stderr, "a stack trace was printed").not.toMatch(/^\s+at /m);
  const lines = r.stderr.split("\n").filter((line) => line.trim() !== "");
  expect(lines, `expected one line on stderr, got:\n${r.stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^metallb-conformance: /);
  expect(lines[0]).toMatch(cause);
  expect(r.exitCode, `exit code (stderr: ${r.stderr.trim()})`).toBe(2);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "metallb-conformance-cli-"));
  closedPort = await freeLoopbackPort();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Each case spawns the CLI (about 1-3 s of start-up): they run side by side.
describe.concurrent("conformance --target kubeconfig with bad input", { timeout: SPAWN_TIMEOUT_MS + 5_000 }, () => {
  it("names a kubeconfig file that does not exist", async ({ expect }) => {
    const missing = join(dir, "no-such-kubeconfig.yaml");
    const r = await conformance(["--kubeconfig", missing]);
    expectOneLineError(expect, r, new RegExp(`kubeconfig not found: ${missing}`));
  });

  it("names an unknown context and lists the known ones", async ({ expect }) => {
    const r = await conformance(["--kubeconfig", await file("ctx.yaml", kubeconfig()), "--context", "homelab"]);
    expectOneLineError(expect, r, /context "homelab" not in .*ctx\.yaml \(contexts: lab, other\)/);
  });

  it("says a kubeconfig that is not YAML cannot be read, without quoting its token", async ({ expect }) => {
    const broken = `clusters: [\n  - name: lab\n token: ${TOKEN}\n`;
    const r = await conformance(["--kubeconfig", await file("broken.yaml", broken)]);
    expectOneLineError(expect, r, /kubeconfig .*broken\.yaml is not readable: /);
  });

  it("says an empty kubeconfig cannot be read", async ({ expect }) => {
    const r = await conformance(["--kubeconfig", await file("empty.yaml", "")]);
    expectOneLineError(expect, r, /kubeconfig .*empty\.yaml is not readable: /);
  });

  it("asks for --context when the kubeconfig has no current context", async ({ expect }) => {
    const r = await conformance(["--kubeconfig", await file("no-current.yaml", kubeconfig({ currentContext: '""' }))]);
    expectOneLineError(expect, r, /has no current-context \(contexts: lab, other\): pass --context NAME/);
  });

  it("says when the current context is not defined in the file", async ({ expect }) => {
    const r = await conformance(["--kubeconfig", await file("gone-current.yaml", kubeconfig({ currentContext: "gone" }))]);
    expectOneLineError(expect, r, /current-context "gone" of .* is not one of its contexts \(contexts: lab, other\)/);
  });

  it("says the API server is unreachable, naming server and context, and never prints the token", async ({ expect }) => {
    const r = await conformance(["--kubeconfig", await file("closed.yaml", kubeconfig())]);
    expectOneLineError(
      expect,
      r,
      new RegExp(
        `API server https://127\\.0\\.0\\.1:${closedPort} \\(context lab\\) unreachable: ECONNREFUSED .*is the cluster up`,
      ),
    );
  });

  it("names the context chosen with --context when its server is unreachable", async ({ expect }) => {
    const r = await conformance(["--kubeconfig", await file("closed-other.yaml", kubeconfig()), "--context", "other"]);
    expectOneLineError(expect, r, /\(context other\) unreachable: ECONNREFUSED/);
  });

  it("names the YAML error of a malformed profile", async ({ expect }) => {
    const profile = await file("bad-yaml-profile.yaml", "name: [unclosed\n");
    const r = await conformance(["--kubeconfig", await file("p1.yaml", kubeconfig()), "--profile", profile]);
    expectOneLineError(expect, r, /invalid profile .*bad-yaml-profile\.yaml: \(yaml\): .*expected valid YAML/);
  });

  it("names the field of a profile that breaks the schema (pool.addresses not a range)", async ({ expect }) => {
    const homelab = await readFile(join(REPO, "fixtures/profiles/homelab.yaml"), "utf8");
    const profile = await file("bad-range-profile.yaml", homelab.replace("192.168.2.100-192.168.2.120", "not-a-range"));
    const r = await conformance(["--kubeconfig", await file("p2.yaml", kubeconfig()), "--profile", profile]);
    expectOneLineError(expect, r, /invalid profile .*bad-range-profile\.yaml: pool\.addresses\[0\]: .*"not-a-range"/);
  });
});
