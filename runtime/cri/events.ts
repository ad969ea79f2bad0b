/**
 * GetContainerEvents (the kubelet's evented PLEG): the daemon's own event
 * log (runtime/events/) followed live, its container transitions of the
 * `k8s.io` namespace turned into CRI container events. docs/cri.md, "Events".
 *
 * Rules
 * - create → CONTAINER_CREATED_EVENT, start → STARTED, die (the task
 *   exited, whoever stopped it) → STOPPED, destroy → DELETED; for CRI
 *   containers and for sandboxes (their infra), as containerd sends them.
 *   Other containers' events and other topics are not sent.
 * - Each event carries the pod's sandbox status and the statuses of the
 *   pod's containers as they are when the event is sent (the kubelet
 *   re-reads the pod from them). A deleted sandbox is sent with its last
 *   known status, NOTREADY, since its record is gone.
 * - Only events after the call are sent (the log's replay is not); events
 *   are sent in the log's order. A client that falls too far behind is ended
 *   with RESOURCE_EXHAUSTED by the log and calls again.
 */
import type { Ctx } from '../context';
import { ContainerTopics, type Container } from '../containers/containers';
import { isNotFound } from '../errdefs/errdefs';
import type { Event, Subscriber } from '../events/events';
import {
  ContainerEventType,
  PodSandboxState,
  type ContainerEventResponse,
  type ContainerStatus,
  type PodSandboxStatus,
} from './gen/runtime/v1/api';
import type { CriContainers } from './podContainers';
import { CRI_NAMESPACE, CRI_NAMESPACE_FILTER, containerRecordOf, criRecordOf, sandboxRecordOf } from './records';
import type { CriSandboxes } from './sandboxes';

const TYPES: Readonly<Record<string, ContainerEventType>> = {
  [ContainerTopics.create]: ContainerEventType.CONTAINER_CREATED_EVENT,
  [ContainerTopics.start]: ContainerEventType.CONTAINER_STARTED_EVENT,
  [ContainerTopics.die]: ContainerEventType.CONTAINER_STOPPED_EVENT,
  [ContainerTopics.destroy]: ContainerEventType.CONTAINER_DELETED_EVENT,
};

export class CriEvents {
  constructor(
    private readonly events: Subscriber,
    private readonly service: { resolve(ref: string): Container; list(all: boolean, filters: string[]): Container[] },
    private readonly containers: CriContainers,
    private readonly sandboxes: CriSandboxes,
  ) {}

  /** Sends the CRI events of the k8s.io namespace until the client goes away. */
  async follow(ctx: Ctx, send: (event: ContainerEventResponse) => Promise<void>): Promise<void> {
    const stream = this.events.subscribe(ctx, { topics: Object.keys(TYPES), follow: true });
    // What a deleted object no longer tells: a container's sandbox, a sandbox's last status.
    const sandboxOf = new Map<string, string>();
    const lastPod = new Map<string, PodSandboxStatus>();
    for (const c of this.service.list(true, [CRI_NAMESPACE_FILTER])) this.remember(c, sandboxOf, lastPod);
    for await (const item of stream) {
      if (item.kind !== 'event') continue;
      const event = await this.toCri(item.event, sandboxOf, lastPod);
      if (event) await send(event);
    }
  }

  private async toCri(
    e: Event,
    sandboxOf: Map<string, string>,
    lastPod: Map<string, PodSandboxStatus>,
  ): Promise<ContainerEventResponse | undefined> {
    const type = TYPES[e.topic];
    if (type === undefined || !e.attributes.name?.startsWith(`${CRI_NAMESPACE}/`)) return undefined;
    const current = this.lookup(e.id);
    if (current) this.remember(current, sandboxOf, lastPod);
    const sandboxId = sandboxOf.get(e.id) ?? sandboxByName(e.attributes.name, lastPod);
    if (!sandboxId) return undefined; // gone before it could be read, in a pod never seen
    const infra = this.lookup(sandboxId);
    const record = infra && sandboxRecordOf(infra);
    let podStatus: PodSandboxStatus | undefined;
    if (infra && record) {
      podStatus = this.sandboxes.statusOf(infra, record);
      lastPod.set(sandboxId, podStatus);
    } else {
      const last = lastPod.get(sandboxId);
      podStatus = last && { ...last, state: PodSandboxState.SANDBOX_NOTREADY, network: { ip: '', additionalIps: [] } };
    }
    if (type === ContainerEventType.CONTAINER_DELETED_EVENT) sandboxOf.delete(e.id);
    if (type === ContainerEventType.CONTAINER_DELETED_EVENT && e.id === sandboxId) lastPod.delete(sandboxId);
    return {
      containerId: e.id,
      containerEventType: type,
      createdAt: BigInt(e.timestamp.getTime()) * 1_000_000n,
      podSandboxStatus: podStatus,
      containersStatuses: await this.statusesOf(sandboxId),
    };
  }

  /** The statuses of the pod's containers now (not its infra). */
  private async statusesOf(sandboxId: string): Promise<ContainerStatus[]> {
    const out: ContainerStatus[] = [];
    for (const c of this.sandboxes.containersOf(sandboxId)) {
      try {
        const { status } = await this.containers.status(c.id, false);
        if (status) out.push(status);
      } catch (e) {
        if (!isNotFound(e)) throw e; // removed meanwhile
      }
    }
    return out;
  }

  private remember(c: Container, sandboxOf: Map<string, string>, lastPod: Map<string, PodSandboxStatus>): void {
    const r = criRecordOf(c);
    if (r?.kind === 'sandbox') {
      sandboxOf.set(c.id, c.id);
      lastPod.set(c.id, this.sandboxes.statusOf(c, r));
    } else if (r?.kind === 'container') sandboxOf.set(c.id, containerRecordOf(c)!.sandboxId);
  }

  private lookup(id: string): Container | undefined {
    try {
      return this.service.resolve(id);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}

/**
 * The sandbox of a container that was removed before its record was read,
 * by its name (`k8s.io/<namespace>/<pod>/<uid>/<container>/<attempt>`,
 * records.ts): the known sandbox of that pod; undefined for a sandbox name.
 */
function sandboxByName(name: string, pods: ReadonlyMap<string, PodSandboxStatus>): string | undefined {
  const parts = name.split('/');
  if (parts.length !== 6) return undefined;
  const [, namespace, pod, uid] = parts;
  for (const [id, s] of pods) if (s.metadata?.namespace === namespace && s.metadata.name === pod && s.metadata.uid === uid) return id;
  return undefined;
}
