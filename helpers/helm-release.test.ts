import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeReleaseSecret } from "./helm-release.ts";

function encode(payload: object): string {
  const helm = gzipSync(Buffer.from(JSON.stringify(payload))).toString("base64");
  return Buffer.from(helm).toString("base64");
}

describe("decodeReleaseSecret", () => {
  it("reads the chart version out of a Helm 3 release secret", () => {
    const r = decodeReleaseSecret(
      encode({
        name: "metallb",
        namespace: "metallb-system",
        version: 2,
        info: { status: "deployed" },
        chart: { metadata: { name: "metallb", version: "0.15.3" } },
      }),
    );
    expect(r.chart?.metadata?.version).toBe("0.15.3");
    expect(r.version).toBe(2);
    expect(r.info?.status).toBe("deployed");
  });
  it("rejects data that is not a release", () => {
    expect(() => decodeReleaseSecret(Buffer.from("bm90IGpzb24=").toString("base64"))).toThrow();
  });
});
