import { strict as assert } from 'node:assert';
import { throttle } from '../../../runtime/util/throttle';

describe('throttle', () => {
  it('runs the first call at once, defers the rest of the interval to one trailing call, and keeps the last state', async () => {
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
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(seen, [1, 3], 'the deferred call reports the latest value, once');
    value = 4;
    t.run(true);
    assert.deepEqual(seen, [1, 3, 4]);
  });

  it('cancel drops a deferred call', async () => {
    const seen: number[] = [];
    const t = throttle(30, () => seen.push(seen.length));
    t.run();
    t.run();
    t.cancel();
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(seen, [0]);
  });
});
