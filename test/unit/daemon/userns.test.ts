import { strict as assert } from 'node:assert';
import { nextFreeId, parseRemapValue, subIdRanges } from '../../../runtime/daemon/userns';
import { isInvalidArgument } from '../../../runtime/errdefs/errdefs';

describe('daemon/userns', () => {
  const file = 'alice:100000:65536\n# comment\nbob:165536:65536\n1001:231072:1000\nalice:300000:10\nbroken:x:1\n';

  it('subIdRanges: the ranges of a user by name or uid, in file order', () => {
    assert.deepEqual(subIdRanges(file, 'alice'), [
      { start: 100000, size: 65536 },
      { start: 300000, size: 10 },
    ]);
    assert.deepEqual(subIdRanges(file, 'carol', 1001), [{ start: 231072, size: 1000 }]);
    assert.deepEqual(subIdRanges(file, 'broken'), []);
    assert.deepEqual(subIdRanges('', 'alice'), []);
  });

  it('nextFreeId: after every range, at least 100000', () => {
    assert.equal(nextFreeId(''), 100000);
    assert.equal(nextFreeId(file), 300010);
  });

  it('parseRemapValue: default, USER, USER:GROUP, numeric IDs; anything else is InvalidArgument', () => {
    assert.deepEqual(parseRemapValue('default'), { user: 'gantry' });
    assert.deepEqual(parseRemapValue('alice'), { user: 'alice', group: undefined });
    assert.deepEqual(parseRemapValue('alice:staff'), { user: 'alice', group: 'staff' });
    assert.deepEqual(parseRemapValue('1001:1001'), { user: '1001', group: '1001' });
    for (const bad of ['', 'a:b:c', 'al ice', '/etc/passwd', ':g']) {
      assert.throws(
        () => parseRemapValue(bad),
        (e: unknown) => isInvalidArgument(e),
        bad,
      );
    }
  });
});
