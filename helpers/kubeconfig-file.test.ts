import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KubeconfigError, loadKubeconfigFile } from "./kubeconfig-file.ts";

const dir = mkdtempSync(join(tmpdir(), "kubeconfig-file-"));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const good = `apiVersion: v1
kind: Config
clusters: [{ name: lab, cluster: { server: "https://127.0.0.1:6443" } }]
users: [{ name: ops, user: { token: not-a-real-token } }]
contexts: [{ name: lab, context: { cluster: lab, user: ops } }, { name: other, context: { cluster: nowhere, user: ops } }]
current-context: lab
`;
const messageOf = (path: string | undefined, context?: string) => {
  try {
    loadKubeconfigFile(path, context);
  } catch (error) {
    if (error instanceof KubeconfigError) return error.message;
    throw error;
  }
  return "no error";
};

describe("loadKubeconfigFile", () => {
  it("selects the current context, or the one asked for", () => {
    expect(loadKubeconfigFile(file("good.yaml", good)).getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
  });
  it("names each problem in one line, without credentials", () => {
    const path = file("k.yaml", good);
    expect(messageOf(join(dir, "missing.yaml"))).toBe(`kubeconfig not found: ${join(dir, "missing.yaml")}`);
    expect(messageOf(path, "prod")).toBe(`context "prod" not in ${path} (contexts: lab, other)`);
    expect(messageOf(path, "other")).toMatch(/^context "other" of .* names cluster "nowhere", which the file does not define/);
    expect(messageOf(file("empty.yaml", ""))).toMatch(/empty\.yaml is not readable: .*empty/);
    expect(messageOf(file("nocur.yaml", good.replace("current-context: lab", "")))).toMatch(
      /has no current-context \(contexts: lab, other\): pass --context NAME$/,
    );
    for (const m of [messageOf(path, "prod"), messageOf(path, "other")]) expect(m).not.toContain("not-a-real-token");
  });
});
