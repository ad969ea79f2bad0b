import { strict as assert } from 'node:assert';
import { ContainerStatus, HealthStatus } from '../../../runtime/api/gen/gantry/v1/containers';
import { healthName, humanDuration, statusName, statusText } from '../../../runtime/presentation';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('container status text', () => {
  describe('humanDuration (Docker units.HumanDuration)', () => {
    const cases: [number, string][] = [
      [0, 'Less than a second'],
      [999, 'Less than a second'],
      [1 * S, '1 second'],
      [1999, '1 second'],
      [2 * S, '2 seconds'],
      [59 * S + 999, '59 seconds'],
      [60 * S, 'About a minute'],
      [119 * S, 'About a minute'],
      [2 * M, '2 minutes'],
      [59 * M + 59 * S, '59 minutes'],
      [60 * M, 'About an hour'],
      [89 * M, 'About an hour'],
      [90 * M, '2 hours'],
      [47 * H, '47 hours'],
      [48 * H, '2 days'],
      [13 * D + 23 * H, '13 days'],
      [14 * D, '2 weeks'],
      [59 * D, '8 weeks'],
      [60 * D, '2 months'],
      [364 * D, '12 months'],
      [729 * D, '24 months'],
      [730 * D, '2 years'],
      [3 * 365 * D + 5 * D, '3 years'],
    ];
    for (const [ms, text] of cases) {
      it(`${ms} ms → "${text}"`, () => assert.equal(humanDuration(ms), text));
    }
  });

  describe('statusText (docker ps STATUS)', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    const ago = (ms: number) => new Date(now - ms);
    const base = {
      status: ContainerStatus.CONTAINER_STATUS_RUNNING,
      exitCode: 0,
      startedAt: ago(5 * M),
      finishedAt: undefined,
      health: HealthStatus.HEALTH_STATUS_NONE,
    };

    it('running', () => assert.equal(statusText(base, now), 'Up 5 minutes'));
    it('running with a health check', () => {
      assert.equal(statusText({ ...base, health: HealthStatus.HEALTH_STATUS_HEALTHY }, now), 'Up 5 minutes (healthy)');
      assert.equal(statusText({ ...base, health: HealthStatus.HEALTH_STATUS_UNHEALTHY }, now), 'Up 5 minutes (unhealthy)');
      assert.equal(
        statusText({ ...base, startedAt: ago(3 * S), health: HealthStatus.HEALTH_STATUS_STARTING }, now),
        'Up 3 seconds (health: starting)',
      );
    });
    it('paused', () => {
      assert.equal(statusText({ ...base, status: ContainerStatus.CONTAINER_STATUS_PAUSED }, now), 'Up 5 minutes (Paused)');
    });
    it('restarting counts from the last exit', () => {
      const restarting = { ...base, status: ContainerStatus.CONTAINER_STATUS_RESTARTING, exitCode: 1, finishedAt: ago(3 * S) };
      assert.equal(statusText(restarting, now), 'Restarting (1) 3 seconds ago');
    });
    it('exited shows the code and when', () => {
      const exited = { ...base, status: ContainerStatus.CONTAINER_STATUS_EXITED, exitCode: 3, finishedAt: ago(2 * M) };
      assert.equal(statusText(exited, now), 'Exited (3) 2 minutes ago');
      assert.equal(statusText({ ...exited, exitCode: 137, finishedAt: ago(2 * H) }, now), 'Exited (137) 2 hours ago');
    });
    it('created, and exited without ever starting, read "Created"', () => {
      assert.equal(statusText({ ...base, status: ContainerStatus.CONTAINER_STATUS_CREATED, startedAt: undefined }, now), 'Created');
      assert.equal(statusText({ ...base, status: ContainerStatus.CONTAINER_STATUS_EXITED, startedAt: undefined }, now), 'Created');
    });
    it('dead', () => assert.equal(statusText({ ...base, status: ContainerStatus.CONTAINER_STATUS_DEAD }, now), 'Dead'));
    it('a clock behind the record does not go negative', () => {
      assert.equal(statusText({ ...base, startedAt: new Date(now + 5 * S) }, now), 'Up Less than a second');
    });
  });

  it("names statuses and health as Docker's API does", () => {
    assert.equal(statusName(ContainerStatus.CONTAINER_STATUS_EXITED), 'exited');
    assert.equal(statusName(ContainerStatus.CONTAINER_STATUS_RUNNING), 'running');
    assert.equal(statusName(ContainerStatus.CONTAINER_STATUS_RESTARTING), 'restarting');
    assert.equal(healthName(HealthStatus.HEALTH_STATUS_STARTING), 'starting');
    assert.equal(healthName(HealthStatus.HEALTH_STATUS_NONE), 'none');
  });
});
