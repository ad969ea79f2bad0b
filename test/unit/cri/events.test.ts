// GetContainerEvents' mapping (runtime/cri/events.ts) over a real event log
// and an in-memory container store: which events are sent, what they carry,
// and the cases a live daemon rarely shows — a container removed before its
// record was read, a removed sandbox. The integration test
// (test/integration/cri/stats.test.ts) drives the same through gantryd.
import * as assert from 'node:assert/strict';
import { type Container, ContainerTopics, initialState } from '../../../runtime/containers/containers';
import { notFound } from '../../../runtime/errdefs/errdefs';
import { EventLog } from '../../../runtime/events/log';
import type { CriPodDeps } from '../../../runtime/cri/cri';
import { CriEvents } from '../../../runtime/cri/events';
import { ContainerEventType, ContainerState, PodSandboxState, type ContainerEventResponse } from '../../../runtime/cri/gen/runtime/v1/api';
import { CriContainers } from '../../../runtime/cri/podContainers';
import { CRI_NAMESPACE, type ContainerRecord, type SandboxRecord } from '../../../runtime/cri/records';
import { CriSandboxes } from '../../../runtime/cri/sandboxes';
import { containerConfig } from '../../helpers/containerConfig';
import { makeTempDir, removeTempDir } from '../../helpers/tmp';
import { within } from '../../helpers/waitFor';

const metadata = { name: 'web', namespace: 'default', uid: 'u1', attempt: 0 };

function record(id: string, name: string, cri: SandboxRecord | ContainerRecord | undefined, status: 'created' | 'running'): Container {
  return {
    id,
    name,
    createdAt: '2026-01-01T00:00:00Z',
    config: containerConfig(cri ? { namespace: CRI_NAMESPACE, cri: JSON.stringify(cri) } : {}),
    imageName: 'busybox',
    imageId: 'sha256:1',
    imageConfig: {},
    args: [],
    snapshotter: 'overlayfs',
    snapshotKey: `container-${id}`,
    state: { ...initialState(), status },
  };
}

const sandbox: SandboxRecord = {
  kind: 'sandbox',
  metadata,
  labels: {},
  annotations: {},
  logDirectory: '',
  hostname: 'web',
  portMappings: [],
  namespaces: { network: 0, pid: 1, ipc: 0 },
  runtimeHandler: '',
};

const inPod = (name: string): ContainerRecord => ({
  kind: 'container',
  sandboxId: 'pod1',
  metadata: { name, attempt: 0 },
  image: 'busybox',
  labels: {},
  annotations: {},
  logPath: '',
  mounts: [],
});

describe('cri/events', () => {
  let dir: string;
  let log: EventLog;
  const store = new Map<string, Container>();
  const service = {
    resolve(ref: string): Container {
      const c = store.get(ref);
      if (!c) throw notFound(`container ${ref} not found`);
      return c;
    },
    list: (): Container[] => [...store.values()].filter((c) => c.config.namespace === CRI_NAMESPACE),
  };

  beforeEach(async () => {
    dir = await makeTempDir('gt-crievents');
    log = EventLog.open(dir);
    store.clear();
  });
  afterEach(async () => {
    log.close();
    await removeTempDir(dir);
  });

  it('sends the k8s.io transitions with the pod, in order; a container gone before it was read and a removed sandbox still carry their pod', async () => {
    // No bundles here: ContainerStatus reads the runtime spec for its user.
    const deps = { service, io: { specJson: async () => '' } } as unknown as CriPodDeps;
    const sandboxes = new CriSandboxes({ ...deps, attachmentOf: () => undefined });
    const events = new CriEvents(log, service, new CriContainers(deps, sandboxes), sandboxes);
    store.set('pod1', record('pod1', 'k8s.io/default/web/u1/0', sandbox, 'running'));

    const received: ContainerEventResponse[] = [];
    let wake: (() => void) | undefined;
    const abort = new AbortController();
    const following = events.follow({ signal: abort.signal }, async (e) => {
      received.push(e);
      wake?.();
    });
    const nth = (n: number) =>
      within(
        (async () => {
          while (received.length < n) await new Promise<void>((resolve) => (wake = resolve));
          return received[n - 1];
        })(),
        { what: `event ${n}`, timeoutMs: 5000 },
      );
    const publish = (topic: string, c: Pick<Container, 'id' | 'name'>) => log.publish(topic, c.id, { name: c.name, image: 'busybox' });

    // A Docker-style container: not sent.
    publish(ContainerTopics.create, { id: 'docker1', name: 'web' });
    const c1 = record('c1', 'k8s.io/default/web/u1/app/0', inPod('app'), 'running');
    store.set('c1', c1);
    publish(ContainerTopics.start, c1);
    const started = await nth(1);
    assert.equal(started.containerId, 'c1');
    assert.equal(started.containerEventType, ContainerEventType.CONTAINER_STARTED_EVENT);
    assert.equal(started.podSandboxStatus?.id, 'pod1');
    assert.equal(started.podSandboxStatus?.state, PodSandboxState.SANDBOX_READY);
    assert.deepEqual(
      started.containersStatuses.map((s) => [s.id, s.state]),
      [['c1', ContainerState.CONTAINER_RUNNING]],
    );

    store.delete('c1');
    publish(ContainerTopics.destroy, c1);
    const deleted = await nth(2);
    assert.deepEqual([deleted.containerId, deleted.containerEventType], ['c1', ContainerEventType.CONTAINER_DELETED_EVENT]);
    assert.equal(deleted.podSandboxStatus?.id, 'pod1');
    assert.deepEqual(deleted.containersStatuses, []);

    // Created and removed before the stream read it: its pod is found by its name.
    publish(ContainerTopics.create, { id: 'c2', name: 'k8s.io/default/web/u1/quick/0' });
    publish(ContainerTopics.destroy, { id: 'c2', name: 'k8s.io/default/web/u1/quick/0' });
    const [quickCreated, quickDeleted] = [await nth(3), await nth(4)];
    assert.deepEqual(
      [quickCreated.containerId, quickCreated.containerEventType, quickCreated.podSandboxStatus?.id],
      ['c2', ContainerEventType.CONTAINER_CREATED_EVENT, 'pod1'],
    );
    assert.deepEqual(
      [quickDeleted.containerEventType, quickDeleted.podSandboxStatus?.id],
      [ContainerEventType.CONTAINER_DELETED_EVENT, 'pod1'],
    );

    // The sandbox removed: its last status, not ready.
    const pod = store.get('pod1')!;
    store.delete('pod1');
    publish(ContainerTopics.destroy, pod);
    const podDeleted = await nth(5);
    assert.deepEqual([podDeleted.containerId, podDeleted.containerEventType], ['pod1', ContainerEventType.CONTAINER_DELETED_EVENT]);
    assert.deepEqual(podDeleted.podSandboxStatus?.metadata, metadata);
    assert.equal(podDeleted.podSandboxStatus?.state, PodSandboxState.SANDBOX_NOTREADY);
    assert.ok(podDeleted.createdAt > 0n);

    abort.abort();
    await following;
    assert.equal(received.length, 5, 'nothing else was sent');
  });
});
