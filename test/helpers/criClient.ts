// A CRI client for tests, as a kubelet or crictl is one: grpc-js with the
// runtime.v1 code generated from runtime/cri/proto (the same .proto gantryd
// serves), on the CRI unix socket. Each call returns a promise; a failure
// rejects with the grpc-js ServiceError (code, details) untouched, so tests
// see exactly the status a kubelet would. Requests are written as the proto's
// JSON form (camelCase, fields left out take their defaults) and go through
// the generated fromJSON.
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import * as cri from '../../runtime/cri/gen/runtime/v1/api';
import { ImageServiceClient, ImageServiceService, RuntimeServiceClient, RuntimeServiceService } from '../../runtime/cri/gen/runtime/v1/api';
import { startDaemon, type TestDaemon } from './daemon';
import type { Cleanup } from './tmp';

type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
type Unary<Req, Res> = (request?: DeepPartial<Req>) => Promise<Res>;

/** The unary RPCs of a generated service definition, promisified (streams are left out). */
type Promised<Def> = {
  [K in keyof Def as Def[K] extends { responseStream: true } ? never : K]: Def[K] extends {
    requestSerialize: (value: infer Req) => Buffer;
    responseDeserialize: (value: Buffer) => infer Res;
  }
    ? Unary<Req, Res>
    : never;
};

export type CriRuntime = Promised<typeof RuntimeServiceService>;
export type CriImages = Promised<typeof ImageServiceService>;

/** The request message of a unary method: `pullImage` → PullImageRequest. */
function requestCodec(method: string): { fromJSON(object: unknown): unknown } {
  const name = `${method[0].toUpperCase()}${method.slice(1)}Request`;
  const codec = (cri as unknown as Record<string, { fromJSON(object: unknown): unknown }>)[name];
  if (!codec) throw new Error(`no request message ${name} for ${method}`);
  return codec;
}

function promised<Def extends object>(definition: Def, client: object, deadlineMs: number): Promised<Def> {
  const out: Record<string, unknown> = {};
  for (const [name, rpc] of Object.entries(definition)) {
    if ((rpc as { responseStream: boolean }).responseStream) continue;
    const codec = requestCodec(name);
    out[name] = (request: unknown = {}) =>
      new Promise((resolve, reject) => {
        const method = (client as Record<string, (...args: unknown[]) => unknown>)[name].bind(client);
        method(codec.fromJSON(request), { deadline: Date.now() + deadlineMs }, (error: ServiceError | null, response: unknown) =>
          error ? reject(error) : resolve(response),
        );
      });
  }
  return out as Promised<Def>;
}

/**
 * A RunPodSandbox config as the CRI suites make them: a fresh pod UID, in the
 * `default` namespace, hostname = name, its log directory under `logDir`,
 * labelled with the suite's name; `extra` adds or replaces fields.
 */
export function testPodConfig<Extra extends Record<string, unknown>>(name: string, logDir: string, suite: string, extra?: Extra) {
  return {
    metadata: { name, namespace: 'default', uid: randomBytes(6).toString('hex'), attempt: 0 },
    hostname: name,
    logDirectory: path.join(logDir, name),
    labels: { app: name, suite },
    ...(extra as Extra),
  };
}

export interface CriClient {
  readonly runtime: CriRuntime;
  readonly images: CriImages;
  close(): void;
}

/** RunPodSandbox, then CreateContainer + StartContainer of each container config in order. */
export async function runTestPod(
  client: CriClient,
  config: DeepPartial<cri.PodSandboxConfig>,
  containers: readonly DeepPartial<cri.ContainerConfig>[],
): Promise<{ podSandboxId: string; ids: string[] }> {
  const { podSandboxId } = await client.runtime.runPodSandbox({ config });
  const ids: string[] = [];
  for (const c of containers) {
    const { containerId } = await client.runtime.createContainer({ podSandboxId, config: c, sandboxConfig: config });
    await client.runtime.startContainer({ containerId });
    ids.push(containerId);
  }
  return { podSandboxId, ids };
}

/** StopPodSandbox + RemovePodSandbox. */
export async function removeTestPod(client: CriClient, podSandboxId: string): Promise<void> {
  await client.runtime.stopPodSandbox({ podSandboxId });
  await client.runtime.removePodSandbox({ podSandboxId });
}

/** A client on `unix:SOCKET`; calls time out after `deadlineMs` (pulls included). */
export function criClient(socket: string, deadlineMs = 120_000): CriClient {
  const address = `unix:${socket}`;
  const runtime = new RuntimeServiceClient(address, credentials.createInsecure());
  const images = new ImageServiceClient(address, credentials.createInsecure());
  return {
    runtime: promised(RuntimeServiceService, runtime, deadlineMs),
    images: promised(ImageServiceService, images, deadlineMs),
    close() {
      runtime.close();
      images.close();
    },
  };
}

/** Whether `e` is a gRPC status error (ServiceError) from the server. */
export function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number';
}

/** The gRPC status code and details a call failed with; throws when it succeeded. */
export async function failure(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await call;
  } catch (e) {
    if (isServiceError(e)) return { code: e.code, details: e.details };
    throw e;
  }
  assert.fail('the call succeeded');
}

/** A GetContainerEvents stream: each event in order as `next()` resolves it; `close()` cancels the call. */
export interface CriEventStream {
  next(): Promise<cri.ContainerEventResponse>;
  close(): void;
}

/** Opens GetContainerEvents on `unix:SOCKET` (the streaming RPC the promised client leaves out). */
export function criEvents(socket: string): CriEventStream {
  const client = new RuntimeServiceClient(`unix:${socket}`, credentials.createInsecure());
  const call = client.getContainerEvents({});
  const queue: cri.ContainerEventResponse[] = [];
  const waiting: { resolve(e: cri.ContainerEventResponse): void; reject(e: Error): void }[] = [];
  let failure: Error | undefined;
  call.on('data', (e: cri.ContainerEventResponse) => {
    const w = waiting.shift();
    if (w) w.resolve(e);
    else queue.push(e);
  });
  const fail = (e: Error) => {
    failure ??= e;
    for (const w of waiting.splice(0)) w.reject(e);
  };
  call.on('error', fail);
  call.on('end', () => fail(new Error('GetContainerEvents ended')));
  return {
    next: () => {
      const e = queue.shift();
      if (e) return Promise.resolve(e);
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    close() {
      call.cancel();
      client.close();
    },
  };
}

/**
 * A gantryd whose pod network is its own (bridge `<bridgePrefix><hash>`,
 * subnet `10.<subnetBase + 0…7>.<hash>.0/24`, both from `seed`, a path unique
 * to the suite), so suites and leftovers never share one; and a CRI client on
 * its socket, closed at cleanup.
 */
export async function startCriDaemon(
  cleanup: Cleanup,
  seed: string,
  bridgePrefix: string,
  subnetBase: number,
): Promise<{ daemon: TestDaemon; cri: CriClient }> {
  const h = createHash('sha256').update(seed).digest();
  const daemon = await startDaemon(cleanup, [
    '--cri-pod-bridge',
    `${bridgePrefix}${h.subarray(0, 4).toString('hex').slice(0, 7)}`,
    '--cri-pod-subnet',
    `10.${subnetBase + (h[4] & 7)}.${h[5]}.0/24`,
  ]);
  const cri = criClient(path.join(daemon.state, 'cri.sock'));
  cleanup.defer(() => cri.close());
  return { daemon, cri };
}
