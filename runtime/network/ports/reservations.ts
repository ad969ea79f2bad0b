/**
 * Host port reservations: which container holds which host IP:port/protocol.
 *
 * portmap publishes a port with DNAT rules only — it never binds the port —
 * so nothing else would stop a second container, or a process on the host,
 * from "having" the same port. gantryd keeps this table (persisted in
 * `<root>/networks/ports.json`, so it survives a restart while the
 * containers keep running) and checks each new reservation twice: against
 * the table (another container) and with a real bind (TCP listen, UDP bind,
 * then close) for any other process. All of one call's ports are reserved or
 * none is. Released when the container's network is detached.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { conflict, dataLoss, resourceExhausted } from '../../errdefs/errdefs';
import { writeFileAtomic } from '../../util/atomicfile';
import { formatMapping, type PortMapping, type PortSpec, type Protocol } from './publish';

export interface Reservation extends PortMapping {
  readonly containerId: string;
}

/** Resolves true when the port can be bound right now (then closes it again). */
export type BindProbe = (hostIp: string, port: number, protocol: Protocol) => Promise<boolean>;

/** The address a bind check uses for '' (every address). */
function bindAddress(hostIp: string): string {
  return hostIp === '' ? '0.0.0.0' : hostIp;
}

export const bindProbe: BindProbe = (hostIp, port, protocol) =>
  new Promise((resolve) => {
    const host = bindAddress(hostIp);
    if (protocol === 'udp') {
      const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      sock.once('error', () => resolve(false));
      sock.bind({ address: host, port, exclusive: true }, () => sock.close(() => resolve(true)));
      return;
    }
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });

/** A free port the kernel picks (bind to port 0), or 0 when it cannot. */
function ephemeralPort(hostIp: string, protocol: Protocol): Promise<number> {
  return new Promise((resolve) => {
    const host = bindAddress(hostIp);
    if (protocol === 'udp') {
      const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      sock.once('error', () => resolve(0));
      sock.bind({ address: host, port: 0, exclusive: true }, () => {
        const { port } = sock.address();
        sock.close(() => resolve(port));
      });
      return;
    }
    const server = net.createServer();
    server.once('error', () => resolve(0));
    server.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function clash(a: PortMapping, b: PortMapping): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === '' || b.hostIp === '' || a.hostIp === b.hostIp);
}

export class PortReservations {
  private entries: Reservation[] = [];
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly probe: BindProbe = bindProbe,
  ) {}

  /** Reads the table; a missing file is an empty table. */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    try {
      const json = JSON.parse(text) as { reservations?: Reservation[] };
      this.entries = Array.isArray(json.reservations) ? json.reservations : [];
    } catch (e) {
      throw dataLoss(`port reservations ${this.file} are corrupt: ${(e as Error).message}`, e);
    }
  }

  list(): Reservation[] {
    return [...this.entries];
  }

  forContainer(containerId: string): PortMapping[] {
    return this.entries
      .filter((r) => r.containerId === containerId)
      .map(({ hostIp, hostPort, containerPort, protocol }) => ({ hostIp, hostPort, containerPort, protocol }));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.catch(() => undefined).then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private save(entries: Reservation[]): Promise<void> {
    return writeFileAtomic(this.file, JSON.stringify({ reservations: entries }, null, 1) + '\n', 0o644);
  }

  /**
   * Decides and reserves a host port for each spec, all or none. Conflict
   * naming the holder when another container or a host process has one.
   * Ports this container already holds are kept (idempotent).
   */
  reserve(containerId: string, specs: readonly PortSpec[]): Promise<PortMapping[]> {
    return this.serial(async () => {
      const decided: Reservation[] = [];
      const taken = (m: PortMapping) =>
        this.entries.find((r) => r.containerId !== containerId && clash(r, m)) ?? decided.find((r) => clash(r, m));
      const mine = (m: PortMapping) => this.entries.some((r) => r.containerId === containerId && clash(r, m) && r.hostIp === m.hostIp);
      for (const spec of specs) {
        const base = { hostIp: spec.hostIp, containerPort: spec.containerPort, protocol: spec.protocol, containerId };
        if (spec.hostPort === 0) {
          let port = 0;
          for (let attempt = 0; attempt < 50 && port === 0; attempt++) {
            const p = await ephemeralPort(spec.hostIp, spec.protocol);
            if (p !== 0 && !taken({ ...base, hostPort: p })) port = p;
          }
          if (port === 0) throw resourceExhausted(`no free host port for ${spec.containerPort}/${spec.protocol}`);
          decided.push({ ...base, hostPort: port });
          continue;
        }
        let chosen = 0;
        let why = '';
        for (let p = spec.hostPort; p <= spec.hostPortEnd && chosen === 0; p++) {
          const m = { ...base, hostPort: p };
          const holder = taken(m);
          if (holder) {
            why = holder.containerId === containerId ? 'is published twice' : `is already published by container ${holder.containerId}`;
            continue;
          }
          if (mine(m) || (await this.probe(spec.hostIp, p, spec.protocol))) chosen = p;
          else why = 'is in use by another process on the host';
        }
        if (chosen === 0) {
          const range = spec.hostPortEnd > spec.hostPort ? `${spec.hostPort}-${spec.hostPortEnd}` : `${spec.hostPort}`;
          const shown = formatMapping({ ...base, hostPort: 0 }).replace(/:0->/, `:${range}->`);
          throw conflict(`cannot publish ${shown}: host port ${range}/${spec.protocol} ${why}`);
        }
        decided.push({ ...base, hostPort: chosen });
      }
      const others = this.entries.filter(
        (r) => !(r.containerId === containerId && decided.some((d) => clash(d, r) && d.hostIp === r.hostIp)),
      );
      const next = [...others, ...decided];
      await this.save(next);
      this.entries = next;
      return decided.map(({ hostIp, hostPort, containerPort, protocol }) => ({ hostIp, hostPort, containerPort, protocol }));
    });
  }

  /** Frees every port of the container (idempotent). */
  release(containerId: string): Promise<void> {
    return this.serial(async () => {
      if (!this.entries.some((r) => r.containerId === containerId)) return;
      const next = this.entries.filter((r) => r.containerId !== containerId);
      await this.save(next);
      this.entries = next;
    });
  }
}
