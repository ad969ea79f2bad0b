/**
 * Kubernetes pods in the Containers view (docs/cri.md, "One runtime, two
 * faces"). gantryd's CRI runs pod sandboxes and their containers as
 * containers in the `k8s.io` namespace; the view lists every namespace and
 * groups those by pod, from the one list result (each summary's `cri` says
 * which pod it belongs to): a `namespace/pod` node above the Docker-style
 * containers, its containers under it.
 *
 * The pod's infra ("pause") container is not shown: it is the sandbox
 * itself, a process holding the pod's namespaces with nothing to read in its
 * logs or to run a shell in, and its state is the pod's ("Ready" while it
 * runs, as the CRI's SANDBOX_READY). Stopping or removing it from here would
 * pull the pod out from under the kubelet.
 *
 * The pod's containers offer what reads or runs beside the kubelet (Logs,
 * Open Shell, Inspect, Stats, Files, Copy ID/Name), never what changes
 * their lifecycle (start, stop, restart, pause, kill, remove, commit): the
 * kubelet owns that, and would undo it or restart them. Their contextValue
 * is `<state>PodContainer`, which only those menus match (package.json).
 *
 * No VS Code imports, as containerNodes.ts.
 */
import type { ContainerSummary } from '../../../runtime/client';
import { arrangeContainers, containerState, imageDisplay, type ArrangeOptions, type ContainerNode, type IconSpec } from './containerNodes';

export type PodContextValue = 'readyPod' | 'notReadyPod';

export interface PodNode {
  readonly kind: 'pod';
  readonly sandboxId: string;
  /** The pod's Kubernetes namespace and name, as the kubelet gave them. */
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** The infra container runs (CRI SANDBOX_READY). */
  readonly ready: boolean;
  /** Its containers (not the infra), arranged as the view's containers are. */
  readonly containers: readonly ContainerNode[];
}

export function isPodNode(value: unknown): value is PodNode {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'pod';
}

/** A CRI object (a pod sandbox or one of its containers), which the view shows under its pod. */
export function isPodMember(container: ContainerSummary): boolean {
  return container.cri !== undefined;
}

/** "team/web". */
export function podLabel(pod: Pick<PodNode, 'namespace' | 'name'>): string {
  return `${pod.namespace}/${pod.name}`;
}

/** The label of a container: its CRI name under a pod ("app"), else its name. */
export function containerLabel(container: ContainerSummary): string {
  return container.cri && !container.cri.infra ? container.cri.containerName : container.name;
}

/** What messages and terminals call a container: "team/web/app" for a pod's, else its name. */
export function containerDisplayName(container: ContainerSummary): string {
  const cri = container.cri;
  return cri && !cri.infra ? `${cri.podNamespace}/${cri.podName}/${cri.containerName}` : container.name;
}

/**
 * The pods of `members` (the CRI objects of a list), by namespace/name then
 * sandbox ID. With a filter, a pod stays when its namespace/name matches
 * (with all its containers) or when some of its containers match (with
 * those).
 */
export function arrangePods(members: readonly ContainerSummary[], options: ArrangeOptions = {}): PodNode[] {
  const filter = (options.filter ?? '').trim().toLowerCase();
  const groups = new Map<string, { infra?: ContainerSummary; containers: ContainerSummary[]; any: ContainerSummary }>();
  for (const c of members) {
    const cri = c.cri;
    if (!cri) continue;
    const group = groups.get(cri.sandboxId) ?? { containers: [], any: c };
    if (cri.infra) group.infra = c;
    else group.containers.push(c);
    groups.set(cri.sandboxId, group);
  }
  const pods: PodNode[] = [];
  for (const [sandboxId, group] of groups) {
    const cri = (group.infra ?? group.any).cri!;
    const pod = { namespace: cri.podNamespace, name: cri.podName };
    const podMatches = !filter || podLabel(pod).toLowerCase().includes(filter);
    const containers = arrangeContainers(group.containers, { ...options, filter: podMatches ? '' : options.filter });
    if (!podMatches && containers.length === 0) continue;
    pods.push({
      kind: 'pod',
      sandboxId,
      ...pod,
      uid: cri.podUid,
      ready: group.infra !== undefined && containerState(group.infra.status) === 'running',
      containers,
    });
  }
  return pods.sort((a, b) => podLabel(a).localeCompare(podLabel(b)) || a.sandboxId.localeCompare(b.sandboxId));
}

export function podContextValue(pod: PodNode): PodContextValue {
  return pod.ready ? 'readyPod' : 'notReadyPod';
}

/** The tree id: readiness is part of it, so a change re-renders the icon and menus (as containerTreeId). */
export function podTreeId(pod: PodNode): string {
  return `pod:${pod.sandboxId}:${pod.ready ? 'ready' : 'notReady'}`;
}

/** "Ready · 2 containers", "Not ready · 1 container". */
export function podDescription(pod: PodNode): string {
  const n = pod.containers.length;
  return `${pod.ready ? 'Ready' : 'Not ready'} · ${n === 1 ? '1 container' : `${n} containers`}`;
}

/** "team/web (pod, uid …): Ready; app (busybox:latest, running)". */
export function podTooltip(pod: PodNode): string {
  const lines = [`Pod ${podLabel(pod)} (UID ${pod.uid}), ${pod.ready ? 'ready' : 'not ready'}`, `Sandbox ${pod.sandboxId.slice(0, 12)}`];
  for (const { container } of pod.containers) {
    lines.push(`${containerLabel(container)}: ${imageDisplay(container)}, ${containerState(container.status)}`);
  }
  return lines.join('\n');
}

export function podIcon(pod: PodNode): IconSpec {
  return pod.ready ? { id: 'package', color: 'testing.iconPassed' } : { id: 'package' };
}
