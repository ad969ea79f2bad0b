/**
 * A CRI object's place in its pod, as gantry.v1's container list carries it
 * (`ContainerSummary.cri`): the extension's Containers view groups CRI
 * containers under `namespace/pod` with it, from the list alone
 * (docs/cri.md, "One runtime, two faces"). A sandbox is its infra container;
 * a container names its sandbox by ID, whose record holds the pod's
 * metadata. A container whose sandbox record cannot be read (it never
 * outlives its sandbox, but a record may be damaged) reads the pod's
 * namespace, name and UID from its own record name
 * (`k8s.io/<namespace>/<pod>/<uid>/<container>/<attempt>`, records.ts).
 */
import type { CriPodMember } from '../api/gen/gantry/v1/containers';
import type { Container } from '../containers/containers';
import { criRecordOf, sandboxRecordOf } from './records';

/** The pod member `c` is, or undefined for a Docker-style container; `sandbox(id)` looks a sandbox's infra container up. */
export function criPodMemberOf(c: Container, sandbox: (id: string) => Container | undefined): CriPodMember | undefined {
  const record = criRecordOf(c);
  if (!record) return undefined;
  if (record.kind === 'sandbox') {
    const m = record.metadata;
    return {
      podNamespace: m.namespace,
      podName: m.name,
      podUid: m.uid,
      podAttempt: m.attempt,
      sandboxId: c.id,
      infra: true,
      containerName: '',
      attempt: 0,
    };
  }
  const infra = sandbox(record.sandboxId);
  const pod = infra ? sandboxRecordOf(infra)?.metadata : undefined;
  const [, namespace = '', name = '', uid = ''] = c.name.split('/');
  return {
    podNamespace: pod?.namespace ?? namespace,
    podName: pod?.name ?? name,
    podUid: pod?.uid ?? uid,
    podAttempt: pod?.attempt ?? 0,
    sandboxId: record.sandboxId,
    infra: false,
    containerName: record.metadata.name,
    attempt: record.metadata.attempt,
  };
}
