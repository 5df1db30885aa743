import { describe, expect, it } from "vitest";
import { REDACTED, redactSecrets } from "./redact.ts";

// Recognisable fake secrets: none of them may survive redaction.
const FAKE = {
  token: "FAKE-TOKEN-1111",
  key: "RkFLRS1DTElFTlQtS0VZLTIyMjI=",
  cert: "RkFLRS1DTElFTlQtQ0VSVC0zMzMz",
  ca: "RkFLRS1DQS00NDQ0",
  password: "fake pass 5555",
  jwt: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJGQUtFNjY2NiJ9.c2lnbmF0dXJlLTc3Nzc",
};

const KUBECONFIG = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${FAKE.ca}
    server: https://192.168.2.20:6443
  name: homelab
users:
- name: admin
  user:
    client-certificate-data: ${FAKE.cert}
    client-key-data: ${FAKE.key}
    token: ${FAKE.token}
- name: basic
  user:
    username: admin
    password: ${FAKE.password}
`;

function expectNoFakeSecret(text: string): void {
  for (const secret of Object.values(FAKE)) expect(text).not.toContain(secret);
}

describe("redactSecrets", () => {
  it("removes every credential of a kubeconfig and keeps its structure", () => {
    const out = redactSecrets(KUBECONFIG);
    expectNoFakeSecret(out);
    expect(out).toContain(`    client-key-data: ${REDACTED}\n`);
    expect(out).toContain(`    password: ${REDACTED}\n`);
    expect(out).toContain("server: https://192.168.2.20:6443");
    expect(out).toContain("username: admin");
    expect(out.split("\n")).toHaveLength(KUBECONFIG.split("\n").length);
  });

  it("keeps quotes around quoted values so JSON stays valid", () => {
    const json = JSON.stringify({ user: { token: FAKE.token, "client-key-data": FAKE.key }, name: "admin" });
    const out = redactSecrets(json);
    expectNoFakeSecret(out);
    expect(JSON.parse(out)).toEqual({ user: { token: REDACTED, "client-key-data": REDACTED }, name: "admin" });
  });

  it("removes Authorization headers and bearer tokens", () => {
    const out = redactSecrets(
      [
        `GET /api HTTP/1.1\nAuthorization: Bearer ${FAKE.token}\nHost: x`,
        `authorization: Basic ${FAKE.key}`,
        `request failed: Bearer ${FAKE.jwt} rejected`,
        `{"headers":{"Authorization":"Bearer ${FAKE.token}"}}`,
      ].join("\n"),
    );
    expectNoFakeSecret(out);
    expect(out).toContain(`Authorization: ${REDACTED}\nHost: x`);
    expect(out).toContain(`request failed: Bearer ${REDACTED} rejected`);
    expect(out).toContain(`"Authorization":"${REDACTED}"`);
  });

  it("removes bare JWTs, flags and logfmt values", () => {
    const out = redactSecrets(`sa token ${FAKE.jwt}\nhelm --password=${FAKE.password}\nlevel=info token=${FAKE.token}`);
    expectNoFakeSecret(out);
  });

  it("removes YAML block scalars and PEM blocks", () => {
    const out = redactSecrets(
      `auth:\n  password: |\n    ${FAKE.password}\n    ${FAKE.token}\n  user: admin\n` +
        `-----BEGIN RSA PRIVATE KEY-----\n${FAKE.key}\n-----END RSA PRIVATE KEY-----\n`,
    );
    expectNoFakeSecret(out);
    expect(out).toContain("  user: admin");
    expect(out).toContain(`-----BEGIN RSA PRIVATE KEY-----${REDACTED}-----END RSA PRIVATE KEY-----`);
  });

  it("leaves ordinary text, including similar-looking keys, untouched", () => {
    const text =
      "AC3: no ARP reply for 172.29.2.100 from k3s-worker-01\ntokenFile: /var/run/secrets/token\npasswords are not used here\nmetadata:\n  name: homelab-pool";
    expect(redactSecrets(text)).toBe(text);
  });
});
