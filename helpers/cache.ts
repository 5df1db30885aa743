// Where image builds, binaries and cluster state live; the same rule as images/lib.sh.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.METALLB_CONFORMANCE_CACHE) return env.METALLB_CONFORMANCE_CACHE;
  return join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "metallb-conformance");
}

export interface ImageManifest {
  k3sImage: string;
  probeImage: string;
  nginxImage: string;
  pauseImage: string;
  helm: string;
  actionlint: string;
  preloadDir: string;
  /** chart version without "v" → local chart directory */
  metallbCharts: Record<string, string>;
}

/** The manifest `npm run images` writes; a clear error when it has not run. */
export async function loadImageManifest(env: NodeJS.ProcessEnv = process.env): Promise<ImageManifest> {
  const path = join(cacheDir(env), "manifest.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new Error(
      `no image manifest at ${path}: run \`npm run images\` first (it builds the k3s, MetalLB, nginx and probe images)`,
    );
  }
  return JSON.parse(text) as ImageManifest;
}
