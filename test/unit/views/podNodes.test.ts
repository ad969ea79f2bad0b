// Kubernetes pods in the Containers view: grouping by pod from list records alone, and which menus a pod's container gets.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerStatus as S, type ContainerSummary, type CriPodMember } from '../../../runtime/api/gen/gantry/v1/containers';
import { contextValueOf } from '../../../src/views/containers/containerNodes';
import {
  arrangePods,
  containerLabel,
  isPodMember,
  podContextValue,
  podDescription,
  podTreeId,
} from '../../../src/views/containers/podNodes';
import { containerSummary } from '../../helpers/containerSummary';

const SANDBOX_A = 'a'.repeat(64);
const SANDBOX_B = 'b'.repeat(64);

function member(id: string, status: S, cri: Partial<CriPodMember>): ContainerSummary {
  const pod: CriPodMember = {
    podNamespace: 'default',
    podName: 'web',
    podUid: 'uid-a',
    podAttempt: 0,
    sandboxId: SANDBOX_A,
    infra: false,
    containerName: '',
    attempt: 0,
    ...cri,
  };
  const name = pod.infra
    ? `k8s.io/${pod.podNamespace}/${pod.podName}/${pod.podUid}/0`
    : `k8s.io/${pod.podNamespace}/${pod.podName}/${pod.podUid}/${pod.containerName}/${pod.attempt}`;
  return containerSummary({ id, name, status, namespace: 'k8s.io', cri: pod, createdAt: new Date(Date.parse('2026-03-01T12:00:00Z')) });
}

/** The commands package.json offers on a Containers view item with this contextValue. */
function menuCommands(contextValue: string): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../../package.json'), 'utf8')) as {
    contributes: { menus: Record<string, { command: string; when?: string }[]> };
  };
  const holds = (clause: string): boolean => {
    const c = clause.trim();
    if (c === 'view == gantry.containers') return true;
    const eq = /^viewItem == (\S+)$/.exec(c);
    if (eq) return eq[1] === contextValue;
    const re = /^viewItem =~ \/(.*)\/$/.exec(c);
    if (re) return new RegExp(re[1]).test(contextValue);
    return false;
  };
  return [
    ...new Set(
      pkg.contributes.menus['view/item/context']
        .filter((m) => (m.when ?? '').includes('view == gantry.containers') && (m.when ?? '').split('&&').every(holds))
        .map((m) => m.command),
    ),
  ].sort();
}

describe('Containers view: pods', () => {
  const infraA = member(SANDBOX_A, S.CONTAINER_STATUS_RUNNING, { infra: true, sandboxId: SANDBOX_A });
  const app = member('c'.repeat(64), S.CONTAINER_STATUS_RUNNING, { containerName: 'app' });
  const sidecar = member('d'.repeat(64), S.CONTAINER_STATUS_EXITED, { containerName: 'sidecar', attempt: 2 });
  const infraB = member(SANDBOX_B, S.CONTAINER_STATUS_EXITED, {
    infra: true,
    sandboxId: SANDBOX_B,
    podNamespace: 'batch',
    podName: 'job',
    podUid: 'uid-b',
  });

  it('groups CRI objects by sandbox, namespace/name order, the infra container hidden and giving the pod its readiness', () => {
    const pods = arrangePods([app, infraA, sidecar, infraB]);
    assert.deepEqual(
      pods.map((p) => [`${p.namespace}/${p.name}`, p.ready, p.containers.map((c) => containerLabel(c.container))]),
      [
        ['batch/job', false, []],
        ['default/web', true, ['app', 'sidecar']],
      ],
    );
    assert.equal(podDescription(pods[1]), 'Ready · 2 containers');
    assert.equal(podDescription(pods[0]), 'Not ready · 0 containers');
    assert.deepEqual(pods.map(podContextValue), ['notReadyPod', 'readyPod']);
    assert.equal(podTreeId(pods[1]), `pod:${SANDBOX_A}:ready`);
    assert.ok(isPodMember(app) && !isPodMember(containerSummary()));
  });

  it('a pod without its infra in the list is not ready, named from its containers', () => {
    const [pod] = arrangePods([app]);
    assert.equal(`${pod.namespace}/${pod.name}`, 'default/web');
    assert.equal(pod.ready, false);
  });

  it('filters: the pod name keeps every container of the pod, a container name keeps that container', () => {
    assert.deepEqual(
      arrangePods([app, infraA, sidecar, infraB], { filter: 'default/web' }).map((p) => [p.name, p.containers.length]),
      [['web', 2]],
    );
    assert.deepEqual(
      arrangePods([app, infraA, sidecar, infraB], { filter: 'sidecar' }).map((p) => [p.name, p.containers.map((c) => c.container.id)]),
      [['web', [sidecar.id]]],
    );
    assert.deepEqual(arrangePods([app, infraA, sidecar, infraB], { filter: 'nothing' }), []);
  });

  it("a pod's container offers logs, shell, inspect, stats and copy, never what the kubelet owns", () => {
    assert.equal(contextValueOf(app), 'runningPodContainer');
    assert.equal(contextValueOf(sidecar), 'exitedPodContainer');
    const prefix = 'gantry.containers.';
    assert.deepEqual(
      menuCommands('runningPodContainer').map((c) => c.replace(prefix, '')),
      ['copyId', 'copyName', 'inspect', 'openShell', 'viewLogs', 'viewStats'],
    );
    assert.deepEqual(
      menuCommands('exitedPodContainer').map((c) => c.replace(prefix, '')),
      ['copyId', 'copyName', 'inspect', 'viewLogs'],
    );
    // Docker-style containers keep their lifecycle menus.
    assert.ok(menuCommands('runningContainer').includes(`${prefix}stop`));
    assert.ok(menuCommands('exitedContainer').includes(`${prefix}remove`));
    assert.deepEqual(menuCommands('readyPod'), []);
  });
});
