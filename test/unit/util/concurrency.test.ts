import * as assert from 'node:assert/strict';
import { settleAll } from '../../../runtime/util/concurrency';

describe('util/concurrency settleAll', () => {
  it('waits for every piece of work before throwing the first failure', async () => {
    const order: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve)).then(() => order.push('slow done'));
    const failing = Promise.reject(new Error('first'));
    const later = Promise.resolve().then(() => {
      throw new Error('second');
    });
    const all = settleAll([failing, slow, undefined, later]).catch((e: Error) => order.push(`threw ${e.message}`));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [], 'nothing is thrown while work still runs');
    release();
    await all;
    assert.deepEqual(order, ['slow done', 'threw first']);
  });

  it('resolves when everything succeeds (undefined counts as done)', async () => {
    await settleAll([Promise.resolve(1), undefined]);
    await settleAll([]);
  });
});
