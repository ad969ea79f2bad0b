/**
 * CRI pod sandboxes: a sandbox is its infra container (pause.ts) in the
 * `k8s.io` namespace (records.ts), run through the one container service —
 * conmon + runc, the CNI attachment of its network namespace, recovery after
 * a restart of gantryd. The pod's containers (podContainers.ts) join its
 * network, IPC and UTS namespaces (and PID with `POD` sharing).
 *
 * Rules (the CRI's)
 * - Stop and Remove of a sandbox that is stopped or gone succeed; Status of
 *   an unknown one is NOT_FOUND.
 * - Calls on one sandbox run one at a time (a lock per sandbox), and a
 *   failed RunPodSandbox leaves nothing behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../context';
import type { Container } from '../containers/containers';
import type { ContainerBase } from '../containers/service';
import { invalidArgument, isNotFound, notFound } from '../errdefs/errdefs';
import { KeyedMutex } from '../util/keyedMutex';
import type { CriPodDeps } from './cri';
import {
  NamespaceMode,
  PodSandboxState,
  type PodSandbox,
  type PodSandboxConfig,
  type PodSandboxFilter,
  type PodSandboxStatus,
  type PodSandboxStatusResponse,
  type PortMapping,
  Protocol,
} from './gen/runtime/v1/api';
import {
  CRI_NAMESPACE_FILTER,
  containerRecordOf,
  criContainerConfig,
  nanos,
  sandboxName,
  sandboxRecordOf,
  selects,
  type SandboxRecord,
} from './records';
import { hostSecurity, sandboxSecurityOf, type SecurityHost } from './security';

/** The infra process gets this long after SIGTERM (catatonit exits at once). */
const INFRA_STOP_SECONDS = 2;

/** The pod's namespace options, checked: a sandbox shares network and IPC by POD or NODE, PID by POD, CONTAINER or NODE. */
export function podNamespacesOf(config: PodSandboxConfig): SandboxRecord['namespaces'] {
  const o = config.linux?.securityContext?.namespaceOptions;
  const network = o?.network ?? NamespaceMode.POD;
  const ipc = o?.ipc ?? NamespaceMode.POD;
  const pid = o?.pid ?? NamespaceMode.CONTAINER;
  const podOrNode = (m: NamespaceMode) => m === NamespaceMode.POD || m === NamespaceMode.NODE;
  if (!podOrNode(network))
    throw invalidArgument(`invalid pod namespace options: network must be POD or NODE, not ${NamespaceMode[network] ?? network}`);
  if (!podOrNode(ipc)) throw invalidArgument(`invalid pod namespace options: ipc must be POD or NODE, not ${NamespaceMode[ipc] ?? ipc}`);
  if (!podOrNode(pid) && pid !== NamespaceMode.CONTAINER)
    throw invalidArgument(`invalid pod namespace options: pid must be POD, CONTAINER or NODE, not ${NamespaceMode[pid] ?? pid}`);
  if (o?.targetId) throw invalidArgument('invalid pod namespace options: target_id is only for a container with pid TARGET');
  return { network, pid, ipc };
}

/** A CRI port mapping as a `-p` spec (hostPort 0: not published, as containerd). */
function publishSpec(p: PortMapping): string | undefined {
  if (p.hostPort <= 0) return undefined;
  if (p.containerPort <= 0 || p.containerPort > 65535 || p.hostPort > 65535)
    throw invalidArgument(`invalid port mapping ${p.hostPort}:${p.containerPort}`);
  const proto = p.protocol === Protocol.UDP ? 'udp' : p.protocol === Protocol.SCTP ? 'sctp' : 'tcp';
  const ip = p.hostIp ? (p.hostIp.includes(':') ? `[${p.hostIp}]:` : `${p.hostIp}:`) : '';
  return `${ip}${p.hostPort}:${p.containerPort}/${proto}`;
}

/** resolv.conf from the pod's DNSConfig (what containerd writes for a sandbox). */
export function resolvConfOf(dns: { servers: string[]; searches: string[]; options: string[] }): string {
  const lines = [
    ...(dns.searches.length ? [`search ${dns.searches.join(' ')}`] : []),
    ...dns.servers.map((s) => `nameserver ${s}`),
    ...(dns.options.length ? [`options ${dns.options.join(' ')}`] : []),
  ];
  return lines.join('\n') + '\n';
}

export class CriSandboxes {
  /** One call at a time per sandbox (keyed by ID, and by name while it is made). */
  readonly lock = new KeyedMutex();

  constructor(
    private readonly deps: CriPodDeps,
    private readonly security: SecurityHost = hostSecurity(),
  ) {}

  /** The sandbox `ref` names (ID or unique prefix), or NOT_FOUND. */
  find(ref: string): { infra: Container; record: SandboxRecord } {
    if (!ref) throw invalidArgument('pod sandbox ID is empty');
    let infra: Container;
    try {
      infra = this.deps.service.resolve(ref);
    } catch (e) {
      if (isNotFound(e)) throw notFound(`pod sandbox ${ref} not found`);
      throw e;
    }
    const record = sandboxRecordOf(infra);
    if (!record) throw notFound(`pod sandbox ${ref} not found`);
    return { infra, record };
  }

  /** Like find, or undefined when it is not there. */
  private lookup(ref: string): { infra: Container; record: SandboxRecord } | undefined {
    try {
      return this.find(ref);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async run(ctx: Ctx, config: PodSandboxConfig | undefined, runtimeHandler: string): Promise<string> {
    if (!config?.metadata?.name || !config.metadata.namespace || !config.metadata.uid)
      throw invalidArgument('PodSandboxConfig.metadata needs name, namespace and uid');
    if (runtimeHandler)
      throw invalidArgument(`unknown runtime handler ${JSON.stringify(runtimeHandler)}: gantryd has only the default one`);
    const namespaces = podNamespacesOf(config);
    const publish = namespaces.network === NamespaceMode.NODE ? [] : config.portMappings.map(publishSpec).filter((p): p is string => !!p);
    // The infra's seccomp profile and the pod's sysctls (security.ts), checked before anything is made.
    const security = sandboxSecurityOf(config, namespaces, this.security);
    const name = sandboxName(config.metadata);
    return this.lock.run(name, async () => {
      const record: SandboxRecord = {
        kind: 'sandbox',
        metadata: config.metadata!,
        labels: { ...config.labels },
        annotations: { ...config.annotations },
        logDirectory: config.logDirectory,
        hostname: config.hostname,
        dnsConfig: config.dnsConfig,
        portMappings: config.portMappings,
        namespaces,
        runtimeHandler,
        privileged: config.linux?.securityContext?.privileged ?? false,
      };
      const hostNetwork = namespaces.network === NamespaceMode.NODE;
      const base: ContainerBase | undefined = this.deps.sandboxImage ? undefined : await this.deps.pause.base(ctx);
      if (this.deps.sandboxImage) await this.deps.ensureImage(ctx, this.deps.sandboxImage);
      const network = hostNetwork ? 'host' : await this.deps.podNetwork(ctx);
      const infraConfig = criContainerConfig(record, {
        image: this.deps.sandboxImage ?? base!.name,
        env: [],
        mounts: [],
        readOnlyRootfs: false,
        memoryBytes: 0,
        nanoCpus: 0,
        capAdd: [],
        capDrop: [],
        network,
        tty: false,
        openStdin: false,
        hostname: hostNetwork ? undefined : config.hostname || undefined,
        publish,
        ipcMode: namespaces.ipc === NamespaceMode.NODE ? 'host' : undefined,
        pidMode: namespaces.pid === NamespaceMode.NODE ? 'host' : undefined,
        // A host-network pod has the host's name, as a kubelet expects.
        utsMode: hostNetwork ? 'host' : undefined,
        stopTimeoutSeconds: INFRA_STOP_SECONDS,
        ...security,
      });
      const infra = await this.deps.service.create(ctx, name, infraConfig, base);
      try {
        await this.deps.service.start(ctx, infra.id);
        const dns = config.dnsConfig;
        if (dns && (dns.servers.length || dns.searches.length || dns.options.length)) {
          // Rewritten in place: the pod's containers bind-mount this very file.
          await fs.promises.writeFile(path.join(this.deps.service.bundleOf(infra.id), 'etc', 'resolv.conf'), resolvConfOf(dns));
        }
      } catch (e) {
        await this.deps.service
          .remove(ctx, infra.id, true)
          .catch((err: unknown) => this.deps.log.warn('removing a pod sandbox that failed to start failed', { id: infra.id, error: err }));
        throw e;
      }
      return infra.id;
    });
  }

  /** The sandbox's containers (not its infra). */
  containersOf(sandboxId: string): Container[] {
    return this.deps.service.list(true, [CRI_NAMESPACE_FILTER]).filter((c) => containerRecordOf(c)?.sandboxId === sandboxId);
  }

  async stop(ctx: Ctx, ref: string): Promise<void> {
    const found = this.lookup(ref);
    if (!found) return;
    await this.lock.run(found.infra.id, async () => {
      for (const c of this.containersOf(found.infra.id)) await this.stopQuietly(ctx, c.id, 0);
      await this.stopQuietly(ctx, found.infra.id, INFRA_STOP_SECONDS);
    });
  }

  async remove(ctx: Ctx, ref: string): Promise<void> {
    const found = this.lookup(ref);
    if (!found) return;
    await this.lock.run(found.infra.id, async () => {
      for (const c of this.containersOf(found.infra.id)) await this.removeQuietly(ctx, c.id);
      await this.removeQuietly(ctx, found.infra.id);
    });
  }

  /** Stops a container that runs; one that is stopped, never started or gone is left as it is. */
  async stopQuietly(ctx: Ctx, id: string, timeoutSeconds: number): Promise<void> {
    try {
      const c = this.deps.service.resolve(id);
      if (c.state.status !== 'running' && c.state.status !== 'paused' && c.state.status !== 'restarting') return;
      await this.deps.service.stop(ctx, id, { timeoutSeconds });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  private async removeQuietly(ctx: Ctx, id: string): Promise<void> {
    try {
      await this.deps.service.remove(ctx, id, true);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  private stateOf(infra: Container): PodSandboxState {
    return infra.state.status === 'running' ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY;
  }

  private podSandbox(infra: Container, record: SandboxRecord): PodSandbox {
    return {
      id: infra.id,
      metadata: record.metadata,
      state: this.stateOf(infra),
      createdAt: nanos(infra.createdAt),
      labels: record.labels,
      annotations: record.annotations,
      runtimeHandler: record.runtimeHandler,
    };
  }

  /** The pod's IP: its network's address while the infra runs ('' with the host's network). */
  private ipOf(infra: Container): string {
    const address = this.deps.attachmentOf(infra.id)?.networks[0]?.addresses.find((a) => !a.includes(':'));
    return address ? address.split('/')[0] : '';
  }

  async status(ctx: Ctx, ref: string, verbose: boolean): Promise<PodSandboxStatusResponse> {
    const { infra, record } = this.find(ref);
    const ip = this.ipOf(infra);
    const info: Record<string, string> = {};
    if (verbose) {
      const spec = await this.deps.io.specJson(infra.id);
      info.info = JSON.stringify({
        pid: infra.state.pid,
        processStatus: infra.state.status,
        image: infra.config.image,
        snapshotter: infra.snapshotter,
        snapshotKey: infra.snapshotKey,
        netns: infra.config.network === 'host' ? 'host' : (this.deps.attachmentOf(infra.id)?.netns ?? ''),
        network: infra.config.network,
        runtimeHandler: record.runtimeHandler,
        config: record,
        runtimeSpec: spec ? JSON.parse(spec) : undefined,
      });
    }
    void ctx;
    return { status: this.statusOf(infra, record, ip), info, containersStatuses: [], timestamp: 0n };
  }

  /** The sandbox's status from its infra record (GetContainerEvents sends it too); `ip` '' once it stopped. */
  statusOf(infra: Container, record: SandboxRecord, ip = this.ipOf(infra)): PodSandboxStatus {
    return {
      ...this.podSandbox(infra, record),
      network: { ip, additionalIps: [] },
      linux: {
        namespaces: {
          options: {
            network: record.namespaces.network,
            pid: record.namespaces.pid,
            ipc: record.namespaces.ipc,
            targetId: '',
            usernsOptions: undefined,
          },
        },
      },
    };
  }

  list(filter: PodSandboxFilter | undefined): PodSandbox[] {
    const out: PodSandbox[] = [];
    for (const infra of this.deps.service.list(true, [CRI_NAMESPACE_FILTER])) {
      const record = sandboxRecordOf(infra);
      if (!record) continue;
      if (filter?.id && !infra.id.startsWith(filter.id)) continue;
      const sandbox = this.podSandbox(infra, record);
      if (filter?.state && filter.state.state !== sandbox.state) continue;
      if (filter && !selects(filter.labelSelector, record.labels)) continue;
      out.push(sandbox);
    }
    return out;
  }
}
