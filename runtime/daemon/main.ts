/** `gantry daemon [flags]`: run gantryd in the foreground until SIGTERM/SIGINT. */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { describe, isGantryError } from '../errdefs/errdefs';
import { createLogger, isLogLevel } from '../util/log';
import { Daemon } from './daemon';
import { resolvePaths } from './paths';
import { defaultCriSocket } from './cri';
import { isSnapshotterChoice } from '../snapshots/select';
import { DEFAULT_MIN_FREE_SPACE, parseFreeSpace, type FreeSpaceSpec } from '../util/diskspace';
import { resolveUsernsRemap } from './userns';

export const DAEMON_USAGE = `Usage: gantry daemon [options]

Run gantryd, the Gantry container runtime daemon, in the foreground.

Options:
  --root DIR          data root (content, snapshots, metadata)
  --state DIR         state dir (socket, runtime state)
  --socket PATH       API socket (default: <state>/gantry.sock)
  --runtime PATH      OCI runtime binary (default: runc)
  --conmon PATH       container monitor binary (default: conmon)
  --insecure-registry HOST:PORT
                      allow plain HTTP to this registry (repeatable; loopback always may)
  --certs-dir DIR     per-registry CAs as DIR/HOST:PORT/ca.crt (default: /etc/gantry/certs.d)
  --snapshotter NAME  overlayfs | native | auto (default: auto = overlayfs when the
                      filesystem supports it)
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
  --log-level LEVEL   error | warn | info | debug (default: info)
  --no-new-privileges containers get no-new-privileges unless they ask
                      --security-opt no-new-privileges=false
`;

export async function daemonMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      root: { type: 'string' },
      state: { type: 'string' },
      socket: { type: 'string' },
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
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(DAEMON_USAGE);
    return 0;
  }
  const level = values['log-level'];
  if (!isLogLevel(level)) throw new Error(`invalid --log-level "${level}" (error, warn, info or debug)`);
  const log = createLogger(level);
  const downloads = Number(values['max-concurrent-downloads']);
  if (!Number.isInteger(downloads) || downloads < 1) throw new Error('--max-concurrent-downloads must be a positive integer');
  const uploads = Number(values['max-concurrent-uploads']);
  if (!Number.isInteger(uploads) || uploads < 1) throw new Error('--max-concurrent-uploads must be a positive integer');
  const snapshotter = values.snapshotter;
  if (!isSnapshotterChoice(snapshotter)) throw new Error(`invalid --snapshotter "${snapshotter}" (overlayfs, native or auto)`);
  let minFreeSpace: FreeSpaceSpec;
  try {
    minFreeSpace = parseFreeSpace(values['min-free-space']);
  } catch (e) {
    throw new Error(`--min-free-space: ${(e as Error).message}`);
  }

  if (values.cri !== 'true' && values.cri !== 'false') throw new Error(`invalid --cri "${values.cri}" (true or false)`);
  const paths = resolvePaths(values);
  const criSocket = values.cri === 'false' ? undefined : path.resolve(values['cri-socket'] ?? defaultCriSocket(paths.state));

  let daemon: Daemon;
  try {
    const remap = values['userns-remap'];
    const usernsRemap = remap === undefined || remap === '' ? undefined : await resolveUsernsRemap(remap);
    if (usernsRemap) log.info('userns-remap', { value: remap, ...usernsRemap });
    daemon = await Daemon.start(
      {
        paths,
        criSocket,
        runtime: values.runtime,
        conmon: values.conmon,
        insecureRegistries: values['insecure-registry'],
        certsDir: values['certs-dir'],
        maxConcurrentDownloads: downloads,
        maxConcurrentUploads: uploads,
        minFreeSpace,
        snapshotter,
        usernsRemap,
        noNewPrivileges: values['no-new-privileges'],
        network: {
          cniBinDirs: values['cni-bin-dir'].length ? values['cni-bin-dir'].map((d) => path.resolve(d)) : undefined,
          cniConfDir: values['cni-conf-dir'] && path.resolve(values['cni-conf-dir']),
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
