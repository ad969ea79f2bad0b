/**
 * The CRI's place in gantryd: its own gRPC server on its own socket
 * (`--cri-socket`, default `<state>/cri.sock`; off with `--cri=false`),
 * bound with the same rules as the main socket (socket.ts), fed by the same
 * image store and puller as the gantry.v1 API. See docs/cri.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Server } from '@grpc/grpc-js';
import type { HandlerAdapter } from '../api/server';
import type { Ctx } from '../context';
import type { ContainerNetworks } from '../containers/networking';
import type { CriDeps, CriPodDeps } from '../cri/cri';
import { DEFAULT_PAUSE_BINARY, PauseRootfs } from '../cri/pause';
import { ensurePodNetwork, type PodNetworkSettings } from '../cri/podNetwork';
import { mountpointOf } from '../cri/fsUsage';
import type { Subscriber } from '../events/events';
import { optionValue } from '../mount/mount';
import { isNotFound } from '../errdefs/errdefs';
import type { Collector } from '../gc/gc';
import type { Puller } from '../images/pull';
import type { ImageService } from '../images/service';
import type { Snapshotter } from '../snapshots/snapshots';
import { reopenLog } from '../tasks/conmon';
import type { Containers } from './containers';
import { criServices } from '../cri/server';
import type { Logger } from '../util/log';
import { bindPrivately } from './socket';
import { clearStaleSocket } from './singleInstance';
import { StreamingServer } from '../cri/streaming/server';
import type { StreamingRuntime, StreamingSettings } from '../cri/streaming/streaming';

const SHUTDOWN_GRACE_MS = 5_000;

/** The CRI socket's default place: beside the main socket in the state dir. */
export function defaultCriSocket(state: string): string {
  return path.join(state, 'cri.sock');
}

export interface CriServer {
  readonly socket: string;
  /** The streaming server's `http://ADDRESS:PORT`, when it runs. */
  readonly streamingAddress?: string;
  /** Stops serving (in-flight calls get a grace period) and removes the socket. Idempotent. */
  close(): Promise<void>;
}

export async function startCri(
  socket: string,
  adapt: HandlerAdapter,
  deps: CriDeps,
  log: Logger,
  group?: string | false,
  streaming: StreamingSettings = {},
): Promise<CriServer> {
  fs.mkdirSync(path.dirname(socket), { recursive: true, mode: 0o711 });
  if ((await clearStaleSocket(socket)) === 'replaced') log.warn('replaced a stale CRI socket', { socket });
  const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  // Exec, Attach and PortForward answer URLs of this server (docs/cri.md, "Streaming"); it runs only where pods can.
  const streams = deps.pods ? await StreamingServer.start(streaming, streamingRuntime(deps.pods), log) : undefined;
  for (const service of criServices(adapt, { ...deps, streams })) server.addService(service.definition, service.implementation);
  try {
    await bindPrivately(server, socket, { group });
  } catch (e) {
    await streams?.close();
    throw e;
  }
  log.info('CRI serving', { socket });
  let closing: Promise<void> | undefined;
  return {
    socket,
    streamingAddress: streams?.address,
    close: () =>
      (closing ??= Promise.all([
        streams?.close(),
        new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, SHUTDOWN_GRACE_MS);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        }),
      ]).then(() => fs.rmSync(socket, { force: true }))),
  };
}

export interface CriPodsWiring {
  readonly log: Logger;
  readonly containers: Containers;
  readonly networks: ContainerNetworks;
  readonly snapshotter: Snapshotter;
  /** Pins the pause rootfs (runtime/cri/pause.ts). */
  readonly gc: Pick<Collector, 'addSnapshotRoots'>;
  /** The daemon's state dir (the pause rootfs is filled under it). */
  readonly state: string;
  readonly sandboxImage?: string;
  readonly podNetwork?: PodNetworkSettings;
  readonly puller: Puller;
  readonly images: ImageService;
  /** The daemon's event log (GetContainerEvents). */
  readonly events: Subscriber;
}

/** What pods run on: the container runtime, the pod network, the infra rootfs (docs/cri.md); or why pods are unavailable. */
export function criPods(w: CriPodsWiring): Pick<CriDeps, 'pods' | 'podsUnavailable'> {
  const runtime = w.containers.runtime;
  const manager = w.networks.manager;
  if (!runtime) return { podsUnavailable: 'containers are unavailable (runc or conmon is missing)' };
  if (!manager) return { podsUnavailable: 'CNI networks are unavailable (see `gantry info`)' };
  const pause = new PauseRootfs({ snapshotter: w.snapshotter, binary: DEFAULT_PAUSE_BINARY, scratch: path.join(w.state, 'cri') });
  w.gc.addSnapshotRoots(() => pause.snapshotRoots());
  void pause.prime();
  return {
    pods: {
      log: w.log,
      service: runtime.service,
      io: runtime.io,
      pause,
      sandboxImage: w.sandboxImage,
      ensureImage: async (ctx: Ctx, reference: string) => {
        try {
          w.images.resolve(reference);
        } catch (e) {
          if (!isNotFound(e)) throw e;
          await w.puller.pull(ctx, reference);
        }
      },
      podNetwork: (ctx: Ctx) => ensurePodNetwork(ctx, manager, w.podNetwork),
      attachmentOf: (id: string) => w.networks.current(id),
      reopenLog: (id: string) => reopenLog(runtime.launcher.bundleOf(id)),
      cgroupStats: (c) => runtime.io.cgroupSample(c),
      writableLayer: async (ctx, c) => {
        const usage = await w.snapshotter.usage(ctx, c.snapshotKey);
        const [m] = await w.snapshotter.mounts(ctx, c.snapshotKey);
        const dir = (m && optionValue(m, 'upperdir')) ?? m?.source ?? w.state;
        return { usedBytes: usage.size, inodesUsed: usage.inodes, mountpoint: await mountpointOf(dir) };
      },
      updateTask: (ctx, id, resources) => runtime.io.updateResources(ctx, id, resources),
      events: w.events,
      dial: (ctx, sandboxId, port) => runtime.forwarder.dial(ctx, sandboxId, port),
    },
  };
}

/** The streaming server's back ends: the exec, attach and port-forward paths of the rest of gantryd. */
function streamingRuntime(pods: CriPodDeps): StreamingRuntime {
  return {
    exec: async (ctx, id, opts) => (await pods.io.exec(ctx, id, { args: opts.args, env: [], tty: opts.tty, stdin: opts.stdin })).session,
    attach: (ctx, id, opts) => pods.io.attach(ctx, id, { stdin: opts.stdin, start: false }),
    dial: (ctx, sandboxId, port) => pods.dial(ctx, sandboxId, port),
  };
}
