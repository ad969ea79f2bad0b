import * as assert from 'node:assert/strict';
import { isInvalidArgument } from '../../../runtime/errdefs/errdefs';
import { initialState, type Container } from '../../../runtime/containers/containers';
import { NamespaceMode, type PodSandboxConfig } from '../../../runtime/cri/gen/runtime/v1/api';
import { reasonOf } from '../../../runtime/cri/podContainers';
import { containerName, criRecordOf, nanos, sandboxName, selects } from '../../../runtime/cri/records';
import { podNamespacesOf, resolvConfOf } from '../../../runtime/cri/sandboxes';
import { matchesFilters, parseFilters } from '../../../runtime/containers/filters';
import { criPodMemberOf } from '../../../runtime/cri/podMember';
import { containerConfig } from '../../helpers/containerConfig';

const pod = (namespaceOptions: Record<string, unknown> | undefined) =>
  ({ linux: namespaceOptions ? { securityContext: { namespaceOptions } } : undefined }) as unknown as PodSandboxConfig;

function container(over: Partial<Container['config']> = {}, state: Partial<Container['state']> = {}): Container {
  return {
    id: 'c'.repeat(64),
    name: 'n',
    createdAt: '2026-01-02T03:04:05.678Z',
    config: containerConfig(over),
    imageName: 'busybox',
    imageId: 'sha256:' + 'a'.repeat(64),
    imageConfig: {},
    args: ['sh'],
    snapshotter: 'overlayfs',
    snapshotKey: 'k',
    state: { ...initialState(), ...state },
  };
}

describe('cri/pods', () => {
  it('pod namespace options: defaults, the allowed modes, and conflicts refused', () => {
    assert.deepEqual(podNamespacesOf(pod(undefined)), { network: NamespaceMode.POD, pid: NamespaceMode.CONTAINER, ipc: NamespaceMode.POD });
    assert.deepEqual(podNamespacesOf(pod({ network: NamespaceMode.NODE, pid: NamespaceMode.POD, ipc: NamespaceMode.NODE })), {
      network: NamespaceMode.NODE,
      pid: NamespaceMode.POD,
      ipc: NamespaceMode.NODE,
    });
    for (const bad of [
      { network: NamespaceMode.CONTAINER },
      { network: NamespaceMode.TARGET },
      { ipc: NamespaceMode.CONTAINER },
      { pid: NamespaceMode.TARGET },
      { targetId: 'x' },
      { pid: 42 },
    ]) {
      assert.throws(
        () => podNamespacesOf(pod(bad)),
        (e: unknown) => isInvalidArgument(e) && /namespace options/.test((e as Error).message),
        JSON.stringify(bad),
      );
    }
  });

  it("resolv.conf from DNSConfig, as containerd writes a sandbox's", () => {
    assert.equal(
      resolvConfOf({ servers: ['10.0.0.10'], searches: ['a.svc', 'svc'], options: ['ndots:5'] }),
      'search a.svc svc\nnameserver 10.0.0.10\noptions ndots:5\n',
    );
    assert.equal(resolvConfOf({ servers: ['1.1.1.1'], searches: [], options: [] }), 'nameserver 1.1.1.1\n');
  });

  it('exit reasons: Completed, Error, OOMKilled; none while running', () => {
    assert.equal(reasonOf(container({}, { status: 'exited', exitCode: 0 })), 'Completed');
    assert.equal(reasonOf(container({}, { status: 'exited', exitCode: 137 })), 'Error');
    assert.equal(reasonOf(container({}, { status: 'exited', exitCode: 137, oomKilled: true })), 'OOMKilled');
    assert.equal(reasonOf(container({}, { status: 'running' })), '');
  });

  it('records: names outside Docker syntax, nanosecond times, label selectors, only k8s.io records', () => {
    const m = { name: 'web', namespace: 'default', uid: 'u1', attempt: 2 };
    assert.equal(sandboxName(m), 'k8s.io/default/web/u1/2');
    assert.equal(containerName(m, { name: 'c', attempt: 0 }), 'k8s.io/default/web/u1/c/0');
    assert.equal(nanos('2026-01-02T03:04:05.678Z'), BigInt(Date.parse('2026-01-02T03:04:05.678Z')) * 1_000_000n);
    assert.equal(nanos(''), 0n);
    assert.ok(selects({ a: '1' }, { a: '1', b: '2' }));
    assert.ok(!selects({ a: '1', c: '3' }, { a: '1', b: '2' }));
    const record = JSON.stringify({ kind: 'sandbox' });
    assert.equal(criRecordOf(container({ cri: record })), undefined, 'not in the k8s.io namespace');
    assert.deepEqual(criRecordOf(container({ cri: record, namespace: 'k8s.io' })), { kind: 'sandbox' });
  });

  it('namespaced containers are listed only with a namespace= filter', () => {
    const docker = container();
    const cri = container({ namespace: 'k8s.io' });
    assert.ok(matchesFilters(docker, parseFilters([])));
    assert.ok(!matchesFilters(cri, parseFilters([])));
    assert.ok(matchesFilters(cri, parseFilters(['namespace=k8s.io'])));
    assert.ok(!matchesFilters(docker, parseFilters(['namespace=k8s.io'])));
  });

  it('all namespaces: CRI objects listed beside Docker-style ones, other filters still apply', () => {
    const docker = container();
    const cri = container({ namespace: 'k8s.io' }, { status: 'running' });
    assert.ok(matchesFilters(docker, parseFilters([]), true));
    assert.ok(matchesFilters(cri, parseFilters([]), true));
    assert.ok(!matchesFilters(cri, parseFilters(['status=exited']), true));
    assert.ok(!matchesFilters(docker, parseFilters(['namespace=k8s.io']), true), 'a namespace= filter still narrows');
  });

  it('pod members: a sandbox is its own infra, a container takes its pod from its sandbox record (else its record name)', () => {
    const podMeta = { name: 'web', namespace: 'team', uid: 'u1', attempt: 1 };
    const sandboxRecord = { kind: 'sandbox', metadata: podMeta };
    const infra = {
      ...container({ namespace: 'k8s.io', cri: JSON.stringify(sandboxRecord) }),
      id: 's'.repeat(64),
      name: sandboxName(podMeta),
    };
    const record = { kind: 'container', sandboxId: infra.id, metadata: { name: 'app', attempt: 3 } };
    const app = {
      ...container({ namespace: 'k8s.io', cri: JSON.stringify(record) }),
      name: containerName(podMeta, { name: 'app', attempt: 3 }),
    };
    const sandboxes = (id: string) => (id === infra.id ? infra : undefined);
    assert.deepEqual(criPodMemberOf(infra, sandboxes), {
      podNamespace: 'team',
      podName: 'web',
      podUid: 'u1',
      podAttempt: 1,
      sandboxId: infra.id,
      infra: true,
      containerName: '',
      attempt: 0,
    });
    const member = {
      podNamespace: 'team',
      podName: 'web',
      podUid: 'u1',
      podAttempt: 1,
      sandboxId: infra.id,
      infra: false,
      containerName: 'app',
      attempt: 3,
    };
    assert.deepEqual(criPodMemberOf(app, sandboxes), member);
    assert.deepEqual(
      criPodMemberOf(app, () => undefined),
      { ...member, podAttempt: 0 },
      'from the record name',
    );
    assert.equal(criPodMemberOf(container(), sandboxes), undefined, 'a Docker-style container');
  });
});
