// The Containers view's clock-driven re-rendering, operations in flight,
// sorting, filtering and failure icon, from list records alone.
import * as assert from 'node:assert/strict';
import { ContainerStatus as S, type ContainerSummary } from '../../../runtime/api/gen/gantry/v1/containers';
import { nextTextChange } from '../../../src/views/clock';
import {
  arrangeContainers,
  clockTexts,
  containerDescription,
  containerIcon,
  contextValueOf,
  type ContainerNode,
} from '../../../src/views/containers/containerNodes';
import { RelativeTimeTicker } from '../../../src/views/relativeTimeTicker';
import { ManualClock } from '../../helpers/manualClock';
import { containerSummary } from '../../helpers/containerSummary';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

function container(name: string, status: S, fields: Partial<ContainerSummary> = {}): ContainerSummary {
  return containerSummary({
    id: `${name.padEnd(8, '0').replace(/[^0-9a-f]/g, 'a')}${'0'.repeat(56)}`,
    name,
    status,
    createdAt: new Date(NOW - HOUR),
    startedAt: new Date(NOW - 30 * MIN),
    ...fields,
  });
}

describe('Containers view between refreshes', () => {
  it('finds the exact millisecond a rounded text changes', () => {
    const started = NOW - 10 * SEC;
    const up = (t: number) => containerDescription(container('c', S.CONTAINER_STATUS_RUNNING, { startedAt: new Date(started) }), t);
    assert.equal(nextTextChange(up, NOW), started + MIN);
    assert.equal(nextTextChange(up, started + MIN), started + 2 * MIN);
    assert.equal(
      nextTextChange(() => 'Created', NOW),
      undefined,
    );
  });

  it('re-renders only the items whose texts changed, when they change, on one timer', () => {
    const clock = new ManualClock(NOW);
    const fired: string[][] = [];
    const ticker = new RelativeTimeTicker<ContainerNode>(
      clock,
      (n, now) => clockTexts(n.container, now),
      (nodes) => {
        fired.push(nodes.map((n) => n.container.name));
        for (const n of nodes) ticker.renderedAt(n, clock.now());
      },
    );
    const nodes = arrangeContainers([
      container('young', S.CONTAINER_STATUS_RUNNING, { createdAt: new Date(NOW - 20 * SEC), startedAt: new Date(NOW - 20 * SEC) }),
      container('old', S.CONTAINER_STATUS_RUNNING, { createdAt: new Date(NOW - 50 * HOUR), startedAt: new Date(NOW - 50 * HOUR) }),
    ]);
    ticker.show(nodes);
    for (const n of nodes) ticker.renderedAt(n, NOW);
    assert.equal(ticker.nextTick, NOW + 40 * SEC, "armed for the young one's first minute");
    assert.equal(clock.pending.length, 1, 'one timer');
    clock.advanceTo(NOW + 40 * SEC);
    assert.deepEqual(fired, [['young']]);
    // Ten minutes a second at a time: the young one changes once a minute, the old one ("2 days") not at all.
    fired.length = 0;
    for (let t = NOW + 41 * SEC; t <= NOW + 10 * MIN + 40 * SEC; t += SEC) clock.advanceTo(t);
    assert.equal(fired.length, 10);
    assert.ok(fired.every((names) => names.join() === 'young'));
    ticker.dispose();
    assert.equal(clock.pending.length, 0, 'disposing cancels the timer');
  });

  it('shows an operation in flight, with a menu context of its own', () => {
    const c = container('web', S.CONTAINER_STATUS_RUNNING);
    assert.equal(contextValueOf(c, 'stopping'), 'busyStoppingContainer');
    assert.equal(contextValueOf(c, 'restarting'), 'busyRestartingContainer');
    assert.equal(contextValueOf(c, 'removing'), 'busyRemovingContainer');
    assert.equal(containerIcon(c, 'stopping').id, 'loading~spin');
    assert.equal(containerDescription(c, NOW, 'stopping'), 'busybox:latest · Stopping…');
    const [node] = arrangeContainers([c], { operationOf: (x) => (x.name === 'web' ? 'restarting' : undefined) });
    assert.equal(node.operation, 'restarting');
  });

  it('shows a container the user stopped as stopped whatever its exit code; failures keep the error icon', () => {
    const exited = (fields: Partial<ContainerSummary>) =>
      containerIcon(container('c', S.CONTAINER_STATUS_EXITED, { finishedAt: new Date(NOW), ...fields })).id;
    for (const exitCode of [0, 137, 143]) assert.equal(exited({ exitCode, stoppedByUser: true }), 'circle-slash', `exit ${exitCode}`);
    assert.equal(exited({ exitCode: 137 }), 'error', 'killed, not by the user');
    assert.equal(exited({ exitCode: 137, oomKilled: true, stoppedByUser: true }), 'error', 'an OOM kill is a failure');
    assert.equal(exited({ exitCode: 0, error: 'exec failed' }), 'error');
  });

  it('sorts by status, creation time or name, and filters by name, ID or image', () => {
    const list = [
      container('beta', S.CONTAINER_STATUS_EXITED, { createdAt: new Date(NOW - MIN) }),
      container('alpha', S.CONTAINER_STATUS_RUNNING, { createdAt: new Date(NOW - HOUR) }),
      container('gamma', S.CONTAINER_STATUS_RUNNING, { createdAt: new Date(NOW - 2 * HOUR), image: 'nginx:1' }),
    ];
    const names = (options: Parameters<typeof arrangeContainers>[1]) => arrangeContainers(list, options).map((n) => n.container.name);
    assert.deepEqual(names({}), ['alpha', 'gamma', 'beta']);
    assert.deepEqual(names({ sortBy: 'created' }), ['beta', 'alpha', 'gamma']);
    assert.deepEqual(names({ sortBy: 'name' }), ['alpha', 'beta', 'gamma']);
    assert.deepEqual(names({ filter: 'NGINX' }), ['gamma']);
    assert.deepEqual(names({ filter: list[0].id.slice(0, 6) }), ['beta']);
    assert.deepEqual(names({ filter: '  ' }), ['alpha', 'gamma', 'beta']);
  });
});
