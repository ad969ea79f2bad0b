// Pure rules of supervision: restart policies and backoff, health probe
// accounting, and ps filters.
import { strict as assert } from 'node:assert';
import { initialState, type Container, type ContainerConfig, type ContainerState } from '../../../runtime/containers/containers';
import { matchesFilters, parseFilters } from '../../../runtime/containers/filters';
import { applyProbe, effectiveHealthcheck, probeArgs } from '../../../runtime/containers/health';
import { INITIAL_DELAY_MS, MAX_DELAY_MS, nextDelay, shouldRestart } from '../../../runtime/containers/restart';
import { containerConfig } from './fakeDeps';

function container(config: Partial<ContainerConfig> = {}, state: Partial<ContainerState> = {}, extra: Partial<Container> = {}): Container {
  return {
    id: 'a'.repeat(64),
    name: 'web',
    createdAt: '2026-11-28T10:00:00.000Z',
    config: containerConfig({ labels: { tier: 'front' }, ...config }),
    imageName: 'docker.io/library/busybox:latest',
    imageId: `sha256:${'b'.repeat(64)}`,
    imageConfig: {},
    args: ['sh'],
    snapshotter: 'overlayfs',
    snapshotKey: `container-${'a'.repeat(64)}`,
    state: { ...initialState(), ...state },
    ...extra,
  };
}

describe('restart policies', () => {
  it('follow Docker: no, always, unless-stopped, on-failure[:N]', () => {
    assert.equal(shouldRestart(container(), 1), false);
    assert.equal(shouldRestart(container({ restartPolicy: { name: 'always', maximumRetryCount: 0 } }), 0), true);
    assert.equal(shouldRestart(container({ restartPolicy: { name: 'unless-stopped', maximumRetryCount: 0 } }), 0), true);
    const onFailure = { restartPolicy: { name: 'on-failure', maximumRetryCount: 3 } } as const;
    assert.equal(shouldRestart(container(onFailure), 0), false, 'a clean exit is not a failure');
    assert.equal(shouldRestart(container(onFailure, { restartCount: 2 }), 1), true);
    assert.equal(shouldRestart(container(onFailure, { restartCount: 3 }), 1), false, 'gives up after N restarts');
    assert.equal(shouldRestart(container({ restartPolicy: { name: 'on-failure', maximumRetryCount: 0 } }, { restartCount: 99 }), 1), true);
  });

  it('never restart a container the user stopped', () => {
    for (const name of ['always', 'unless-stopped', 'on-failure'] as const) {
      assert.equal(shouldRestart(container({ restartPolicy: { name, maximumRetryCount: 0 } }, { stoppedByUser: true }), 1), false, name);
    }
  });

  it('back off from 100 ms, doubling, capped, and reset after 10 s of uptime', () => {
    assert.equal(nextDelay(undefined, 0), INITIAL_DELAY_MS);
    assert.equal(nextDelay(100, 50), 200);
    assert.equal(nextDelay(200, 50), 400);
    assert.equal(nextDelay(MAX_DELAY_MS, 50), MAX_DELAY_MS);
    assert.equal(nextDelay(6400, 10_000), INITIAL_DELAY_MS);
  });
});

describe('health checks', () => {
  const check = { test: ['CMD', 'true'], intervalMs: 1000, timeoutMs: 1000, startPeriodMs: 0, retries: 3 };
  const probe = (exitCode: number, at = '2026-11-28T10:00:10.000Z') => ({ start: at, end: at, exitCode, output: '' });

  it('turn unhealthy after `retries` failures in a row, and healthy on a success', () => {
    let health = { status: 'starting' as const, failingStreak: 0, log: [] } as ReturnType<typeof applyProbe>;
    health = applyProbe(health, check, probe(1), '2026-11-28T10:00:00.000Z');
    health = applyProbe(health, check, probe(1), '2026-11-28T10:00:00.000Z');
    assert.equal(health.status, 'starting');
    health = applyProbe(health, check, probe(1), '2026-11-28T10:00:00.000Z');
    assert.equal(health.status, 'unhealthy');
    assert.equal(health.failingStreak, 3);
    health = applyProbe(health, check, probe(0), '2026-11-28T10:00:00.000Z');
    assert.deepEqual([health.status, health.failingStreak], ['healthy', 0]);
  });

  it('do not count failures during the start period, and keep the last 5 results', () => {
    const slow = { ...check, startPeriodMs: 60_000, retries: 1 };
    let health = { status: 'starting' as const, failingStreak: 0, log: [] } as ReturnType<typeof applyProbe>;
    for (let i = 0; i < 7; i++) health = applyProbe(health, slow, probe(1), '2026-11-28T10:00:00.000Z');
    assert.deepEqual([health.status, health.failingStreak, health.log.length], ['starting', 0, 5]);
  });

  it('take the image check, let the container override fields, and honour NONE and disabled', () => {
    const image = { Healthcheck: { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 5e9, Retries: 7 } };
    const fromImage = effectiveHealthcheck(container({}, {}, { imageConfig: image }));
    assert.deepEqual(fromImage, {
      test: ['CMD-SHELL', 'curl -f localhost'],
      intervalMs: 5000,
      timeoutMs: 30_000,
      startPeriodMs: 0,
      retries: 7,
    });
    const own = effectiveHealthcheck(
      container({ healthcheck: { test: [], intervalMs: 200, timeoutMs: 0, startPeriodMs: 0, retries: 0 } }, {}, { imageConfig: image }),
    );
    assert.equal(own?.intervalMs, 200);
    assert.equal(own?.retries, 7);
    assert.equal(effectiveHealthcheck(container({ healthcheck: { disabled: true } }, {}, { imageConfig: image })), undefined);
    assert.equal(effectiveHealthcheck(container({}, {}, { imageConfig: { Healthcheck: { Test: ['NONE'] } } })), undefined);
    assert.deepEqual(probeArgs(['CMD-SHELL', 'test -e /ok']), ['/bin/sh', '-c', 'test -e /ok']);
    assert.deepEqual(probeArgs(['CMD', 'check', '--fast']), ['check', '--fast']);
  });
});

describe('ps filters', () => {
  const exited = container({}, { status: 'exited', exitCode: 3 });
  it('AND keys, OR values of one key', () => {
    assert.ok(matchesFilters(exited, parseFilters(['status=exited', 'status=running', 'exited=3'])));
    assert.ok(!matchesFilters(exited, parseFilters(['status=exited', 'exited=0'])));
    assert.ok(matchesFilters(exited, parseFilters(['label=tier', 'label=tier=front', 'name=we', 'ancestor=busybox'])));
    assert.ok(!matchesFilters(exited, parseFilters(['label=tier=back'])));
  });
  it('refuse unknown keys and bad values', () => {
    assert.throws(() => parseFilters(['colour=red']), /invalid filter 'colour'/);
    assert.throws(() => parseFilters(['status=sleeping']), /invalid filter 'status=sleeping'/);
    assert.throws(() => parseFilters(['exited=x']), /invalid filter/);
    assert.throws(() => parseFilters(['status']), /expected key=value/);
  });
});
