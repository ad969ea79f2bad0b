/**
 * The systemd units of the rootful system daemon (docs/service.md): the
 * text only, so it can be tested and verified without touching /etc.
 *
 * `gantryd.service` runs `node …/gantry.js daemon` as root. KillMode=process
 * and Delegate=yes as dockerd's unit: stopping or restarting the daemon must
 * not kill the containers' conmon processes and their cgroups, which outlive
 * it (docs/architecture.md). `gantryd.socket` owns /run/gantry/gantry.sock
 * (mode 0660, group `gantry`) and starts the service on the first
 * connection; gantryd serves on the descriptor systemd passes
 * (runtime/daemon/socket.ts).
 */
import { SYSTEM_SOCKET } from '../client/discovery';
import { DAEMON_NODE_FLAGS, daemonEnvWords } from '../client/daemonFlags';

export const SERVICE_UNIT = 'gantryd.service';
export const SOCKET_UNIT = 'gantryd.socket';
export const UNIT_DIR = '/etc/systemd/system';
export const DEFAULT_GROUP = 'gantry';

export interface UnitOptions {
  /** Absolute path of the node binary. */
  readonly node: string;
  /** Absolute path of dist/gantry.js. */
  readonly script: string;
  /** The socket's group. */
  readonly group: string;
  /** Extra `gantry daemon` flags. */
  readonly daemonArgs?: readonly string[];
  /** Write gantryd.socket and have the service take its socket from it. */
  readonly socketActivation: boolean;
  readonly socket?: string;
}

/** One ExecStart= word, quoted as systemd.service(5) reads it ("%" and "$" doubled). */
export function execWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function serviceUnit(o: UnitOptions): string {
  const socket = o.socket ?? SYSTEM_SOCKET;
  const exec = [o.node, ...DAEMON_NODE_FLAGS, o.script, 'daemon', '--socket', socket, '--group', o.group, ...(o.daemonArgs ?? [])]
    .map(execWord)
    .join(' ');
  const lines = [
    '[Unit]',
    'Description=Gantry container runtime (gantryd, rootful)',
    'After=network-online.target' + (o.socketActivation ? ` ${SOCKET_UNIT}` : ''),
    'Wants=network-online.target',
    ...(o.socketActivation ? [`Requires=${SOCKET_UNIT}`] : []),
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    // glibc's malloc settings (runtime/client/daemonFlags.ts): read only at process start.
    `Environment=${daemonEnvWords().map(execWord).join(' ')}`,
    // Containers outlive gantryd: only the daemon's own process is signalled, and its cgroup subtree is its own.
    'KillMode=process',
    'Delegate=yes',
    'Restart=always',
    'RestartSec=2',
    'TimeoutStopSec=30',
    'LimitNOFILE=1048576',
    'TasksMax=infinity',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ];
  return lines.join('\n') + '\n';
}

export function socketUnit(o: Pick<UnitOptions, 'group' | 'socket'>): string {
  const lines = [
    '[Unit]',
    'Description=Gantry API socket (gantryd)',
    `PartOf=${SERVICE_UNIT}`,
    '',
    '[Socket]',
    `ListenStream=${o.socket ?? SYSTEM_SOCKET}`,
    'SocketUser=root',
    `SocketGroup=${o.group}`,
    'SocketMode=0660',
    'DirectoryMode=0711',
    '',
    '[Install]',
    'WantedBy=sockets.target',
  ];
  return lines.join('\n') + '\n';
}
