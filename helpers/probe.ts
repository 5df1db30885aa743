// "Another device on the home network": a container on the suite's Docker network, at a fixed
// host offset outside the pool and the reserved addresses, running the probe image.
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import { ROLE_LABEL, runLabels } from "./docker.ts";

export const PROBE_HOST_OFFSET = 30;

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
