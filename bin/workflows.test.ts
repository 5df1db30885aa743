// The GitHub workflows lint clean (actionlint, built by `npm run images` from its Go module).
import { readdirSync } from "node:fs";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { loadImageManifest } from "../helpers/cache.ts";

const workflows = readdirSync(".github/workflows").filter((f) => /\.ya?ml$/.test(f));

describe(".github/workflows", () => {
  it("has the pull-request and nightly workflows", () => {
    expect(workflows).toEqual(expect.arrayContaining(["conformance.yml", "nightly.yml"]));
  });

  it("passes actionlint", async () => {
    const { actionlint } = await loadImageManifest();
    const r = await execa(actionlint, ["-no-color", ...workflows.map((f) => `.github/workflows/${f}`)], {
      reject: false,
      all: true,
    });
    expect(r.all, `actionlint found problems:\n${r.all}`).toBe("");
    expect(r.exitCode).toBe(0);
  });
});
