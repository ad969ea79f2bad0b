/**
 * CRI containers: containers of the one container service, in the `k8s.io`
 * namespace (records.ts), that join their sandbox's infra process: its
 * network, IPC and UTS namespaces always, its PID namespace with `POD`
 * sharing (`CONTAINER`: their own; `NODE`: the host's; `TARGET`: another
 * container's of the pod). Their log is `log_directory/log_path` in the CRI
 * format (conmon's k8s-file writer); gantryd's restart policy is `no` for
 * them: the kubelet restarts (attempt counts).
 */
import * as path from 'node:path';
import type { Ctx } from '../context';
import type { BindMount, Container } from '../containers/containers';
import type { Spec } from '../oci/spec';
import { errorOf, failedPrecondition, invalidArgument, isNotFound, notFound } from '../errdefs/errdefs';
import type { CriPodDeps } from './cri';
import {
  ContainerState,
  MountPropagation,
  NamespaceMode,
  type Container as CriContainer,
  type ContainerConfig as CriContainerConfig,
  type ContainerFilter,
  type ContainerStatusResponse,
  type ContainerUser,
  type ExecSyncResponse,
  type LinuxContainerResources,
  type PodSandboxConfig,
} from './gen/runtime/v1/api';
import {
  CRI_NAMESPACE_FILTER,
  containerName,
  criContainerConfig,
  containerRecordOf,
  nanos,
  selects,
  type ContainerRecord,
} from './records';
import type { CriSandboxes } from './sandboxes';
import { hostSwapAccounting } from '../containers/launcher';
import { configResourcesOf, criResourcesOf, linuxContainerResourcesOf, mergeResources } from './resources';
import { containerSecurityOf, hostSecurity, type SecurityHost } from './security';

const PROPAGATION: Record<number, BindMount['propagation']> = {
  [MountPropagation.PROPAGATION_PRIVATE]: 'rprivate',
  [MountPropagation.PROPAGATION_HOST_TO_CONTAINER]: 'rslave',
  [MountPropagation.PROPAGATION_BIDIRECTIONAL]: 'rshared',
};

function stateOf(c: Container): ContainerState {
  switch (c.state.status) {
    case 'created':
      return ContainerState.CONTAINER_CREATED;
    case 'running':
    case 'paused':
    case 'restarting':
      return ContainerState.CONTAINER_RUNNING;
    case 'exited':
      return ContainerState.CONTAINER_EXITED;
    default:
      return ContainerState.CONTAINER_UNKNOWN;
  }
}

/** The CRI's reason for an exited container, as containerd gives it. */
export function reasonOf(c: Container): string {
  if (stateOf(c) !== ContainerState.CONTAINER_EXITED) return '';
  if (c.state.oomKilled) return 'OOMKilled';
  return c.state.exitCode === 0 ? 'Completed' : 'Error';
}

/** The container's ImageSpec as the kubelet sent it: `image` (often the image ID) and the pod spec's name. */
function imageSpecOf(r: ContainerRecord): CriContainer['image'] {
  return { image: r.image, annotations: {}, userSpecifiedImage: r.userSpecifiedImage ?? r.image, runtimeHandler: '' };
}

export class CriContainers {
  constructor(
    private readonly deps: CriPodDeps,
    private readonly sandboxes: CriSandboxes,
    private readonly security: SecurityHost = hostSecurity(),
  ) {}

  find(ref: string): { container: Container; record: ContainerRecord } {
    if (!ref) throw invalidArgument('container ID is empty');
    let container: Container;
    try {
      container = this.deps.service.resolve(ref);
    } catch (e) {
      if (isNotFound(e)) throw notFound(`container ${ref} not found`);
      throw e;
    }
    const record = containerRecordOf(container);
    if (!record) throw notFound(`container ${ref} not found`);
    return { container, record };
  }

  /** The container's ID, or undefined when it is gone or never was: stop and remove then succeed (the CRI requires it). */
  private idIfPresent(ref: string): string | undefined {
    try {
      return this.find(ref).container.id;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async create(ctx: Ctx, sandboxId: string, config: CriContainerConfig | undefined, _sandboxConfig?: PodSandboxConfig): Promise<string> {
    const { infra, record: pod } = this.sandboxes.find(sandboxId);
    if (!config?.metadata?.name) throw invalidArgument('ContainerConfig.metadata.name is empty');
    if (!config.image?.image) throw invalidArgument('ContainerConfig.image.image is empty');
    return this.sandboxes.lock.run(infra.id, async () => {
      const current = this.deps.service.resolve(infra.id);
      if (current.state.status !== 'running') throw failedPrecondition(`pod sandbox ${infra.id} is not ready`);
      // Checked (and a Localhost seccomp profile read) before anything is made.
      const security = containerSecurityOf(config, this.security, pod.privileged ?? false);
      const join = `container:${infra.id}`;
      const pidMode = this.pidModeOf(config, infra.id, pod.namespaces.pid);
      const mounts: BindMount[] = config.mounts.map((m) => {
        if (!path.isAbsolute(m.hostPath) || !path.isAbsolute(m.containerPath))
          throw invalidArgument(`mount ${m.hostPath}:${m.containerPath}: both paths must be absolute`);
        const propagation = PROPAGATION[m.propagation];
        if (!propagation) throw invalidArgument(`mount ${m.containerPath}: unknown propagation ${m.propagation}`);
        return { source: m.hostPath, destination: m.containerPath, readOnly: m.readonly, propagation };
      });
      const logPath = pod.logDirectory && config.logPath ? path.join(pod.logDirectory, config.logPath) : '';
      const resources = criResourcesOf(config.linux?.resources);
      const record: ContainerRecord = {
        kind: 'container',
        sandboxId: infra.id,
        metadata: config.metadata!,
        image: config.image!.image,
        userSpecifiedImage: config.image!.userSpecifiedImage || undefined,
        labels: { ...config.labels },
        annotations: { ...config.annotations },
        logPath,
        mounts: config.mounts.map((m) => ({
          containerPath: m.containerPath,
          hostPath: m.hostPath,
          readonly: m.readonly,
          propagation: m.propagation,
        })),
        resources,
      };
      const gantryConfig = criContainerConfig(record, {
        image: config.image!.image,
        // Kubernetes' command replaces the image's Entrypoint, args its Cmd.
        entrypoint: config.command.length ? config.command : undefined,
        cmd: config.args,
        env: config.envs.map((e) => `${e.key}=${e.value}`),
        workingDir: config.workingDir || undefined,
        mounts,
        ...configResourcesOf(resources, hostSwapAccounting()),
        ...security,
        network: join,
        ipcMode: pod.namespaces.ipc === NamespaceMode.NODE ? 'host' : join,
        utsMode: pod.namespaces.network === NamespaceMode.NODE ? 'host' : join,
        pidMode,
        tty: config.tty,
        openStdin: config.stdin,
        // stdin_once false: an attach that goes away leaves stdin open for the next (as containerd).
        keepStdinOpen: config.stdin && !config.stdinOnce,
        logPath: logPath || undefined,
      });
      const created = await this.deps.service.create(ctx, containerName(pod.metadata, config.metadata!), gantryConfig);
      return created.id;
    });
  }

  /** The container's PID namespace: the pod's choice unless the container asks for TARGET. */
  private pidModeOf(config: CriContainerConfig, infraId: string, podPid: NamespaceMode): string | undefined {
    const o = config.linux?.securityContext?.namespaceOptions;
    if (o?.pid === NamespaceMode.TARGET) {
      if (!o.targetId) throw invalidArgument('pid namespace TARGET needs target_id');
      const target = this.find(o.targetId);
      if (target.record.sandboxId !== infraId) throw invalidArgument(`target ${o.targetId} is not in the same pod sandbox`);
      return `container:${target.container.id}`;
    }
    if (o?.targetId) throw invalidArgument('target_id is only for pid namespace TARGET');
    const pid = o ? o.pid : podPid;
    if (pid === NamespaceMode.POD) return `container:${infraId}`;
    if (pid === NamespaceMode.NODE) return 'host';
    if (pid === NamespaceMode.CONTAINER) return undefined;
    throw invalidArgument(`invalid pid namespace mode ${pid}`);
  }

  async start(ctx: Ctx, ref: string): Promise<void> {
    const { container } = this.find(ref);
    if (container.state.status !== 'created')
      throw failedPrecondition(`container ${container.id} is ${container.state.status}, not created`);
    await this.deps.service.start(ctx, container.id);
  }

  /** Stopping a container that is gone (or never was) succeeds, as critest's Idempotence specs require (docs/critest.md). */
  async stop(ctx: Ctx, ref: string, timeoutSeconds: number): Promise<void> {
    const id = this.idIfPresent(ref);
    if (id) await this.sandboxes.stopQuietly(ctx, id, Math.max(0, timeoutSeconds));
  }

  async remove(ctx: Ctx, ref: string): Promise<void> {
    const id = this.idIfPresent(ref);
    if (!id) return;
    try {
      await this.deps.service.remove(ctx, id, true);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  private toCri(c: Container, r: ContainerRecord): CriContainer {
    return {
      id: c.id,
      podSandboxId: r.sandboxId,
      metadata: r.metadata,
      image: imageSpecOf(r),
      imageRef: c.imageId,
      imageId: c.imageId,
      state: stateOf(c),
      createdAt: nanos(c.createdAt),
      labels: r.labels,
      annotations: r.annotations,
    };
  }

  list(filter: ContainerFilter | undefined): CriContainer[] {
    const out: CriContainer[] = [];
    for (const c of this.deps.service.list(true, [CRI_NAMESPACE_FILTER])) {
      const r = containerRecordOf(c);
      if (!r) continue;
      if (filter?.id && !c.id.startsWith(filter.id)) continue;
      if (filter?.podSandboxId && !r.sandboxId.startsWith(filter.podSandboxId)) continue;
      if (filter?.state && filter.state.state !== stateOf(c)) continue;
      if (filter && !selects(filter.labelSelector, r.labels)) continue;
      out.push(this.toCri(c, r));
    }
    return out;
  }

  async status(ref: string, verbose: boolean): Promise<ContainerStatusResponse> {
    const { container: c, record: r } = this.find(ref);
    const info: Record<string, string> = {};
    const specJson = await this.deps.io.specJson(c.id);
    const spec = specJson ? (JSON.parse(specJson) as Spec) : undefined;
    if (verbose) {
      info.info = JSON.stringify({
        sandboxID: r.sandboxId,
        pid: c.state.pid,
        config: r,
        runtimeSpec: spec,
      });
    }
    return {
      status: {
        id: c.id,
        metadata: r.metadata,
        state: stateOf(c),
        createdAt: nanos(c.createdAt),
        startedAt: nanos(c.state.startedAt),
        finishedAt: stateOf(c) === ContainerState.CONTAINER_EXITED ? nanos(c.state.finishedAt) : 0n,
        exitCode: c.state.exitCode,
        image: imageSpecOf(r),
        imageRef: c.imageId,
        imageId: c.imageId,
        reason: reasonOf(c),
        message: c.state.error,
        labels: r.labels,
        annotations: r.annotations,
        mounts: r.mounts.map((m) => ({
          ...m,
          selinuxRelabel: false,
          uidMappings: [],
          gidMappings: [],
          recursiveReadOnly: false,
          image: undefined,
        })),
        logPath: r.logPath,
        resources: r.resources ? { linux: linuxContainerResourcesOf(r.resources), windows: undefined } : undefined,
        user: userOfSpec(spec),
      },
      info,
    };
  }

  /** Runs `cmd` in the running container; a timeout (seconds, 0 = none) kills it and answers DEADLINE_EXCEEDED. */
  async execSync(ctx: Ctx, ref: string, cmd: readonly string[], timeoutSeconds: number): Promise<ExecSyncResponse> {
    const { container } = this.find(ref);
    if (cmd.length === 0) throw invalidArgument('ExecSync: cmd is empty');
    const timeout = timeoutSeconds > 0 ? AbortSignal.timeout(timeoutSeconds * 1000) : undefined;
    const signal = timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let exitCode: number;
    try {
      const { session } = await this.deps.io.exec({ ...ctx, signal }, container.id, { args: cmd, env: [], tty: false, stdin: false });
      for await (const frame of session) (frame.stream === 'stderr' ? stderr : stdout).push(frame.data);
      exitCode = await session.wait();
    } catch (e) {
      if (timeout?.aborted && !ctx.signal.aborted) throw timedOut(cmd, timeoutSeconds);
      throw e;
    }
    if (timeout?.aborted && !ctx.signal.aborted) throw timedOut(cmd, timeoutSeconds);
    return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode };
  }

  /**
   * UpdateContainerResources: a running (or paused) container's cgroup is
   * changed by `runc update`, a created one's config only (its spec is
   * written at start); both are persisted with the record, so
   * ContainerStatus and a later start show them. An exited container is
   * FAILED_PRECONDITION, an unknown one NOT_FOUND.
   */
  async updateResources(ctx: Ctx, ref: string, linux: LinuxContainerResources | undefined): Promise<void> {
    const { container } = this.find(ref);
    if (!linux) throw invalidArgument('UpdateContainerResources: linux resources are missing');
    const update = criResourcesOf(linux);
    await this.deps.service.reconfigure(container.id, async (current) => {
      const record = containerRecordOf(current);
      if (!record) throw notFound(`container ${ref} not found`);
      const status = current.state.status;
      if (status !== 'created' && status !== 'running' && status !== 'paused')
        throw failedPrecondition(`container ${current.id} is ${status}: only a created or running container's resources can be updated`);
      const merged = mergeResources(record.resources, update);
      const fields = configResourcesOf(merged, hostSwapAccounting());
      if (status !== 'created') await this.deps.updateTask(ctx, current.id, { ...fields.cgroupResources });
      return { ...current.config, ...fields, cri: JSON.stringify({ ...record, resources: merged }) };
    });
  }

  reopenLog(ref: string): void {
    const { container } = this.find(ref);
    if (container.state.status !== 'running') throw failedPrecondition(`container ${container.id} is not running`);
    this.deps.reopenLog(container.id);
  }
}

/** ContainerStatus.user: the uid, gid and groups the container's process runs with (its runtime spec's). */
function userOfSpec(spec: Spec | undefined): ContainerUser | undefined {
  const user = spec?.process?.user;
  if (!user) return undefined;
  return {
    linux: { uid: BigInt(user.uid), gid: BigInt(user.gid), supplementalGroups: (user.additionalGids ?? []).map((g) => BigInt(g)) },
  };
}

const timedOut = (cmd: readonly string[], seconds: number) =>
  errorOf('DeadlineExceeded')(`command ${JSON.stringify(cmd.join(' '))} timed out after ${seconds}s`);
