// One Executor interface (as MetalLB's e2etest has) with a pod and a Docker-container
// implementation: suites run commands "on another device" without caring where it is.
import { PassThrough } from "node:stream";
import { finished } from "node:stream/promises";
import * as k8s from "@kubernetes/client-node";
import { dockerode } from "./docker.ts";

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Executor {
  readonly description: string;
  /** Runs `command`; rejects when no result arrives within `timeoutMs` (default 30 s). */
  exec(command: string[], timeoutMs?: number): Promise<ExecResult>;
}

const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

export function podExecutor(kc: k8s.KubeConfig, namespace: string, pod: string, container: string): Executor {
  return {
    description: `pod ${namespace}/${pod} (${container})`,
    exec(command, timeoutMs = DEFAULT_EXEC_TIMEOUT_MS) {
      return withDeadline(`exec ${command.join(" ")} in pod ${namespace}/${pod}`, timeoutMs, execInPod(command));
    },
  };
  async function execInPod(command: string[]): Promise<ExecResult> {
    const { stdout, stderr, result } = capture();
    // The status arrives on its own channel, possibly before the last stdout frame has been
    // delivered: the result is complete only once the websocket has closed.
    let status: k8s.V1Status | undefined;
    await new Promise<void>((resolve, reject) => {
      new k8s.Exec(kc)
        .exec(namespace, pod, container, command, stdout, stderr, null, false, (s) => {
          status = s;
        })
        .then(
          (ws) => {
            ws.on("error", (e: unknown) => reject(execError(e)));
            ws.on("close", () => resolve());
          },
          (e: unknown) => reject(execError(e)),
        );
    });
    if (!status) throw new Error(`exec in ${namespace}/${pod}: connection closed without a status`);
    const exitCode =
      status.status === "Success" ? 0 : Number(status.details?.causes?.find((c) => c.reason === "ExitCode")?.message ?? 1);
    return result(exitCode);
  }
}

/** The websocket's failure as an Error: client-node rejects with the ws ErrorEvent itself. */
function execError(e: unknown): Error {
  if (e instanceof Error) return e;
  const event = e as { message?: unknown; error?: unknown };
  if (event.error instanceof Error) return event.error;
  return new Error(typeof event.message === "string" ? event.message : `websocket error ${JSON.stringify(e)}`);
}

export function containerExecutor(containerId: string, description: string): Executor {
  return {
    description,
    exec(command, timeoutMs = DEFAULT_EXEC_TIMEOUT_MS) {
      return withDeadline(`exec ${command.join(" ")} in ${description}`, timeoutMs, execInContainer(command));
    },
  };
  async function execInContainer(command: string[]): Promise<ExecResult> {
    const docker = await dockerode();
    const exec = await docker.getContainer(containerId).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const { stdout, stderr, result } = capture();
    docker.modem.demuxStream(stream, stdout, stderr);
    await new Promise<void>((resolve, reject) => {
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    const { ExitCode } = await exec.inspect();
    return result(ExitCode ?? -1);
  }
}

/** Two streams to hand a producer, and the result once it is done writing. */
function capture() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (c: Buffer) => out.push(c));
  stderr.on("data", (c: Buffer) => err.push(c));
  const result = async (exitCode: number): Promise<ExecResult> => {
    await drained(stdout, stderr);
    return { exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  };
  return { stdout, stderr, result };
}

/** Ends the capture streams (unless the producer did) and waits until every byte is emitted. */
async function drained(...streams: PassThrough[]): Promise<void> {
  await Promise.all(
    streams.map((s) => {
      if (!s.writableEnded) s.end();
      return finished(s);
    }),
  );
}

/** Every exec has a deadline: a hung connection fails the step instead of the whole test run. */
function withDeadline<T>(what: string, timeoutMs: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
