/**
 * Container networking: a network namespace per container, attached to
 * networks by CNI plugins. The container service uses only this file.
 *
 * Terms:
 *   network      a CNI conflist with a name. gantryd's own (the default
 *                `bridge`, and `network create` ones) live under
 *                `<root>/networks/`; user-provided ones in --cni-conf-dir
 *                are read-only. `none`, `host` and `container:NAME` are not
 *                networks: the container service handles them without us.
 *   sandbox      the container's network namespace, a file
 *                `<state>/netns/<containerId>` with the namespace
 *                bind-mounted on it; runc joins it (spec linux.namespaces
 *                network path).
 *   attachment   the sandbox attached to one or more networks (CNI ADD per
 *                network, interfaces eth0, eth1, …) plus the container's
 *                published host ports, recorded under
 *                `<root>/networks/attachments/` until detached.
 *
 * Lifecycle (what the container service calls):
 *   start    attach(ctx, id, networks, {ports})  → netns path for the spec;
 *            creates the sandbox; all-or-nothing: a taken port, an unknown
 *            network or a missing plugin fails before anything is made,
 *            a failed ADD is undone
 *   connect  connect(ctx, id, network) / disconnect(ctx, id, network) on an
 *            attached container: one network more or less, same sandbox
 *   stop     detach(ctx, id): CNI DEL in reverse, ports released, sandbox
 *            removed; idempotent
 *   restart  of gantryd: recover(ctx, runningIds) DELs what dead containers
 *            left and removes orphan namespaces; check(ctx, id) per live one
 *   network rm  removeNetwork(ctx, name, usedBy) refuses while in use
 *   names    EmbeddedDns (dns/resolver/): the user networks' DNS, fed by
 *            the container side after attach and at recovery
 *
 * Design and the reasons behind it: docs/networking.md.
 */
import type { Ctx } from '../context';
import type { Logger } from '../util/log';
import type { Availability } from './availability';
import type { CniResult } from './cni/result';
import type { PortMapping, PortSpec } from './ports/publish';
import type { NetworkInfo } from './store';
import type { NetnsEntry } from './netns';
import type { SubnetPool } from './subnets';

export type { NetworkInfo } from './store';
export type { NetnsEntry } from './netns';
export type { Availability, Missing } from './availability';
export type { CniResult, AttachmentSummary } from './cni/result';
export type { PortMapping, PortSpec, Protocol } from './ports/publish';
export { parsePublish, publishAll, parseExposed, formatMapping } from './ports/publish';
export { containerResolvConf, parseResolvConf, readHostResolvConf, HOST_RESOLV_CONF, UPSTREAM_RESOLV_CONF } from './dns/resolvConf';
export { EmbeddedDns, hasResolver, type NameService, type NameRecord } from './dns/resolver/index';
export { containerHosts, LOCALHOST_ENTRIES, parseAddHost, type ExtraHost } from './dns/hosts';
export { probeAvailability } from './availability';
export { DEFAULT_CNI_BIN_DIRS, CNI_PLUGINS_PACKAGE } from './cni/plugin';

// In configs.ts, so that manager.ts needs nothing but types from this file (no import cycle).
export { DEFAULT_NETWORK, DEFAULT_BRIDGE } from './configs';

/** Daemon settings (flags) the networking core needs. */
export interface NetworkSettings {
  /** The daemon root: networks, attachments, ports under `<root>/networks/`. */
  readonly root: string;
  /** The daemon state dir: namespaces under `<state>/netns/`. */
  readonly state: string;
  /** --cni-bin-dir (default DEFAULT_CNI_BIN_DIRS). */
  readonly cniBinDirs?: readonly string[];
  /** --cni-conf-dir: read-only user-provided conflists. */
  readonly cniConfDir?: string;
  /** --cri-cni-conf-dir: read-only conflists for CRI pods (the first one is the pod network; docs/cri.md). */
  readonly criCniConfDir?: string;
  /** The default network's bridge (default DEFAULT_BRIDGE). */
  readonly defaultBridge?: string;
  /** The default network's subnet; chosen free once and kept when absent. */
  readonly defaultSubnet?: string;
  /** host-local's data dir for every gantryd network (default `<root>/networks/ipam`). */
  readonly ipamDir?: string;
  /** Where new subnets are chosen from (default Docker's pools). */
  readonly subnetPools?: readonly SubnetPool[];
  /** Candidates to pass over first when choosing (tests start at a random one). */
  readonly subnetSkip?: number;
  readonly log?: Logger;
  /** Makes published ports reachable outside the daemon's own network namespace (rootless: RootlessKit's port driver). */
  readonly hostPorts?: HostPortPublisher;
}

/** Published ports beyond the namespace portmap writes its rules in (docs/rootless.md). */
export interface HostPortPublisher {
  /** Exposes the container's host ports (again: replaces what it had); fails, exposing none, when one cannot be. */
  publish(containerId: string, mappings: readonly PortMapping[]): Promise<void>;
  /**
   * Withdraws them; never throws. `mappings`: the container's reserved ports, which name what an earlier
   * gantryd exposed (after a restart the publisher has no memory of it).
   */
  unpublish(containerId: string, mappings?: readonly PortMapping[]): Promise<void>;
}

/** A container as the network code names it in messages. */
export interface ContainerRef {
  readonly id: string;
  /** '' for an unnamed one: its short ID is shown. */
  readonly name: string;
}

export interface CreateNetworkRequest {
  readonly name: string;
  /** CIDR; chosen free when absent. Refused when it overlaps another network or a host route. */
  readonly subnet?: string;
  /** Default: the subnet's first host address. */
  readonly gateway?: string;
  readonly internal?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  /** `-o` options: bridge.name, mtu, ip-masq (or Docker's com.docker.network.* names). */
  readonly options?: Readonly<Record<string, string>>;
}

export interface AttachRequest {
  readonly network: string;
  readonly aliases?: readonly string[];
  /** --ip: must lie in the network's subnet. */
  readonly ip?: string;
  /** --mac-address. */
  readonly mac?: string;
}

export interface AttachOptions {
  /** -p/-P, parsed; host ports are decided (and reserved) by attach. */
  readonly ports?: readonly PortSpec[];
  /**
   * An existing namespace to attach instead of a new one, e.g.
   * `/proc/PID/ns/net` of a task runc made in a user namespace (only the
   * namespace's owner may mount sysfs in it or join it from inside): it is
   * bind-mounted on the container's netns file, which then keeps it alive.
   */
  readonly netns?: string;
  /**
   * Called once the namespace file exists, before the plugins run: the
   * caller may then start `runc create` on it while the ADDs go on (the
   * container's process does not run before `runc start`).
   */
  readonly onSandbox?: () => void;
}

export interface NetworkAttachment {
  readonly network: string;
  readonly networkId: string;
  /** Inside the container: eth0, eth1, … */
  readonly interface: string;
  readonly mac: string;
  /** CIDRs ("10.88.0.5/16"). */
  readonly addresses: readonly string[];
  readonly gateway: string;
  readonly aliases: readonly string[];
  readonly result: CniResult;
}

export interface Attachment {
  readonly containerId: string;
  /** The netns file runc joins. */
  readonly netns: string;
  readonly networks: readonly NetworkAttachment[];
  readonly ports: readonly PortMapping[];
}

export interface CheckReport {
  readonly containerId: string;
  readonly netnsPresent: boolean;
  /** Per network: '' when CNI CHECK passed, else the error. */
  readonly networks: readonly { readonly network: string; readonly error: string }[];
  readonly ok: boolean;
}

export interface RecoveryReport {
  /** Containers whose leftovers were DELed and released. */
  readonly released: readonly string[];
  /** Namespace files with no attachment and no running container, removed. */
  readonly removedNetns: readonly string[];
  readonly problems: readonly { readonly containerId: string; readonly error: string }[];
}

export interface NetworkManager {
  /** Dirs, the netns mount, the port table, the default network. Call once at start-up. */
  init(ctx: Ctx): Promise<void>;
  availability(): Promise<Availability>;

  listNetworks(): Promise<NetworkInfo[]>;
  inspectNetwork(nameOrId: string): Promise<NetworkInfo>;
  /** Container IDs attached to the network (from the attachment records). */
  networkUsers(name: string): Promise<string[]>;
  createNetwork(ctx: Ctx, req: CreateNetworkRequest): Promise<NetworkInfo>;
  /** Refuses (Conflict, naming them) while `usedBy` or any attachment uses it. */
  removeNetwork(ctx: Ctx, nameOrId: string, usedBy?: readonly ContainerRef[]): Promise<void>;

  /** `networks` may be empty: a sandbox with loopback only, to connect networks to later. */
  attach(ctx: Ctx, containerId: string, networks: readonly AttachRequest[], opts?: AttachOptions): Promise<Attachment>;
  /**
   * `network connect` on an attached container: CNI ADD of one more network
   * into its existing sandbox (the next free interface, eth1, eth2, …).
   * All-or-nothing: a refused or failed ADD leaves the record as it was.
   */
  connect(ctx: Ctx, containerId: string, network: AttachRequest): Promise<Attachment>;
  /**
   * `network disconnect`: CNI DEL of that network only (name or ID); the
   * sandbox stays, possibly with loopback only. A failed DEL keeps the record.
   */
  disconnect(ctx: Ctx, containerId: string, network: string): Promise<Attachment>;
  detach(ctx: Ctx, containerId: string): Promise<void>;
  check(ctx: Ctx, containerId: string): Promise<CheckReport>;
  attachment(containerId: string): Promise<Attachment | undefined>;
  listAttachments(): Promise<Attachment[]>;
  /** After a restart: release what every container not in `running` left behind. */
  recover(ctx: Ctx, running: ReadonlySet<string>): Promise<RecoveryReport>;
  /** The netns path a container has or would have (for the spec). */
  netnsPath(containerId: string): string;
  /** Every namespace file under `<state>/netns/` (mounted or stale after a reboot). */
  listSandboxes(): Promise<NetnsEntry[]>;
  /**
   * At gantryd's shutdown: lets go of the netns directory's own mount when
   * no namespace is mounted in it any more. Containers that outlive the
   * daemon keep theirs, and the directory's mount with them, for the next
   * gantryd to find.
   */
  close(): Promise<void>;
}

export { createNetworkManager } from './manager';
