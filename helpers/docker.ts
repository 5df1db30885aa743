// Docker resources the suite creates: a labelled bridge network with a chosen subnet, and the
// sweep that removes everything carrying the suite's label (crashed runs, `cluster down`).
import { networkInterfaces } from "node:os";
import type Dockerode from "dockerode";
import { getContainerRuntimeClient } from "testcontainers";
import { addressAtOffset, parseCidr } from "./ip-range.ts";
import { pickFreeSubnet } from "./subnets.ts";
import { done, notYet, waitFor } from "./wait.ts";

export const OWNER_LABEL = "io.metallb-conformance.owner";
export const RUN_LABEL = "io.metallb-conformance.run";
export const ROLE_LABEL = "io.metallb-conformance.role";

export function runLabels(runId: string): Record<string, string> {
  return { [OWNER_LABEL]: "metallb-conformance", [RUN_LABEL]: runId };
}

export async function dockerode(): Promise<Dockerode> {
  const client = await getContainerRuntimeClient();
  return client.container.dockerode;
}

async function subnetsInUse(docker: Dockerode): Promise<string[]> {
  const taken: string[] = [];
  for (const summary of await docker.listNetworks()) {
    const info = await docker.getNetwork(summary.Id).inspect();
    for (const config of info.IPAM?.Config ?? []) if (config.Subnet) taken.push(config.Subnet);
  }
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.cidr) taken.push(address.cidr);
  }
  return taken;
}

export interface SuiteNetwork {
  name: string;
  id: string;
  subnet: string;
  gateway: string;
}

/** Creates the run's bridge network on a free /24 (gateway .1, like the homelab's router). */
export async function createSuiteNetwork(runId: string, seed: number): Promise<SuiteNetwork> {
  const docker = await dockerode();
  const name = `metallb-conformance-${runId}`;
  let lastError: unknown;
  // Another run may take the same subnet between our look and our create: try the next one,
  // a bounded number of times.
  for (let attempt = 0; attempt < 5; attempt++) {
    const subnet = pickFreeSubnet(await subnetsInUse(docker), seed + attempt);
    const gateway = addressAtOffset(parseCidr(subnet), 1).toString();
    try {
      const network = await docker.createNetwork({
        Name: name,
        Driver: "bridge",
        CheckDuplicate: true,
        IPAM: { Driver: "default", Config: [{ Subnet: subnet, Gateway: gateway }] },
        Labels: runLabels(runId),
      });
      return { name, id: network.id, subnet, gateway };
    } catch (error) {
      lastError = error;
      if (!/overlap/i.test(String(error))) break;
    }
  }
  throw new Error(`create Docker network ${name}: ${String(lastError)}`, { cause: lastError });
}

export interface SweepResult {
  containers: string[];
  networks: string[];
}

/** Removes the suite's containers and networks: one run's (runId) or every run's. */
export async function sweep(runId?: string): Promise<SweepResult> {
  const docker = await dockerode();
  const label = runId ? `${RUN_LABEL}=${runId}` : OWNER_LABEL;
  const result: SweepResult = { containers: [], networks: [] };
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(
    containers.map(async (c) => {
      await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreNotFound);
      result.containers.push(c.Names[0]?.replace(/^\//, "") ?? c.Id);
    }),
  );
  for (const n of await docker.listNetworks({ filters: { label: [label] } })) {
    // A container removal already under way (testcontainers removes a node that failed its
    // wait) keeps the network busy for a moment: wait for it, with a deadline.
    await waitFor(
      `Docker network ${n.Name} removed`,
      async () => {
        try {
          await docker.getNetwork(n.Id).remove();
          return done(true);
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 404) return done(true);
          return notYet(String(error));
        }
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    result.networks.push(n.Name);
  }
  return result;
}

/** 404: already gone; 409: a removal is already in progress. */
function ignoreNotFound(error: unknown): void {
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== 404 && status !== 409) throw error;
}

/** The MAC address of a container's interface on a Docker network. */
export async function containerMac(containerId: string, networkName: string): Promise<string> {
  const docker = await dockerode();
  const info = await docker.getContainer(containerId).inspect();
  const mac = info.NetworkSettings.Networks[networkName]?.MacAddress;
  if (!mac) throw new Error(`container ${info.Name} has no MAC address on network ${networkName}`);
  return mac.toLowerCase();
}
