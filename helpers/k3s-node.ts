// One k3s node as a testcontainer. The server extends @testcontainers/k3s's K3sContainer (its
// kubeconfig extraction and readiness log); agents share the same container shape.
import { createWriteStream } from "node:fs";
import { K3sContainer } from "@testcontainers/k3s";
import { GenericContainer, Wait } from "testcontainers";

export interface NodeContainerSpec {
  image: string;
  containerName: string;
  nodeName: string;
  address: string;
  networkName: string;
  preloadDir: string;
  labels: Record<string, string>;
  startupTimeoutMs: number;
  /** the node's full log (k3s, kubelet, containerd) is written here as it runs */
  logFile: string;
}

const K3S_DATA_DIR = "/var/lib/rancher/k3s";

/** Mounts every node needs: cgroups from the host, tmpfs for /run, and a tmpfs data dir so
 * containerd's overlay snapshotter is not stacked on Docker's overlay; the preloaded images are
 * bind-mounted read-only where k3s imports tarballs at start. */
function shapeNode(container: GenericContainer, spec: NodeContainerSpec): void {
  container
    .withName(spec.containerName)
    .withLabels(spec.labels)
    .withPrivilegedMode()
    .withBindMounts([
      { source: "/sys/fs/cgroup", target: "/sys/fs/cgroup" },
      { source: spec.preloadDir, target: `${K3S_DATA_DIR}/agent/images`, mode: "ro" },
    ])
    .withTmpFs({ "/run": "rw", "/var/run": "rw", [K3S_DATA_DIR]: "rw,exec,suid,dev" })
    .withNetworkMode(spec.networkName)
    .withStartupTimeout(spec.startupTimeoutMs)
    // testcontainers removes a container whose wait strategy fails: keep its log regardless.
    .withLogConsumer((stream) => stream.pipe(createWriteStream(spec.logFile)));
}

function staticEndpoint(spec: NodeContainerSpec) {
  return { EndpointsConfig: { [spec.networkName]: { IPAMConfig: { IPv4Address: spec.address } } } };
}

export class K3sServerContainer extends K3sContainer {
  constructor(spec: NodeContainerSpec, args: string[]) {
    super(spec.image);
    shapeNode(this, spec);
    this.withCommand(["server", ...args]);
    this.createOpts.Hostname = spec.nodeName;
    this.createOpts.NetworkingConfig = staticEndpoint(spec);
  }
}

export class K3sAgentContainer extends GenericContainer {
  constructor(spec: NodeContainerSpec, args: string[]) {
    super(spec.image);
    // As K3sContainer does (dockerode's types lack the field): kubelet needs the host's cgroups.
    Object.assign(this.hostConfig, { CgroupnsMode: "host" });
    shapeNode(this, spec);
    // k3s 1.25 logs "agent is up and running" only under systemd (NOTIFY_SOCKET); flannel starts
    // right after the node registered with the server. Readiness proper is the cluster helper's
    // wait for every node Ready.
    this.withCommand(["agent", ...args]).withWaitStrategy(Wait.forLogMessage("Running flannel backend"));
    this.createOpts.Hostname = spec.nodeName;
    this.createOpts.NetworkingConfig = staticEndpoint(spec);
  }
}
