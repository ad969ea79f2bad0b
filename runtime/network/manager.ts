/**
 * The NetworkManager (runtime/network/index.ts) over real CNI plugins: the
 * network store, attachment records, the port table and the namespaces
 * put together. See index.ts for the lifecycle and docs/networking.md for
 * the design.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Ctx } from '../context';
import { alreadyExists, conflict, describe, failedPrecondition, internal, invalidArgument } from '../errdefs/errdefs';
import { KeyedMutex } from '../util/keyedMutex';
import { settleAll } from '../util/concurrency';
import { silentLogger, type Logger } from '../util/log';
import { AttachmentStore, type AttachmentRecord, type NetworkAttachmentRecord } from './attachments';
import { probeAvailability, type Availability } from './availability';
import { addNetwork, checkNetwork, delNetwork, pluginTypes, type Conflist, type ConflistCall, type RuntimeConfig } from './cni/conflist';
import { DEFAULT_CNI_BIN_DIRS, requirePlugins } from './cni/plugin';
import { summarize, type CniResult } from './cni/result';
import { ensureForwarding, ensureIsolation, ensureMasquerade, linkExists, removeBridge } from './bridges';
import {
  attachmentConflist,
  bridgeConflist,
  masqueradeOf,
  conflistSubnets,
  DEFAULT_BRIDGE,
  DEFAULT_NETWORK,
  parseBridgeOptions,
  validBridgeName,
} from './configs';
import { bindNetns, createNetns, listNetns, netnsPath, prepareNetnsDir, releaseNetnsDir, removeNetns, type NetnsEntry } from './netns';
import type { PortMapping } from './ports/publish';
import { PortReservations } from './ports/reservations';
import { NetworkStore, type NetworkInfo, type StoredNetwork } from './store';
import { chooseSubnet, contains, firstHost, formatCidr, hostRoutes, overlaps, parseCidr, parseIPv4, type Cidr } from './subnets';
import {
  type AttachOptions,
  type AttachRequest,
  type Attachment,
  type CheckReport,
  type ContainerRef,
  type CreateNetworkRequest,
  type NetworkManager,
  type NetworkSettings,
  type RecoveryReport,
} from './index';
import { networkNameProblem } from './networkName';

const MAC = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;

export function createNetworkManager(settings: NetworkSettings): NetworkManager {
  return new CniNetworkManager(settings);
}

class CniNetworkManager implements NetworkManager {
  private readonly log: Logger;
  private readonly binDirs: readonly string[];
  private readonly netDir: string;
  private readonly netnsDir: string;
  private readonly ipamDir: string;
  private readonly store: NetworkStore;
  private readonly attachments: AttachmentStore;
  private readonly ports: PortReservations;
  private readonly containerLocks = new KeyedMutex();
  private readonly networkLock = new KeyedMutex();
  /** Per bridge, this process's set-up of its isolation and masquerade rules (bridges.ts); a failed one is forgotten, to be tried again. */
  private readonly hostRules = new Map<string, Promise<void>>();

  constructor(private readonly settings: NetworkSettings) {
    this.log = settings.log ?? silentLogger;
    this.binDirs = settings.cniBinDirs && settings.cniBinDirs.length > 0 ? settings.cniBinDirs : DEFAULT_CNI_BIN_DIRS;
    this.netDir = path.join(settings.root, 'networks');
    this.netnsDir = path.join(settings.state, 'netns');
    this.ipamDir = settings.ipamDir ?? path.join(this.netDir, 'ipam');
    this.store = new NetworkStore(this.netDir, settings.cniConfDir, settings.criCniConfDir);
    this.attachments = new AttachmentStore(path.join(this.netDir, 'attachments'));
    this.ports = new PortReservations(path.join(this.netDir, 'ports.json'));
  }

  private async releasePorts(containerId: string): Promise<void> {
    await this.settings.hostPorts?.unpublish(containerId, this.ports.forContainer(containerId));
    await this.ports.release(containerId);
  }

  async init(_ctx: Ctx): Promise<void> {
    await this.store.init();
    await this.attachments.init();
    await this.ports.load();
    await prepareNetnsDir(this.netnsDir);
    await this.networkLock.run('networks', () => this.ensureDefault());
    // Without iptables gantryd still starts (none and host work); a bridged attach then says what is missing.
    await this.setUpHost(await this.listStored()).catch((e: unknown) =>
      this.log.warn('cannot set up the isolation and masquerade of networks', { error: describe(e) }),
    );
  }

  /**
   * The host rules of gantryd's own bridge networks (isolation between
   * them, their traffic accepted in FORWARD, masquerade to the outside),
   * once per bridge and process: at
   * start, at creation, and before a first attach if those failed.
   * --cni-conf-dir lists bring their own.
   */
  private async setUpHost(networks: readonly StoredNetwork[]): Promise<void> {
    const own = networks.filter((n) => !n.info.readOnly && n.info.bridge).map((n) => n.info);
    const missing = own.filter((n) => !this.hostRules.has(n.bridge));
    if (missing.length > 0) {
      const setUp = (async () => {
        await ensureIsolation(missing.map((n) => n.bridge));
        for (const n of missing) await ensureMasquerade(n.bridge, masqueradeOf(n));
        for (const n of missing) await ensureForwarding(n.bridge);
      })();
      for (const n of missing) this.hostRules.set(n.bridge, setUp);
      setUp.catch(() => missing.forEach((n) => this.hostRules.get(n.bridge) === setUp && this.hostRules.delete(n.bridge)));
    }
    await Promise.all(own.map((n) => this.hostRules.get(n.bridge) ?? Promise.resolve()));
  }

  availability(): Promise<Availability> {
    return probeAvailability(this.binDirs);
  }

  async close(): Promise<void> {
    if ((await listNetns(this.netnsDir)).some((entry) => entry.mounted)) return;
    await releaseNetnsDir(this.netnsDir);
  }

  netnsPath(containerId: string): string {
    return netnsPath(this.netnsDir, containerId);
  }

  listSandboxes(): Promise<NetnsEntry[]> {
    return listNetns(this.netnsDir);
  }

  // ── networks ───────────────────────────────────────────────────────────

  private async listStored(): Promise<StoredNetwork[]> {
    return this.store.list((file, why) => this.log.warn('skipping CNI config', { file, why }));
  }

  async listNetworks(): Promise<NetworkInfo[]> {
    return (await this.listStored()).map((n) => n.info);
  }

  async inspectNetwork(nameOrId: string): Promise<NetworkInfo> {
    return (await this.store.get(nameOrId)).info;
  }

  async networkUsers(name: string): Promise<string[]> {
    return (await this.attachments.list()).filter((a) => a.networks.some((n) => n.network === name)).map((a) => a.containerId);
  }

  /** Subnets in use: every network's and every host route. */
  private async takenSubnets(): Promise<Cidr[]> {
    const taken = await hostRoutes();
    for (const n of await this.listStored()) {
      for (const s of conflistSubnets(n.conflist)) {
        try {
          taken.push(parseCidr(s));
        } catch {
          // an IPv6 range of a user-provided list cannot overlap an IPv4 one
        }
      }
    }
    return taken;
  }

  private async ensureDefault(): Promise<void> {
    const existing = (await this.listStored()).find((n) => n.info.name === DEFAULT_NETWORK && !n.info.readOnly);
    const bridge = this.settings.defaultBridge ?? DEFAULT_BRIDGE;
    if (!validBridgeName(bridge)) throw invalidArgument(`invalid default bridge name ${JSON.stringify(bridge)}`);
    const wanted = this.settings.defaultSubnet;
    if (existing && existing.info.bridge === bridge && (!wanted || existing.info.subnet === wanted)) {
      const list = this.bridgeList(existing.info);
      if (JSON.stringify(list) !== JSON.stringify(existing.conflist)) await this.store.save(existing.info, list);
      return;
    }
    let subnet: Cidr;
    if (wanted) subnet = parseCidr(wanted, true);
    else if (existing) subnet = parseCidr(existing.info.subnet);
    else subnet = chooseSubnet(await this.takenSubnets(), this.settings.subnetPools, this.settings.subnetSkip);
    const info: NetworkInfo = {
      id: existing?.info.id ?? randomBytes(32).toString('hex'),
      name: DEFAULT_NETWORK,
      driver: 'bridge',
      bridge,
      subnet: formatCidr(subnet),
      gateway: firstHost(subnet),
      internal: false,
      labels: {},
      options: {},
      created: existing?.info.created ?? new Date().toISOString(),
      builtin: true,
      readOnly: false,
      source: this.store.conflistPath(DEFAULT_NETWORK),
    };
    await this.store.save(info, this.bridgeList(info));
    this.log.info('default network', { bridge, subnet: info.subnet });
  }

  private bridgeList(info: NetworkInfo): Conflist {
    const o = parseBridgeOptions(info.options);
    return bridgeConflist({
      name: info.name,
      bridge: info.bridge,
      subnet: info.subnet,
      gateway: info.gateway,
      internal: info.internal,
      mtu: o.mtu,
      ipamDir: this.ipamDir,
      tuningDir: path.join(this.netDir, 'tuning'),
    });
  }

  createNetwork(_ctx: Ctx, req: CreateNetworkRequest): Promise<NetworkInfo> {
    return this.networkLock.run('networks', async () => {
      if (networkNameProblem(req.name) !== undefined) throw invalidArgument(`invalid network name ${JSON.stringify(req.name)}`);
      const all = await this.listStored();
      if (all.some((n) => n.info.name === req.name)) throw alreadyExists(`network ${req.name} already exists`);
      const options = req.options ?? {};
      const o = parseBridgeOptions(options);
      const id = randomBytes(32).toString('hex');
      const bridge = o.bridge ?? `gt-${id.slice(0, 12)}`;
      if (all.some((n) => n.info.bridge === bridge)) throw conflict(`bridge ${bridge} is used by another network`);
      // removeNetwork deletes the bridge: never adopt a link gantryd did not make.
      if (await linkExists(bridge)) throw conflict(`a network interface named ${bridge} already exists on the host`);
      const taken = await this.takenSubnets();
      let subnet: Cidr;
      if (req.subnet) {
        subnet = parseCidr(req.subnet, true);
        const clash = all.find((n) => conflistSubnets(n.conflist).some((s) => safeOverlap(s, subnet)));
        if (clash) throw conflict(`subnet ${req.subnet} overlaps network ${clash.info.name} (${clash.info.subnet})`);
        const route = taken.find((t) => overlaps(t, subnet));
        if (route) throw conflict(`subnet ${req.subnet} overlaps the host route ${formatCidr(route)}`);
      } else {
        subnet = chooseSubnet(taken, this.settings.subnetPools, this.settings.subnetSkip);
      }
      let gateway = firstHost(subnet);
      if (req.gateway) {
        const g = parseIPv4(req.gateway);
        if (g === undefined || !contains(subnet, g) || g === subnet.base)
          throw invalidArgument(`gateway ${req.gateway} is not a host address in ${formatCidr(subnet)}`);
        gateway = req.gateway;
      }
      const info: NetworkInfo = {
        id,
        name: req.name,
        driver: 'bridge',
        bridge,
        subnet: formatCidr(subnet),
        gateway,
        internal: req.internal ?? false,
        labels: { ...(req.labels ?? {}) },
        options: { ...options },
        created: new Date().toISOString(),
        builtin: false,
        readOnly: false,
        source: this.store.conflistPath(req.name),
      };
      await this.store.save(info, this.bridgeList(info));
      await this.setUpHost([{ info, conflist: this.bridgeList(info) }]).catch((e: unknown) =>
        this.log.warn('cannot set up the isolation and masquerade of a new network yet', { network: info.name, error: describe(e) }),
      );
      return info;
    });
  }

  removeNetwork(_ctx: Ctx, nameOrId: string, usedBy: readonly ContainerRef[] = []): Promise<void> {
    return this.networkLock.run('networks', async () => {
      const { info } = await this.store.get(nameOrId);
      if (info.builtin) throw failedPrecondition(`network ${info.name} is the default network and cannot be removed`);
      if (info.readOnly)
        throw failedPrecondition(`network ${info.name} comes from ${info.source} (--cni-conf-dir) and cannot be removed by gantry`);
      // Each container once, by name when the caller knows it: configured ones
      // come with their names, attached ones (the records) with an ID only.
      const attached = (await this.networkUsers(info.name)).filter((id) => !usedBy.some((c) => c.id === id));
      const users = [...usedBy.map((c) => c.name || c.id.slice(0, 12)), ...attached.map((id) => id.slice(0, 12))];
      if (users.length > 0) throw conflict(`network ${info.name} is in use by container${users.length > 1 ? 's' : ''} ${users.join(', ')}`);
      await this.store.remove(info.name);
      this.hostRules.delete(info.bridge);
      await removeBridge(info.bridge);
      await fs.promises.rm(path.join(this.ipamDir, info.name), { recursive: true, force: true });
    });
  }

  // ── attachments ────────────────────────────────────────────────────────

  private call(record: AttachmentRecord, n: NetworkAttachmentRecord, signal?: AbortSignal): ConflistCall {
    return {
      containerId: record.containerId,
      netns: record.netns,
      ifname: n.ifname,
      binDirs: this.binDirs,
      runtimeConfig: n.runtimeConfig,
      signal,
    };
  }

  attach(ctx: Ctx, containerId: string, requests: readonly AttachRequest[], opts: AttachOptions = {}): Promise<Attachment> {
    return this.containerLocks.run(containerId, async () => {
      const file = this.netnsPath(containerId);
      if (await this.attachments.get(containerId)) throw alreadyExists(`container ${containerId} is already attached to its networks`);
      // Everything that can be refused is refused before anything is made.
      const chosen: { stored: StoredNetwork; req: AttachRequest }[] = [];
      for (const req of requests) {
        const stored = await this.checkedNetwork(req);
        if (chosen.some((c) => c.stored.info.name === stored.info.name)) throw invalidArgument(`network ${stored.info.name} given twice`);
        chosen.push({ stored, req });
      }
      const specs = opts.ports ?? [];
      const portIndex = chosen.findIndex((c) => c.stored.conflist.plugins.some((p) => p.capabilities?.portMappings));
      if (specs.length > 0 && portIndex < 0)
        throw invalidArgument(
          `cannot publish ports on ${chosen.map((c) => c.stored.info.name).join(', ')}: no portmap plugin (an internal network?)`,
        );
      const ports = specs.length > 0 ? await this.ports.reserve(containerId, specs) : [];
      if (ports.length > 0 && this.settings.hostPorts) {
        try {
          await this.settings.hostPorts.publish(containerId, ports);
        } catch (e) {
          await this.ports.release(containerId);
          throw e;
        }
      }
      let record: AttachmentRecord = {
        containerId,
        netns: file,
        state: 'attaching',
        ports,
        networks: chosen.map(({ stored, req }, i) => {
          const portMappings = i === portIndex && ports.length > 0 ? ports : [];
          return networkRecord(stored, req, `eth${i}`, portMappings, i === 0);
        }),
      };
      try {
        // The record is written while the namespace is made: it only has to
        // be on disk before the first ADD allocates anything, and recovery
        // removes a namespace that has no record (docs/networking.md).
        await settleAll([
          this.setUpHost(chosen.map((c) => c.stored)),
          this.attachments.put(record),
          (async () => {
            // A namespace without a record is a leftover (nothing is attached to it).
            await removeNetns(file);
            if (opts.netns) await bindNetns(this.netnsDir, containerId, opts.netns);
            else await createNetns(this.netnsDir, containerId);
            opts.onSandbox?.();
          })(),
        ]);
        const done: NetworkAttachmentRecord[] = [];
        for (const n of record.networks) {
          const result = await addNetwork(n.conflist, this.call(record, n, ctx.signal));
          done.push({ ...n, result });
          record = { ...record, networks: [...done, ...record.networks.slice(done.length)] };
          // After the last ADD the record is written once, as attached.
          if (done.length < record.networks.length) await this.attachments.put(record);
        }
        record = { ...record, state: 'attached' };
        await this.attachments.put(record);
      } catch (e) {
        await this.undo(record).catch((u) => this.log.error('undoing a failed attach', { containerId, error: u }));
        throw e;
      }
      return toAttachment(record);
    });
  }

  /** The network of a request, once everything about it that can be refused is checked. */
  private async checkedNetwork(req: AttachRequest): Promise<StoredNetwork> {
    const stored = await this.store.get(req.network);
    if (req.mac && !MAC.test(req.mac)) throw invalidArgument(`invalid MAC address ${JSON.stringify(req.mac)}`);
    if (req.ip) checkIp(req.ip, stored.info);
    await requirePlugins(pluginTypes(stored.conflist), this.binDirs, stored.info.name);
    return stored;
  }

  connect(ctx: Ctx, containerId: string, req: AttachRequest): Promise<Attachment> {
    return this.containerLocks.run(containerId, async () => {
      const before = await this.attachments.get(containerId);
      if (!before || before.state !== 'attached') throw failedPrecondition(`container ${containerId} has no network sandbox to connect to`);
      const stored = await this.checkedNetwork(req);
      if (before.networks.some((n) => n.network === stored.info.name))
        throw alreadyExists(`endpoint with name ${containerId} already exists in network ${stored.info.name}`);
      const used = new Set(before.networks.map((n) => n.ifname));
      let index = 0;
      while (used.has(`eth${index}`)) index++;
      // The default route stays the first network's (as Docker's default gateway); a sandbox with none gets this one's.
      const pending = networkRecord(stored, req, `eth${index}`, [], before.networks.length === 0);
      // Written before the ADD, so that a gantryd killed in the middle leaves the network for a later DEL.
      await this.attachments.put({ ...before, networks: [...before.networks, pending] });
      let result: CniResult;
      try {
        result = await addNetwork(pending.conflist, this.call(before, pending, ctx.signal));
      } catch (e) {
        try {
          await delNetwork(pending.conflist, this.call(before, pending));
          await this.attachments.put(before);
        } catch (u) {
          this.log.error('undoing a failed connect', { containerId, network: stored.info.name, error: u });
        }
        throw e;
      }
      const after: AttachmentRecord = { ...before, networks: [...before.networks, { ...pending, result }] };
      await this.attachments.put(after);
      return toAttachment(after);
    });
  }

  disconnect(_ctx: Ctx, containerId: string, network: string): Promise<Attachment> {
    return this.containerLocks.run(containerId, async () => {
      const record = await this.attachments.get(containerId);
      const n = record?.networks.find((x) => x.network === network || x.networkId === network);
      if (!record || !n) throw failedPrecondition(`container ${containerId} is not connected to network ${network}`);
      await delNetwork(n.conflist, this.call(record, n), n.result);
      const after: AttachmentRecord = { ...record, networks: record.networks.filter((x) => x !== n) };
      await this.attachments.put(after);
      return toAttachment(after);
    });
  }

  /** DEL in reverse for every network, then netns, ports and record. Throws (keeping the record) if a DEL fails. */
  private async undo(record: AttachmentRecord): Promise<void> {
    const failed: NetworkAttachmentRecord[] = [];
    const errors: string[] = [];
    for (const n of [...record.networks].reverse()) {
      try {
        await delNetwork(n.conflist, this.call(record, n), n.result);
      } catch (e) {
        failed.unshift(n);
        errors.push(describe(e));
      }
    }
    await removeNetns(record.netns);
    if (failed.length > 0) {
      await this.attachments.put({ ...record, networks: failed });
      throw internal(`detaching container ${record.containerId}: ${errors.join('; ')}`);
    }
    await this.releasePorts(record.containerId);
    await this.attachments.remove(record.containerId);
  }

  detach(_ctx: Ctx, containerId: string): Promise<void> {
    return this.containerLocks.run(containerId, async () => {
      const record = await this.attachments.get(containerId);
      if (record) return this.undo(record);
      await removeNetns(this.netnsPath(containerId));
      await this.releasePorts(containerId);
    });
  }

  check(ctx: Ctx, containerId: string): Promise<CheckReport> {
    return this.containerLocks.run(containerId, async () => {
      const record = await this.attachments.get(containerId);
      const file = this.netnsPath(containerId);
      const netnsPresent = (await listNetns(this.netnsDir)).some((e) => e.path === file && e.mounted);
      const networks: { network: string; error: string }[] = [];
      for (const n of record?.networks ?? []) {
        let error = '';
        if (!n.result) error = 'the ADD never completed';
        else if (!netnsPresent) error = `network namespace ${file} is gone`;
        else await checkNetwork(n.conflist, this.call(record!, n, ctx.signal), n.result).catch((e) => (error = describe(e)));
        networks.push({ network: n.network, error });
      }
      const ok = record !== undefined && record.state === 'attached' && netnsPresent && networks.every((n) => n.error === '');
      return { containerId, netnsPresent, networks, ok };
    });
  }

  async attachment(containerId: string): Promise<Attachment | undefined> {
    const record = await this.attachments.get(containerId);
    return record && toAttachment(record);
  }

  async listAttachments(): Promise<Attachment[]> {
    return (await this.attachments.list()).map(toAttachment);
  }

  async recover(ctx: Ctx, running: ReadonlySet<string>): Promise<RecoveryReport> {
    const released: string[] = [];
    const removedNetns: string[] = [];
    const problems: { containerId: string; error: string }[] = [];
    const records = await this.attachments.list();
    for (const record of records) {
      if (running.has(record.containerId)) continue;
      try {
        await this.detach(ctx, record.containerId);
        released.push(record.containerId);
      } catch (e) {
        problems.push({ containerId: record.containerId, error: describe(e) });
      }
    }
    const known = new Set(records.map((r) => r.containerId));
    for (const entry of await listNetns(this.netnsDir)) {
      if (running.has(entry.id) || known.has(entry.id)) continue;
      await removeNetns(entry.path);
      removedNetns.push(entry.id);
    }
    for (const r of this.ports.list()) {
      if (!running.has(r.containerId) && !known.has(r.containerId)) await this.releasePorts(r.containerId);
    }
    return { released, removedNetns, problems };
  }
}

function safeOverlap(s: string, c: Cidr): boolean {
  try {
    return overlaps(parseCidr(s), c);
  } catch {
    return false;
  }
}

function checkIp(ip: string, info: NetworkInfo): void {
  if (!net.isIPv4(ip)) throw invalidArgument(`--ip ${ip} is not an IPv4 address`);
  if (!info.subnet) return;
  const subnet = parseCidr(info.subnet);
  const n = parseIPv4(ip)!;
  if (!contains(subnet, n)) throw invalidArgument(`--ip ${ip} is outside network ${info.name}'s subnet ${info.subnet}`);
  if (ip === info.gateway || n === subnet.base)
    throw invalidArgument(`--ip ${ip} is network ${info.name}'s ${ip === info.gateway ? 'gateway' : 'network address'}`);
}

/**
 * A network's part of an attachment record, before its ADD. Only the
 * sandbox's first network gives it a default route: the conflist of a
 * further one goes without its IPAM default routes, and is kept so for DEL.
 */
function networkRecord(
  stored: StoredNetwork,
  req: AttachRequest,
  ifname: string,
  ports: readonly PortMapping[],
  defaultRoute: boolean,
): NetworkAttachmentRecord {
  const rc: RuntimeConfig = {
    ...(ports.length > 0
      ? {
          portMappings: ports.map((p) => ({
            hostPort: p.hostPort,
            containerPort: p.containerPort,
            protocol: p.protocol,
            hostIP: p.hostIp,
          })),
        }
      : {}),
    ...(req.mac ? { mac: req.mac } : {}),
    ...(req.ip ? { ips: [req.ip] } : {}),
  };
  const list = defaultRoute ? stored.conflist : withoutDefaultRoutes(stored.conflist);
  return {
    network: stored.info.name,
    networkId: stored.info.id,
    ifname,
    aliases: [...(req.aliases ?? [])],
    // gantryd's own lists lose the plugins with nothing to do here (configs.ts); --cni-conf-dir lists run as given.
    conflist: stored.info.readOnly ? list : attachmentConflist(list, rc),
    runtimeConfig: rc,
  };
}

function withoutDefaultRoutes(list: Conflist): Conflist {
  const isDefault = (r: unknown) => ['0.0.0.0/0', '::/0'].includes((r as { dst?: unknown }).dst as string);
  return {
    ...list,
    plugins: list.plugins.map((p) => {
      const ipam = p.ipam as { routes?: unknown[] } | undefined;
      if (!ipam || !Array.isArray(ipam.routes)) return p;
      return { ...p, ipam: { ...ipam, routes: ipam.routes.filter((r) => !isDefault(r)) } };
    }),
  };
}

function toAttachment(record: AttachmentRecord): Attachment {
  return {
    containerId: record.containerId,
    netns: record.netns,
    ports: record.ports,
    networks: record.networks
      .filter((n) => n.result)
      .map((n) => {
        const s = summarize(n.result!, n.ifname);
        return {
          network: n.network,
          networkId: n.networkId,
          interface: s.interface,
          mac: s.mac,
          addresses: s.addresses,
          gateway: s.gateway,
          aliases: n.aliases,
          result: n.result!,
        };
      }),
  };
}
