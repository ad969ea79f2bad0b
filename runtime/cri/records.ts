/**
 * What the CRI keeps with gantryd's container records. A pod sandbox is its
 * infra container and a CRI container is a container, both in the `k8s.io`
 * namespace; their CRI side (metadata, labels, annotations, the pod's
 * settings) is JSON in the record's `cri` field. So the one container store
 * persists them (atomically, on every change) and recovery after a SIGKILL
 * finds them with their tasks and network namespaces. docs/cri.md.
 */
import type { Container, ContainerConfig } from '../containers/containers';
import type { CriResources } from './resources';
import type { ContainerMetadata, DNSConfig, NamespaceMode, PodSandboxMetadata, PortMapping } from './gen/runtime/v1/api';

/** containerd's namespace for the CRI's objects. */
export const CRI_NAMESPACE = 'k8s.io';

/** `namespace=k8s.io`: the container-list filter that shows them (`gantry ps -a --filter namespace=k8s.io`). */
export const CRI_NAMESPACE_FILTER = `namespace=${CRI_NAMESPACE}`;

/**
 * A CRI object's container config: the fields a caller sets, over what every
 * sandbox and container of the CRI shares — the `k8s.io` namespace, its CRI
 * record, and no restart policy (the kubelet restarts, never gantryd).
 */
export function criContainerConfig(
  record: CriRecord,
  config: Omit<ContainerConfig, 'restartPolicy' | 'autoRemove' | 'namespace' | 'cri' | 'labels' | 'tmpfs' | 'pidsLimit'>,
): ContainerConfig {
  return {
    labels: {},
    tmpfs: [],
    pidsLimit: 0,
    ...config,
    restartPolicy: { name: 'no', maximumRetryCount: 0 },
    autoRemove: false,
    namespace: CRI_NAMESPACE,
    cri: JSON.stringify(record),
  };
}

/** The pod's namespace modes (stored as their numbers: POD 0, CONTAINER 1, NODE 2, TARGET 3). */
export interface PodNamespaces {
  readonly network: NamespaceMode;
  readonly pid: NamespaceMode;
  readonly ipc: NamespaceMode;
}

export interface SandboxRecord {
  readonly kind: 'sandbox';
  readonly metadata: PodSandboxMetadata;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly logDirectory: string;
  readonly hostname: string;
  readonly dnsConfig?: DNSConfig;
  readonly portMappings: readonly PortMapping[];
  readonly namespaces: PodNamespaces;
  readonly runtimeHandler: string;
  /** The sandbox's security context says privileged: only then may its containers be (security.ts). Absent in older records: no. */
  readonly privileged?: boolean;
}

export interface ContainerRecord {
  readonly kind: 'container';
  readonly sandboxId: string;
  readonly metadata: ContainerMetadata;
  /** The image as the kubelet named it. */
  readonly image: string;
  /** The image as the pod spec named it (`ImageSpec.user_specified_image`), when the kubelet sent `image` as an image ID; absent in older records. */
  readonly userSpecifiedImage?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  /** `log_directory/log_path`, or '' when the kubelet gave none. */
  readonly logPath: string;
  readonly mounts: readonly { containerPath: string; hostPath: string; readonly: boolean; propagation: number }[];
  /** `linux.resources` as created and then updated (UpdateContainerResources); absent in records made before them. */
  readonly resources?: CriResources;
}

export type CriRecord = SandboxRecord | ContainerRecord;

export function criRecordOf(c: Container): CriRecord | undefined {
  if (c.config.namespace !== CRI_NAMESPACE || !c.config.cri) return undefined;
  try {
    return JSON.parse(c.config.cri) as CriRecord;
  } catch {
    return undefined;
  }
}

export function sandboxRecordOf(c: Container): SandboxRecord | undefined {
  const r = criRecordOf(c);
  return r?.kind === 'sandbox' ? r : undefined;
}

export function containerRecordOf(c: Container): ContainerRecord | undefined {
  const r = criRecordOf(c);
  return r?.kind === 'container' ? r : undefined;
}

/** An ISO time ('' = never) as the CRI's nanoseconds since the epoch (0 = never). */
export function nanos(iso: string): bigint {
  if (!iso) return 0n;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0n : BigInt(ms) * 1_000_000n;
}

/** Does `labels` hold every pair of `selector`? */
export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Record names outside Docker's name syntax (it has no `/`), so they never clash with a Docker-style name. */
export function sandboxName(m: PodSandboxMetadata): string {
  return [CRI_NAMESPACE, m.namespace, m.name, m.uid, String(m.attempt)].join('/');
}

export function containerName(pod: PodSandboxMetadata, m: ContainerMetadata): string {
  return [CRI_NAMESPACE, pod.namespace, pod.name, pod.uid, m.name, String(m.attempt)].join('/');
}
