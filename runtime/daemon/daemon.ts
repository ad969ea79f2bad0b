/**
 * gantryd's start-up and shutdown: the wiring of every component. Nothing
 * here implements a feature; each feature lives in its own folder and is
 * handed what it needs.
 *
 * Start: take the instance lock → clear a stale socket → open the stores →
 * bind the socket (never world-accessible, even for a moment) → announce.
 * Stop: report NOT_SERVING → publish /daemon/stop → end event streams →
 * drain calls (bounded) → remove the socket → release the lock.
 */
import type { IdMap } from '../oci/specgen/privileges';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Server } from '@grpc/grpc-js';
import { EventsService } from '../api/gen/gantry/v1/events';
import { VersionService, type VersionResponse } from '../api/gen/gantry/v1/version';
import { HealthService } from '../api/gen/grpc/health/v1/health';
import { eventsService } from '../api/services/events';
import { healthService, HealthStatus, ServingStatus } from '../api/services/health';
import { versionService } from '../api/services/version';
import { HandlerAdapter } from '../api/server';
import { RegistryService } from '../api/gen/gantry/v1/images';
import { imagesService, registryService } from '../api/services/images';
import { registryBrowsing } from '../api/services/registries';
import { transferHandlers } from '../api/services/imageTransfer';
import { imagesServiceDefinition } from '../api/chunkCodec';
import { imageBuildHandlers } from '../api/services/changes';
import { CHANGES_VIEW_PREFIX } from '../changes/containerChanges';
import { SnapshotsService } from '../api/gen/gantry/v1/snapshots';
import { FilesService } from '../api/gen/gantry/v1/files';
import { snapshotsService } from '../api/services/snapshots';
import { LocalStore } from '../content/local';
import { createRegistry } from '../distribution/registry';
import { credentialLookup } from '../distribution/credentials';
import { Collector } from '../gc/gc';
import { ContainersService } from '../api/gen/gantry/v1/containers';
import { FileContainerStore } from '../containers/store';
import { startContainers } from './containers';
import { Puller } from '../images/pull';
import { ImagePusher } from '../images/push';
import { ImageService } from '../images/service';
import { FileImageStore } from '../images/store';
import { EXTRACT_KEY_PREFIX, Unpacker } from '../images/unpacker';
import { createSnapshotter, type SnapshotterChoice } from '../snapshots/select';
import { TarApplier } from '../unpack/applier';
import { background } from '../context';
import { EventLog } from '../events/log';
import { Topics } from '../events/events';
import type { Logger } from '../util/log';
import { DiskReserve, formatFreeSpace, parseFreeSpace, DEFAULT_MIN_FREE_SPACE, type FreeSpaceSpec } from '../util/diskspace';
import { buildInfo, GANTRY_VERSION } from '../version';
import { probeComponent, type ComponentInfo } from './components';
import type { DaemonPaths } from './paths';
import { startNetworks, type NetworkFlags } from './networks';
import { NetworksService } from '../api/gen/gantry/v1/networks';
import { startVolumes } from './volumes';
import { VolumesService } from '../api/gen/gantry/v1/volumes';
import { acquireInstanceLock, clearStaleSocket, type InstanceLock } from './singleInstance';
import { SystemService } from '../api/gen/gantry/v1/system';
import { systemService } from '../api/services/system';
import { LayerService } from '../layers/service';
import { layersHandlers } from '../api/services/layers';
import { bindPrivately, listenRaw } from './socket';
import { RawByteServer } from '../rawbytes/index';
import { criPods, startCri } from './cri';
import type { StreamingSettings } from '../cri/streaming/streaming';
import { PAUSE_BUILD_PREFIX } from '../cri/pause';
import type { RootlessMode } from './rootless/rootless';
import { runsRootless, sharingGroup } from '../system/identity';

export interface DaemonConfig {
  readonly paths: DaemonPaths;
  /** Registries reachable over plain HTTP besides loopback ("host:port"). */
  readonly insecureRegistries: readonly string[];
  /** Per-registry CA directory (`<certsDir>/<host:port>/ca.crt`). */
  readonly certsDir: string;
  /** Layers downloaded at once per pull. */
  readonly maxConcurrentDownloads: number;
  /** Blobs uploaded at once per push (default: ImagePusher's). */
  readonly maxConcurrentUploads?: number;
  /** Free space pulls leave on the data root's filesystem(s) (util/diskspace.ts). */
  readonly minFreeSpace?: FreeSpaceSpec;
  readonly snapshotter: SnapshotterChoice;
  /** OCI runtime binary (name on PATH or absolute path). */
  readonly runtime: string;
  /** Container monitor binary. */
  readonly conmon: string;
  /** `--userns-remap`: containers run in a user namespace with this mapping (daemon/userns.ts). */
  readonly usernsRemap?: IdMap;
  /** Running rootless under RootlessKit (daemon/rootless/rootless.ts, docs/rootless.md); absent: rootful. */
  readonly rootless?: RootlessMode;
  /** Containers get no_new_privs unless they say `--security-opt no-new-privileges=false`. */
  readonly noNewPrivileges?: boolean;
  /** `--cni-bin-dir`, `--cni-conf-dir`, `--bridge`, `--bridge-subnet`, `--ipam-dir` (daemon/networks.ts). */
  readonly network?: NetworkFlags;
  /** The Kubernetes CRI's socket (`--cri-socket`); absent: no CRI (`--cri=false`). See daemon/cri.ts. */
  readonly criSocket?: string;
  /** `--group`: the API socket's group (daemon/socket.ts; default `gantry` when it exists). */
  readonly socketGroup?: string;
  /** A listening socket systemd passed (socket activation, docs/service.md): served instead of binding `paths.socket`. */
  readonly listenFd?: number;
  /** `--sandbox-image`: pods' infra image instead of gantryd's catatonit rootfs (docs/cri.md). */
  readonly sandboxImage?: string;
  /** `--cri-pod-bridge`, `--cri-pod-subnet`: the pod network's bridge and subnet when gantryd makes it. */
  readonly criPodNetwork?: { readonly bridge?: string; readonly subnet?: string };
  /** `--cri-stream-address`, `--cri-stream-port`: where the CRI streaming server listens (docs/cri.md). */
  readonly criStreaming?: StreamingSettings;
  /** `--registry-config-dir`: `<dir>/<host>/hosts.toml` mirrors and endpoints (distribution/registryHosts.ts). */
  readonly registryConfigDir?: string;
  /** `--registry-mirror` / `registry_mirrors`: Docker Hub mirrors, tried first. */
  readonly registryMirrors?: readonly string[];
}

const SHUTDOWN_GRACE_MS = 5_000;

export class Daemon {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly config: DaemonConfig,
    private readonly log: Logger,
    private readonly locks: InstanceLock[],
    private readonly server: Server,
    private readonly events: EventLog,
    private readonly health: HealthStatus,
    /** Closed in reverse order of opening, after the server stopped. */
    private readonly closers: Array<() => Promise<void>>,
  ) {}

  static async start(config: DaemonConfig, log: Logger): Promise<Daemon> {
    const { root, state, socket } = config.paths;
    fs.mkdirSync(root, { recursive: true, mode: 0o711 });
    fs.mkdirSync(state, { recursive: true, mode: 0o711 });
    fs.mkdirSync(path.dirname(socket), { recursive: true, mode: 0o711 });

    const locks = [await acquireInstanceLock('socket', socket)];
    try {
      locks.push(await acquireInstanceLock('root', root));
      if (config.listenFd === undefined && (await clearStaleSocket(socket)) === 'replaced') {
        log.warn('replaced stale socket left by a daemon that did not shut down', { socket });
      }
      const events = EventLog.open(path.join(root, 'events'));
      const reserve = new DiskReserve(config.minFreeSpace ?? parseFreeSpace(DEFAULT_MIN_FREE_SPACE));
      const content = await LocalStore.open(path.join(root, 'content'), { reserve });
      const images = await FileImageStore.open(path.join(root, 'metadata'));
      // Layers are unpacked with shifted owners under a remapping, so each mapping has a snapshot tree (and ChainID key space) of its own.
      const remap = config.usernsRemap;
      const snapshotsRoot = path.join(root, remap ? `snapshots-${remap.uid}.${remap.gid}` : 'snapshots');
      const snapshotter = await createSnapshotter(snapshotsRoot, config.snapshotter, log, {
        transientPrefixes: [EXTRACT_KEY_PREFIX, CHANGES_VIEW_PREFIX, PAUSE_BUILD_PREFIX],
      });
      await snapshotter.cleanup(background());
      const gc = new Collector(content, snapshotter);
      gc.addRoots(() => images.list().map((i) => i.target));
      gc.addSnapshotRoots(() => images.list().flatMap((i) => (i.snapshot?.snapshotter === snapshotter.name ? [i.snapshot.chainId] : [])));
      const unpacker = new Unpacker(content, snapshotter, new TarApplier({ reserve, shift: remap }));
      const registry = createRegistry(
        {
          certsDir: config.certsDir,
          insecureRegistries: config.insecureRegistries,
          userAgent: `gantry/${GANTRY_VERSION}`,
          registryConfigDir: config.registryConfigDir,
          registryMirrors: config.registryMirrors,
          // A mirror's login is the daemon user's (docs/registries.md "Mirrors").
          mirrorCredentials: credentialLookup(),
        },
        { logger: log },
      );
      const puller = new Puller({ content, unpacker, registry, images, gc, events, concurrency: config.maxConcurrentDownloads });
      const containerStore = await FileContainerStore.open(path.join(root, 'containers'));
      const imageService = new ImageService(content, images, gc, events, {
        usersOf: (imageId) =>
          containerStore
            .list()
            .filter((c) => c.imageId === imageId)
            .map((c) => c.name),
      });
      const layers = new LayerService({
        inspect: (ctx, image) => imageService.inspect(ctx, image),
        content,
        snapshotter,
        mountDir: path.join(config.paths.state, 'layers'),
      });
      await layers.cleanup();
      const adapt = new HandlerAdapter(log);
      const health = new HealthStatus([
        'gantry.v1.Version',
        'gantry.v1.Events',
        'gantry.v1.Images',
        'gantry.v1.Registry',
        'gantry.v1.Snapshots',
        'gantry.v1.Containers',
        'gantry.v1.Networks',
        'gantry.v1.Files',
        'gantry.v1.Volumes',
        'gantry.v1.System',
      ]);
      const components = Promise.all([probeComponent('runc', config.runtime), probeComponent('conmon', config.conmon)]);
      const networks = await startNetworks({ config, log, events, store: containerStore });
      const volumes = await startVolumes({ config, log, events, store: containerStore });
      const containers = await startContainers({
        config,
        log,
        events,
        snapshotter,
        store: containerStore,
        images: imageService,
        networks: networks.containers,
        newImage: { content, images, gc, events, unpacker },
        volumes,
        layers,
      });
      const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
      server.addService(
        VersionService,
        versionService(adapt, async () => describe(config, await components, networks.unavailable, snapshotter.name)),
      );
      server.addService(EventsService, eventsService(adapt, events));
      server.addService(HealthService, healthService(adapt, health));
      const pusher = new ImagePusher({ content, registry, images, events, concurrency: config.maxConcurrentUploads });
      const transfer = transferHandlers(adapt, imageService, { content, pusher, load: { content, images, gc, events, unpacker } });
      const build = imageBuildHandlers(adapt, containers.changes, { content, images, gc, events, unpacker });
      server.addService(imagesServiceDefinition(), {
        ...imagesService(adapt, imageService, puller, registry),
        ...transfer,
        ...build,
        ...layersHandlers(adapt, layers),
      });
      server.addService(RegistryService, { ...registryService(adapt, registry), ...registryBrowsing(adapt, registry, imageService) });
      server.addService(SnapshotsService, snapshotsService(adapt, snapshotter));
      server.addService(ContainersService, containers.server(adapt));
      const rawBytes = new RawByteServer(log);
      server.addService(FilesService, containers.filesServer(adapt, rawBytes));
      server.addService(NetworksService, networks.server(adapt, containers.connections));
      server.addService(VolumesService, volumes.server(adapt));
      server.addService(SystemService, systemService(adapt, { images, containers: containerStore, snapshotter, volumes: volumes.usage }));
      // One rule for every socket of this daemon: a rootless one shares none with a group (no host group is mapped in its namespace).
      const socketGroup = config.rootless ? false : config.socketGroup;
      const cri = config.criSocket
        ? await startCri(
            config.criSocket,
            adapt,
            {
              log,
              runtime: {
                components: () => components,
                networkUnavailable: () => networks.unavailable,
                cgroupDriver: 'cgroupfs', // runc's cgroupfs manager: cgroupsPathOf in containers/launcher.ts
                settings: {
                  root,
                  state,
                  socket,
                  criSocket: config.criSocket,
                  snapshotter: snapshotter.name,
                  network: config.network ?? {},
                },
              },
              images: {
                images: imageService,
                puller,
                registry,
                imageFsDirs: [path.join(root, 'content'), snapshotsRoot],
                imageFsMountpoint: root,
              },
              ...criPods({
                log,
                containers,
                networks: networks.containers,
                snapshotter,
                gc,
                state,
                sandboxImage: config.sandboxImage,
                podNetwork: { ...config.criPodNetwork, confDir: config.network?.criCniConfDir },
                puller,
                images: imageService,
                events,
              }),
            },
            log,
            socketGroup,
            config.criStreaming,
          )
        : undefined;
      const unbind = await bindPrivately(server, socket, { group: socketGroup, listenFd: config.listenFd });
      await listenRaw(rawBytes, socket, log, socketGroup);
      // Closed in reverse order: networks after the containers.
      const daemon = new Daemon(config, log, locks, server, events, health, [
        async () => unbind(),
        () => networks.close(),
        () => registry.close(),
        async () => containers.close(),
        () => snapshotter.close(),
        async () => cri?.close(),
        () => rawBytes.close(),
      ]);
      events.publish(Topics.daemonStart, '', { version: GANTRY_VERSION, pid: String(process.pid) });
      log.info('gantryd serving', {
        socket,
        root,
        state,
        version: GANTRY_VERSION,
        pid: process.pid,
        minFreeSpace: formatFreeSpace(reserve.spec),
      });
      return daemon;
    } catch (e) {
      await Promise.all(locks.map((l) => l.release()));
      throw e;
    }
  }

  /** Idempotent; resolves once the socket is gone and the lock released. */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.shutdown(reason);
    return this.stopping;
  }

  private async shutdown(reason: string): Promise<void> {
    this.log.info('gantryd stopping', { reason });
    this.health.setAll(ServingStatus.NOT_SERVING);
    this.events.publish(Topics.daemonStop, '', { reason });
    this.events.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.log.warn('calls still running after grace period; cancelling them');
        this.server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    // A socket systemd passed is systemd's: it stays for the next activation.
    if (this.config.listenFd === undefined) fs.rmSync(this.config.paths.socket, { force: true });
    for (const close of [...this.closers].reverse()) {
      await close().catch((e: unknown) => this.log.warn('closing a component failed', { error: e }));
    }
    await Promise.all(this.locks.map((l) => l.release()));
    this.log.info('gantryd stopped');
  }
}

function describe(config: DaemonConfig, components: ComponentInfo[], networkUnavailable = '', snapshotter = ''): VersionResponse {
  return {
    ...buildInfo(),
    root: config.paths.root,
    state: config.paths.state,
    socket: config.paths.socket,
    rootful: process.getuid?.() === 0 && !config.rootless,
    rootless: config.rootless !== undefined || runsRootless(),
    rootlessNetwork: config.rootless?.net ?? '',
    snapshotter,
    pid: process.pid,
    components: components.map((c) => ({ name: c.name, path: c.path, version: c.version })),
    networkUnavailable,
    socketGroup: sharingGroup(config.paths.socket),
    socketActivated: config.listenFd !== undefined,
  };
}
