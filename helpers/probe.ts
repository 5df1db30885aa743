// "Another device on the home network": a container on the suite's Docker network, at a fixed
// host offset outside the pool and the reserved addresses, running the probe image.
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import { ROLE_LABEL, runLabels } from "./docker.ts";
import { addressAtOffset, contains, parseCidr } from "./ip-range.ts";
import { poolRanges, type Profile } from "./profile.ts";

export const PROBE_HOST_OFFSET = 30;

/** The probe host's address in the profile's subnet; refuses one the profile already uses
 * (a node, a reserved address, or the pool). */
export function probeAddressFor(profile: Profile): string {
  const address = addressAtOffset(parseCidr(profile.network.subnet), PROBE_HOST_OFFSET).toString();
  const used = [...profile.network.nodes.map((n) => n.address), ...profile.network.reserved.map((r) => r.address)];
  if (used.includes(address) || poolRanges(profile).some((r) => contains(r, address))) {
    throw new Error(`the probe host's address ${address} (host offset ${PROBE_HOST_OFFSET}) is used by profile ${profile.name}`);
  }
  return address;
}

class ProbeContainer extends GenericContainer {
  constructor(image: string, runId: string, networkName: string, address: string) {
    super(image);
    this.withName(`metallb-conformance-${runId}-probe`)
      .withLabels({ ...runLabels(runId), [ROLE_LABEL]: "probe" })
      .withNetworkMode(networkName)
      .withCommand(["sleep", "infinity"])
      .withAddedCapabilities("NET_RAW", "NET_ADMIN");
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [networkName]: { IPAMConfig: { IPv4Address: address } } } };
  }
}

export async function startProbe(
  image: string,
  runId: string,
  networkName: string,
  address: string,
): Promise<StartedTestContainer> {
  return new ProbeContainer(image, runId, networkName, address).start();
}
