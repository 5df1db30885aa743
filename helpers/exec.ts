// One Executor interface (as MetalLB's e2etest has) with a pod and a Docker-container
// implementation: suites run commands "on another device" without caring where it is.
import { PassThrough } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { dockerode } from "./docker.ts";

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Executor {
  readonly description: string;
  exec(command: string[]): Promise<ExecResult>;
}

export function podExecutor(kc: k8s.KubeConfig, namespace: string, pod: string, container: string): Executor {
  return {
    description: `pod ${namespace}/${pod} (${container})`,
    async exec(command) {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      stdout.on("data", (c: Buffer) => out.push(c));
      stderr.on("data", (c: Buffer) => err.push(c));
      const status = await new Promise<k8s.V1Status>((resolve, reject) => {
        new k8s.Exec(kc)
          .exec(namespace, pod, container, command, stdout, stderr, null, false, (s) => resolve(s))
          .then((ws) => ws.on("error", reject), reject);
      });
      const exitCode = status.status === "Success" ? 0 : Number(status.details?.causes?.find((c) => c.reason === "ExitCode")?.message ?? 1);
      return { exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
    },
  };
}

export function containerExecutor(containerId: string, description: string): Executor {
  return {
    description,
    async exec(command) {
      const docker = await dockerode();
      const exec = await docker.getContainer(containerId).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      stdout.on("data", (c: Buffer) => out.push(c));
      stderr.on("data", (c: Buffer) => err.push(c));
      docker.modem.demuxStream(stream, stdout, stderr);
      await new Promise<void>((resolve, reject) => {
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      const { ExitCode } = await exec.inspect();
      return { exitCode: ExitCode ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
    },
  };
}
