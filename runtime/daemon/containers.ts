/**
 * Wiring of the container side of gantryd: the exit watcher, launcher,
 * health monitor, container service and its stdio, then recovery of what a
 * previous daemon left. When runc or conmon is missing the daemon still
 * serves images, and every container call says what to install.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { ContainersService, type ContainersServer } from '../api/gen/gantry/v1/containers';
import type { HandlerAdapter } from '../api/server';
import { containersService } from '../api/services/containers';
import { containerChangesHandlers } from '../api/services/changes';
import { ContainerChanges } from '../changes/containerChanges';
import type { NewImageDeps } from '../images/newImage';
import { FilesService, type FilesServer } from '../api/gen/gantry/v1/files';
import { filesService } from '../api/services/files';
import { ContainerFiles, type FileRoots } from '../files/containerFiles';
import { ContainerRoots } from './files';
import type { RawByteServer } from '../rawbytes/index';
import { HealthMonitor, type Probe } from '../containers/health';
import { ContainerIO } from '../containers/io';
import { Launcher } from '../containers/launcher';
import { PortForwarder } from '../containers/portForward';
import { RELAY_COMMAND } from '../network/forward/relay';
import { RelayPool } from '../network/forward/dial';
import { recoverContainers } from '../containers/recovery';
import { ContainerService } from '../containers/service';
import type { ContainerNetworks, NetworkConnections } from '../containers/networking';
import type { FileContainerStore } from '../containers/store';
import { failedPrecondition } from '../errdefs/errdefs';
import { toStatus } from '../errdefs/grpc';
import type { Publisher } from '../events/events';
import type { ImageService } from '../images/service';
import type { Snapshotter } from '../snapshots/snapshots';
import { ExitWatcher } from '../tasks/exits';
import { execCapture } from '../tasks/exec/exec';
import { DEFAULT_LOG_MAX_BYTES } from '../tasks/logs/rotate';
import { Runc } from '../tasks/runc';
import type { Logger } from '../util/log';
import { findOnPath } from './components';
import { mappedFromZero } from '../oci/specgen/rootless';
import { criPodMemberOf } from '../cri/podMember';
import type { DaemonConfig } from './daemon';
import type { Volumes } from './volumes';

export interface ContainersDeps {
  readonly config: DaemonConfig;
  readonly log: Logger;
  readonly events: Publisher;
  readonly snapshotter: Snapshotter;
  readonly store: FileContainerStore;
  readonly images: ImageService;
  readonly networks: ContainerNetworks;
  /** What commit needs to store a new image. */
  readonly newImage: NewImageDeps;
  /** Named volumes (daemon/volumes.ts). */
  readonly volumes?: Volumes;
  /** The files of image layers (runtime/layers/, docs/layers.md). */
  readonly layers?: FileRoots;
}

export interface Containers {
  server(adapt: HandlerAdapter): ContainersServer;
  /** gantry.v1.Files: the containers' filesystems (docs/files.md). */
  filesServer(adapt: HandlerAdapter, raw?: RawByteServer): FilesServer;
  /** `network connect|disconnect` (absent when containers are unavailable). */
  readonly connections?: NetworkConnections;
  /** diff, export and commit (absent when containers are unavailable). */
  readonly changes?: ContainerChanges;
  /** What the CRI drives (daemon/cri.ts; absent when containers are unavailable). */
  readonly runtime?: {
    readonly service: ContainerService;
    readonly io: ContainerIO;
    readonly launcher: Launcher;
    readonly forwarder: PortForwarder;
  };
  close(): void;
}

/** A port-forward relay with no connection for this long exits (docs/networking.md, "Port forwarding"). */
const RELAY_IDLE_MS = 5_000;

/** Docker keeps this much of a probe's output. */
const PROBE_OUTPUT_BYTES = 4096;

export async function startContainers(deps: ContainersDeps): Promise<Containers> {
  const { config, log, store } = deps;
  const runcPath = findOnPath(config.runtime);
  const conmonPath = findOnPath(config.conmon);
  if (!runcPath || !conmonPath) {
    const missing = [!runcPath && `runc ("${config.runtime}")`, !conmonPath && `conmon ("${config.conmon}")`].filter(Boolean).join(' and ');
    log.warn('containers are unavailable', { missing });
    return unavailable(
      `containers are unavailable: ${missing} not found on PATH; install them (apt install runc conmon) or pass --runtime/--conmon`,
    );
  }
  const stateDir = config.paths.state;
  const runc = new Runc({ binary: runcPath, root: path.join(stateDir, 'runc'), noCgroups: config.rootless !== undefined });
  // The watcher reports only on later ticks (fs.watch callbacks), and the
  // service is made below with no await in between, so it exists by the first
  // report; exit files already there are recovery's (recoverContainers).
  const exits = new ExitWatcher(path.join(stateDir, 'exits'), {
    onExit: (id, code) => service.onTaskExit(id, code),
    onError: (error) => log.error('watching container exits failed', { error }),
  });
  const launcher = new Launcher({
    stateDir,
    runcPath,
    conmonPath,
    runc,
    snapshotter: deps.snapshotter,
    exits,
    logMaxBytes: DEFAULT_LOG_MAX_BYTES,
    log,
    idMap: config.usernsRemap,
    rootless: config.rootless && { mappedGids: mappedFromZero(fs.readFileSync('/proc/self/gid_map', 'utf8')) },
    noNewPrivileges: config.noNewPrivileges,
    networks: deps.networks,
    volumes: deps.volumes?.attacher,
  });
  const probe: Probe = async (container, args, timeoutMs, signal) => {
    const result = await execCapture(
      { signal },
      {
        containerId: container.id,
        bundle: launcher.bundleOf(container.id),
        runcPath,
        conmonPath,
        runcRoot: launcher.runcRoot,
        sessionDir: path.join(stateDir, 'exec', randomBytes(16).toString('hex')),
        args,
        timeoutMs,
        maxOutputBytes: PROBE_OUTPUT_BYTES,
      },
    );
    return { exitCode: result.exitCode, output: result.output, timedOut: result.timedOut };
  };
  const health = new HealthMonitor(probe, log);
  const service = new ContainerService({
    store,
    images: deps.images,
    snapshotter: deps.snapshotter,
    tasks: launcher,
    events: deps.events,
    health,
    log,
    volumes: deps.volumes?.attacher,
  });
  const io = new ContainerIO({ records: store, lifecycle: service, launcher, runc, runcPath, conmonPath, stateDir });
  // The relay is gantry.js in its relay mode (runtime/daemon/entry.ts), run under nsenter.
  const relays = new RelayPool({
    relay: [process.execPath, process.argv[1], RELAY_COMMAND],
    socketDir: path.join(stateDir, 'forward'),
    idleMs: RELAY_IDLE_MS,
  });
  const forwarder = new PortForwarder({ records: store, attachmentOf: (id) => deps.networks.current(id), relays });
  const report = await recoverContainers({ store, launcher, runc, snapshotter: deps.snapshotter, service, log, networks: deps.networks });
  if (report.adopted.length || report.exited.length || report.restarted.length || report.removedLeftovers.length) {
    log.info('containers recovered', { ...report });
  }
  const containerRoots = new ContainerRoots({
    resolve: (ref) => service.resolve(ref),
    get: (id) => store.get(id),
    mountRootfs: (ctx, c) => launcher.mountRootfs(ctx, c),
    unmountRootfs: (id) => launcher.unmountRootfs(id),
    rootfsOf: (id) => launcher.rootfsOf(id),
    idMap: config.usernsRemap,
    log,
  });
  const layerRoots = deps.layers;
  const roots: FileRoots = deps.volumes ? deps.volumes.fileRoots(containerRoots) : containerRoots;
  const files = new ContainerFiles({
    rootOf: (ctx, target) => (target.layer && layerRoots ? layerRoots.rootOf(ctx, target) : roots.rootOf(ctx, target)),
  });
  const etcDir = (id: string) => path.join(launcher.bundleOf(id), 'etc');
  const changes = new ContainerChanges({
    resolve: (ref) => service.resolve(ref),
    snapshotter: deps.snapshotter,
    bundleOf: (id) => launcher.bundleOf(id),
    scratch: path.join(stateDir, 'changes'),
    pause: (ctx, id) => service.pause(ctx, id),
    unpause: (ctx, id) => service.unpause(ctx, id),
    images: deps.images,
    newImage: deps.newImage,
    log,
  });
  return {
    changes,
    runtime: { service, io, launcher, forwarder },
    server: (adapt): ContainersServer => ({
      ...(containersService(
        adapt,
        service,
        io,
        (id) => deps.networks.current(id),
        forwarder,
        (c) => criPodMemberOf(c, (id) => (service.exists(id) ? service.resolve(id) : undefined)),
      ) as ContainersServer),
      ...containerChangesHandlers(adapt, changes),
    }),
    filesServer: (adapt, raw) => filesService(adapt, files, raw),
    connections: {
      connect: (ctx, ref, conn) => service.reconfigure(ref, (c) => deps.networks.connect(ctx, c, conn, etcDir(c.id))),
      disconnect: (ctx, ref, network, force) =>
        service.reconfigure(ref, (c) => deps.networks.disconnect(ctx, c, network, force, etcDir(c.id))),
    },
    close: () => {
      relays.close();
      service.close();
      exits.close();
    },
  };
}

/** Containers and Files services whose every call fails with `message`. */
function unavailable(message: string): Containers {
  return {
    server: () => failing(ContainersService, message) as unknown as ContainersServer,
    filesServer: () => failing(FilesService, message) as unknown as FilesServer,
    close: () => undefined,
  };
}

function failing(definition: object, message: string): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  for (const name of Object.keys(definition)) {
    handlers[name] = (call: { emit?: (e: string, v: unknown) => void }, callback?: (error: unknown) => void) => {
      const error = toStatus(failedPrecondition(message));
      if (callback) callback(error);
      else call.emit?.('error', error);
    };
  }
  return handlers;
}
