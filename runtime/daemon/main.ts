/** `gantry daemon [flags]`: run gantryd in the foreground until SIGTERM/SIGINT. */
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describe, isGantryError } from '../errdefs/errdefs';
import { createLogger, isLogLevel } from '../util/log';
import type { Daemon } from './daemon';
import { resolvePaths } from './paths';
import { isSnapshotterChoice } from '../snapshots/choice';
import { DEFAULT_MIN_FREE_SPACE, parseFreeSpace, type FreeSpaceSpec } from '../util/diskspace';
import { resolveUsernsRemap } from './userns';
import { rootlessFromEnv } from './rootless/rootless';
import { runRootless } from './rootless/reexec';
import { defaultConfigDir, defaultConfigFile, printConfig, readConfigFile, withFileSettings } from './configFile';

export const DAEMON_USAGE = `Usage: gantry daemon [options]

Run gantryd, the Gantry container runtime daemon, in the foreground.
Started by a user other than root it runs rootless, under RootlessKit
(data in ~/.local/share/gantry, socket in $XDG_RUNTIME_DIR/gantry).

Options:
  --root DIR          data root (content, snapshots, metadata)
  --state DIR         state dir (socket, runtime state)
  --socket PATH       API socket (default: <state>/gantry.sock); under systemd socket
                      activation (LISTEN_FDS) gantryd serves on the passed socket instead
  --group NAME        the API socket's group, mode 0660 (default: gantry when that
                      group exists); its members are equivalent to root
  --runtime PATH      OCI runtime binary (default: runc)
  --conmon PATH       container monitor binary (default: conmon)
  --insecure-registry HOST:PORT
                      allow plain HTTP to this registry (repeatable; loopback always may)
  --certs-dir DIR     per-registry CAs as DIR/HOST:PORT/ca.crt (default: /etc/gantry/certs.d)
  --snapshotter NAME  overlayfs | fuse-overlayfs | native | auto (default: auto = the
                      first of those three that works here)
  --max-concurrent-downloads N
                      layers downloaded at once per pull (default: 3)
  --max-concurrent-uploads N
                      blobs uploaded at once per push (default: 6)
  --min-free-space SIZE|PERCENT
                      free space pulls leave on the data root's filesystem: a blob
                      or layer that would eat into it fails (default: 1GiB; 0: off)
  --userns-remap default|USER[:GROUP]
                      run containers in a user namespace: their root is the first
                      subordinate uid/gid of USER (/etc/subuid, /etc/subgid);
                      default = the user gantry, created when missing
  --cni-bin-dir DIR   where the CNI plugins are (repeatable; default: /usr/lib/cni, /opt/cni/bin)
  --cni-conf-dir DIR  user-provided network conflists (read-only)
  --bridge NAME       the default network's Linux bridge (default: gantry0)
  --bridge-subnet CIDR
                      the default network's subnet (default: a free one, chosen once)
  --ipam-dir DIR      IP allocations of every network (default: <root>/networks/ipam)
  --cri-socket PATH   the Kubernetes CRI socket (default: <state>/cri.sock); a kubelet
                      takes --container-runtime-endpoint=unix://PATH
  --cri=true|false    serve the CRI (default: true)
  --cri-cni-conf-dir DIR
                      CNI conflists for pods: the first (by file name) is the pod network;
                      default: k8s-pods, a bridge network gantryd makes
  --cri-pod-bridge NAME
                      the Linux bridge of the pod network k8s-pods (default: gantry-pods0)
  --cri-pod-subnet CIDR
                      the pod network's subnet (default: a free one, chosen when it is made)
  --cri-stream-address ADDR
                      where the CRI streaming server (exec, attach, port-forward URLs)
                      listens (default: 127.0.0.1)
  --cri-stream-port N the streaming server's port (default: 0, an ephemeral one)
  --sandbox-image REF the image of pods' infra process instead of the static catatonit
                      gantryd puts in a rootfs of its own (pulled when missing)
  --registry-config-dir DIR
                      per-registry hosts and mirrors as DIR/HOST/hosts.toml, containerd's
                      certs.d layout (default: <config dir>/certs.d: /etc/gantry/certs.d as root)
  --registry-mirror URL
                      a Docker Hub mirror, tried before docker.io (repeatable)
  --config FILE       the configuration file (default: /etc/gantry/gantryd.toml as root,
                      else $XDG_CONFIG_HOME/gantry/gantryd.toml); flags override it
  --print-config      print the effective settings as TOML and exit
  --log-level LEVEL   error | warn | info | debug (default: info)
  --no-new-privileges containers get no-new-privileges unless they ask
                      --security-opt no-new-privileges=false
`;

export async function daemonMain(argv: string[]): Promise<number> {
  const flags = {
    args: argv,
    options: {
      root: { type: 'string' },
      state: { type: 'string' },
      socket: { type: 'string' },
      group: { type: 'string' },
      runtime: { type: 'string', default: 'runc' },
      conmon: { type: 'string', default: 'conmon' },
      'log-level': { type: 'string', default: 'info' },
      'insecure-registry': { type: 'string', multiple: true, default: [] },
      'certs-dir': { type: 'string', default: '/etc/gantry/certs.d' },
      'max-concurrent-downloads': { type: 'string', default: '3' },
      'max-concurrent-uploads': { type: 'string', default: '6' },
      'min-free-space': { type: 'string', default: DEFAULT_MIN_FREE_SPACE },
      snapshotter: { type: 'string', default: 'auto' },
      'userns-remap': { type: 'string' },
      'no-new-privileges': { type: 'boolean', default: false },
      'cni-bin-dir': { type: 'string', multiple: true, default: [] },
      'cni-conf-dir': { type: 'string' },
      bridge: { type: 'string' },
      'bridge-subnet': { type: 'string' },
      'ipam-dir': { type: 'string' },
      'cri-socket': { type: 'string' },
      cri: { type: 'string', default: 'true' },
      'sandbox-image': { type: 'string' },
      'cri-pod-bridge': { type: 'string' },
      'cri-cni-conf-dir': { type: 'string' },
      'cri-pod-subnet': { type: 'string' },
      'cri-stream-address': { type: 'string', default: '127.0.0.1' },
      'cri-stream-port': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h' },
      config: { type: 'string' },
      'print-config': { type: 'boolean', default: false },
      'registry-config-dir': { type: 'string' },
      'registry-mirror': { type: 'string', multiple: true, default: [] },
    },
    strict: true,
    allowPositionals: false,
    tokens: true,
  } satisfies ParseArgsConfig;
  const parsed = parseArgs(flags);
  if (parsed.values.help) {
    process.stdout.write(DAEMON_USAGE);
    return 0;
  }
  // The configuration file (docs/configuration.md): settings the command line does not give.
  const configFile = parsed.values.config ?? defaultConfigFile();
  const fileSettings = readConfigFile(configFile, flags.options, parsed.values.config !== undefined);
  const values = withFileSettings(parsed, fileSettings);
  const level = values['log-level'];
  if (!isLogLevel(level)) throw new Error(`invalid --log-level "${level}" (error, warn, info or debug)`);
  const log = createLogger(level);
  const downloads = Number(values['max-concurrent-downloads']);
  if (!Number.isInteger(downloads) || downloads < 1) throw new Error('--max-concurrent-downloads must be a positive integer');
  const uploads = Number(values['max-concurrent-uploads']);
  if (!Number.isInteger(uploads) || uploads < 1) throw new Error('--max-concurrent-uploads must be a positive integer');
  const snapshotter = values.snapshotter;
  if (!isSnapshotterChoice(snapshotter))
    throw new Error(`invalid --snapshotter "${snapshotter}" (overlayfs, fuse-overlayfs, native or auto)`);
  let minFreeSpace: FreeSpaceSpec;
  try {
    minFreeSpace = parseFreeSpace(values['min-free-space']);
  } catch (e) {
    throw new Error(`--min-free-space: ${(e as Error).message}`);
  }

  if (values.cri !== 'true' && values.cri !== 'false') throw new Error(`invalid --cri "${values.cri}" (true or false)`);
  const streamPort = Number(values['cri-stream-port']);
  if (!Number.isInteger(streamPort) || streamPort < 0 || streamPort > 65535) throw new Error('--cri-stream-port must be 0-65535');
  const paths = resolvePaths(values);
  // A user other than root gets a rootless daemon: the same command again, under RootlessKit (docs/rootless.md).
  const rootless = rootlessFromEnv();
  if (!rootless && process.getuid?.() !== 0) {
    if (values['userns-remap'])
      throw new Error('--userns-remap needs a rootful gantryd: a rootless one already runs in a user namespace of its own');
    try {
      return await runRootless(argv, paths, log);
    } catch (e) {
      log.error(isGantryError(e) ? describe(e) : `rootless gantryd failed to start: ${(e as Error).message}`);
      return 1;
    }
  }
  // Past the rootless branch: the outer process of a rootless start never evaluates the daemon's modules (the CRI, gRPC,
  // the stores…), so it stays small while it waits (docs/performance.md, "gantryd's memory"; a unit test checks it).
  const { defaultCriSocket } = require('./cri') as typeof import('./cri');
  const { Daemon: DaemonClass } = require('./daemon') as typeof import('./daemon');
  const { takeSystemdListenFd } = require('./socket') as typeof import('./socket');
  const criSocket = values.cri === 'false' ? undefined : path.resolve(values['cri-socket'] ?? defaultCriSocket(paths.state));
  const registryConfigDir = path.resolve(values['registry-config-dir'] ?? path.join(defaultConfigDir(), 'certs.d'));
  if (values['print-config']) {
    const effective = {
      ...values,
      ...paths,
      'cri-socket': values['cri-socket'] ?? defaultCriSocket(paths.state),
      'registry-config-dir': registryConfigDir,
    };
    process.stdout.write(printConfig(flags.options, effective, fileSettings ? configFile : undefined));
    return 0;
  }

  let daemon: Daemon;
  try {
    // First, so nothing gantryd runs (useradd for --userns-remap included) inherits LISTEN_FDS.
    const listenFd = takeSystemdListenFd();
    const remap = values['userns-remap'];
    const usernsRemap = remap === undefined || remap === '' ? undefined : await resolveUsernsRemap(remap);
    if (usernsRemap) log.info('userns-remap', { value: remap, ...usernsRemap });
    daemon = await DaemonClass.start(
      {
        paths,
        criSocket,
        sandboxImage: values['sandbox-image'] || undefined,
        criPodNetwork: { bridge: values['cri-pod-bridge'], subnet: values['cri-pod-subnet'] },
        criStreaming: { address: values['cri-stream-address'], port: streamPort },
        runtime: values.runtime,
        conmon: values.conmon,
        insecureRegistries: values['insecure-registry'],
        certsDir: values['certs-dir'],
        maxConcurrentDownloads: downloads,
        maxConcurrentUploads: uploads,
        minFreeSpace,
        snapshotter,
        usernsRemap,
        rootless,
        noNewPrivileges: values['no-new-privileges'],
        socketGroup: values.group,
        listenFd,
        registryConfigDir,
        registryMirrors: values['registry-mirror'],
        network: {
          cniBinDirs: values['cni-bin-dir'].length ? values['cni-bin-dir'].map((d) => path.resolve(d)) : undefined,
          cniConfDir: values['cni-conf-dir'] && path.resolve(values['cni-conf-dir']),
          criCniConfDir: values['cri-cni-conf-dir'] && path.resolve(values['cri-cni-conf-dir']),
          defaultBridge: values.bridge,
          defaultSubnet: values['bridge-subnet'],
          ipamDir: values['ipam-dir'] && path.resolve(values['ipam-dir']),
        },
      },
      log,
    );
  } catch (e) {
    if (isGantryError(e)) log.error(describe(e));
    else log.error('gantryd failed to start', { error: e });
    return 1;
  }

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) {
        log.warn('second signal: exiting without waiting', { signal });
        process.exit(1);
      }
      daemon.stop(signal).then(
        () => resolve(0),
        (e: unknown) => {
          log.error('shutdown failed', { error: e });
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
