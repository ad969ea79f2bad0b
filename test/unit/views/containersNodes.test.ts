// The Containers view's arrangement, labels, icons and menus, from list records alone (no VS Code needed).
import * as assert from 'node:assert/strict';
import { ContainerStatus as S, HealthStatus as H, type ContainerSummary } from '../../../runtime/api/gen/gantry/v1/containers';
import {
  arrangeContainers,
  coarseStatus,
  containerDescription,
  containerIcon,
  containerTreeId,
  contextValueOf,
  imageDisplay,
  isContainerNode,
} from '../../../src/views/containers/containerNodes';
import { containerSummary } from '../../helpers/containerSummary';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms);
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

function container(name: string, status: S, fields: Partial<ContainerSummary> = {}): ContainerSummary {
  return containerSummary({
    id: `${name.padEnd(8, '0').replace(/[^0-9a-f]/g, 'a')}${'0'.repeat(56)}`,
    name,
    status,
    createdAt: ago(HOUR),
    startedAt: status === S.CONTAINER_STATUS_CREATED ? undefined : ago(30 * MIN),
    ...fields,
  });
}

describe('Containers view arrangement', () => {
  it('puts running containers first, then paused/restarting, then the rest; newest first in each group', () => {
    const list = [
      container('exited-old', S.CONTAINER_STATUS_EXITED, { createdAt: ago(3 * HOUR), finishedAt: ago(HOUR) }),
      container('run-old', S.CONTAINER_STATUS_RUNNING, { createdAt: ago(5 * HOUR) }),
      container('created-new', S.CONTAINER_STATUS_CREATED, { createdAt: ago(MIN) }),
      container('paused', S.CONTAINER_STATUS_PAUSED, { createdAt: ago(2 * HOUR) }),
      container('run-new', S.CONTAINER_STATUS_RUNNING, { createdAt: ago(10 * MIN) }),
      container('restarting', S.CONTAINER_STATUS_RESTARTING, { createdAt: ago(4 * HOUR) }),
      container('dead', S.CONTAINER_STATUS_DEAD, { createdAt: ago(2 * HOUR) }),
    ];
    const names = arrangeContainers(list).map((n) => n.container.name);
    assert.deepEqual(names, ['run-new', 'run-old', 'paused', 'restarting', 'created-new', 'dead', 'exited-old']);
    assert.ok(arrangeContainers(list).every(isContainerNode));
    assert.equal(list[0].name, 'exited-old', 'the input is not reordered');
  });

  it('breaks ties of creation time by name', () => {
    const at = ago(HOUR);
    const names = arrangeContainers([
      container('b', S.CONTAINER_STATUS_EXITED, { createdAt: at }),
      container('a', S.CONTAINER_STATUS_EXITED, { createdAt: at }),
    ]).map((n) => n.container.name);
    assert.deepEqual(names, ['a', 'b']);
  });

  it('gives each state its own contextValue, and the state to the tree id', () => {
    const cases: [S, string][] = [
      [S.CONTAINER_STATUS_RUNNING, 'runningContainer'],
      [S.CONTAINER_STATUS_PAUSED, 'pausedContainer'],
      [S.CONTAINER_STATUS_RESTARTING, 'restartingContainer'],
      [S.CONTAINER_STATUS_CREATED, 'createdContainer'],
      [S.CONTAINER_STATUS_EXITED, 'exitedContainer'],
      [S.CONTAINER_STATUS_DEAD, 'deadContainer'],
      [S.UNRECOGNIZED, 'createdContainer'],
    ];
    for (const [status, value] of cases) assert.equal(contextValueOf(container('web', status)), value);
    const running = container('web', S.CONTAINER_STATUS_RUNNING);
    const exited = { ...running, status: S.CONTAINER_STATUS_EXITED };
    assert.equal(containerTreeId(running), `container:${running.id}:running`);
    assert.notEqual(containerTreeId(running), containerTreeId(exited));
  });

  it('picks an icon per state and health, red only for a failure', () => {
    const icon = (status: S, fields: Partial<ContainerSummary> = {}) => containerIcon(container('c', status, fields));
    assert.deepEqual(icon(S.CONTAINER_STATUS_RUNNING), { id: 'vm-running', color: 'testing.iconPassed' });
    assert.deepEqual(icon(S.CONTAINER_STATUS_RUNNING, { health: H.HEALTH_STATUS_STARTING }), { id: 'pulse', color: 'charts.yellow' });
    assert.deepEqual(icon(S.CONTAINER_STATUS_RUNNING, { health: H.HEALTH_STATUS_HEALTHY }), { id: 'pass', color: 'testing.iconPassed' });
    assert.deepEqual(icon(S.CONTAINER_STATUS_RUNNING, { health: H.HEALTH_STATUS_UNHEALTHY }), {
      id: 'warning',
      color: 'list.warningForeground',
    });
    assert.equal(icon(S.CONTAINER_STATUS_PAUSED).id, 'debug-pause');
    assert.equal(icon(S.CONTAINER_STATUS_RESTARTING).id, 'sync~spin');
    assert.deepEqual(icon(S.CONTAINER_STATUS_CREATED), { id: 'circle-outline' });
    assert.deepEqual(icon(S.CONTAINER_STATUS_EXITED), { id: 'circle-slash' });
    assert.equal(icon(S.CONTAINER_STATUS_EXITED, { exitCode: 3 }).id, 'error');
    assert.equal(icon(S.CONTAINER_STATUS_EXITED, { oomKilled: true, exitCode: 137 }).color, 'problemsErrorIcon.foreground');
    assert.equal(icon(S.CONTAINER_STATUS_EXITED, { error: 'exec: "nope": not found' }).id, 'error');
    assert.equal(icon(S.CONTAINER_STATUS_DEAD).id, 'error');
  });

  it('words the status as docker ps does, rounded to the minute', () => {
    const status = (s: S, fields: Partial<ContainerSummary>) => coarseStatus(container('c', s, fields), NOW);
    assert.equal(status(S.CONTAINER_STATUS_RUNNING, { startedAt: ago(5 * SEC) }), 'Up Less than a minute');
    assert.equal(status(S.CONTAINER_STATUS_RUNNING, { startedAt: ago(59 * SEC) }), 'Up Less than a minute');
    assert.equal(status(S.CONTAINER_STATUS_RUNNING, { startedAt: ago(61 * SEC) }), 'Up About a minute');
    assert.equal(status(S.CONTAINER_STATUS_RUNNING, { startedAt: ago(5 * MIN + 20 * SEC) }), 'Up 5 minutes');
    assert.equal(status(S.CONTAINER_STATUS_RUNNING, { startedAt: ago(3 * HOUR), health: H.HEALTH_STATUS_HEALTHY }), 'Up 3 hours (healthy)');
    assert.equal(
      status(S.CONTAINER_STATUS_RUNNING, { startedAt: ago(10 * SEC), health: H.HEALTH_STATUS_STARTING }),
      'Up Less than a minute (health: starting)',
    );
    assert.equal(status(S.CONTAINER_STATUS_RUNNING, { health: H.HEALTH_STATUS_UNHEALTHY }), 'Up 30 minutes (unhealthy)');
    assert.equal(status(S.CONTAINER_STATUS_PAUSED, { startedAt: ago(2 * HOUR) }), 'Up 2 hours (Paused)');
    assert.equal(status(S.CONTAINER_STATUS_RESTARTING, { exitCode: 1, finishedAt: ago(3 * MIN) }), 'Restarting (1) 3 minutes ago');
    assert.equal(status(S.CONTAINER_STATUS_EXITED, { exitCode: 3, finishedAt: ago(2 * MIN) }), 'Exited (3) 2 minutes ago');
    assert.equal(status(S.CONTAINER_STATUS_EXITED, { exitCode: 0, finishedAt: ago(10 * SEC) }), 'Exited (0) Less than a minute ago');
    assert.equal(status(S.CONTAINER_STATUS_EXITED, { startedAt: undefined, exitCode: 127 }), 'Created', 'never started');
    assert.equal(status(S.CONTAINER_STATUS_CREATED, {}), 'Created');
    assert.equal(status(S.CONTAINER_STATUS_DEAD, {}), 'Dead');
  });

  it('keeps the description unchanged between refreshes within the same minute', () => {
    const c = container('c', S.CONTAINER_STATUS_RUNNING, { startedAt: ago(5 * MIN) });
    assert.equal(containerDescription(c, NOW), 'busybox:latest · Up 5 minutes');
    assert.equal(containerDescription(c, NOW + 20 * SEC), containerDescription(c, NOW));
    const fresh = container('c', S.CONTAINER_STATUS_RUNNING, { startedAt: ago(2 * SEC) });
    assert.equal(containerDescription(fresh, NOW), containerDescription(fresh, NOW + 30 * SEC));
  });

  it('shows the image familiar, or as a short ID when run by ID', () => {
    assert.equal(imageDisplay(container('c', S.CONTAINER_STATUS_CREATED)), 'busybox:latest');
    assert.equal(
      imageDisplay(container('c', S.CONTAINER_STATUS_CREATED, { image: '127.0.0.1:5000/team/app:v1' })),
      '127.0.0.1:5000/team/app:v1',
    );
    assert.equal(imageDisplay(container('c', S.CONTAINER_STATUS_CREATED, { image: `sha256:${'ab'.repeat(32)}` })), 'abababababab');
    assert.equal(
      imageDisplay(container('c', S.CONTAINER_STATUS_CREATED, { image: '', imageName: 'docker.io/library/alpine:3' })),
      'alpine:3',
    );
  });
});
