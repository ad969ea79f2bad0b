import { strict as assert } from 'node:assert';
import { mock } from 'node:test';
import { throttle } from '../../../runtime/presentation/throttle';

// The throttle's timer and clock are Node's: a mocked clock moves them, no test waits for time.
describe('throttle', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('runs the first call at once, defers the rest of the interval to one trailing call, and keeps the last state', () => {
    const seen: number[] = [];
    let value = 0;
    const t = throttle(50, () => seen.push(value));
    value = 1;
    t.run();
    value = 2;
    t.run();
    value = 3;
    t.run();
    assert.deepEqual(seen, [1]);
    mock.timers.tick(49);
    assert.deepEqual(seen, [1], 'nothing before the interval ends');
    mock.timers.tick(31);
    assert.deepEqual(seen, [1, 3], 'the deferred call reports the latest value, once');
    value = 4;
    t.run(true);
    assert.deepEqual(seen, [1, 3, 4]);
  });

  it('cancel drops a deferred call', () => {
    const seen: number[] = [];
    const t = throttle(30, () => seen.push(seen.length));
    t.run();
    t.run();
    t.cancel();
    mock.timers.tick(60);
    assert.deepEqual(seen, [0]);
  });
});
