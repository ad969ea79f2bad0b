import { strict as assert } from 'node:assert';
import { isInvalidArgument } from '../../../runtime/errdefs/errdefs';
import { shiftOwners } from '../../../runtime/unpack/idshift';

describe('unpack/idshift', () => {
  const shift = { uid: 100000, gid: 200000, size: 65536 };

  it("adds the mapping's base to the header and to PAX owners", () => {
    assert.deepEqual(shiftOwners({ name: 'bin/sh', uid: 0, gid: 0 }, shift), { name: 'bin/sh', uid: 100000, gid: 200000 });
    const h = shiftOwners({ name: 'f', uid: 1, gid: 2, pax: { uid: '1000', gid: '1001', path: 'f' } }, shift);
    assert.deepEqual([h.uid, h.gid, h.pax], [101000, 201001, { uid: '101000', gid: '201001', path: 'f' }]);
  });

  it('refuses owners the mapping cannot hold, naming the entry', () => {
    assert.throws(
      () => shiftOwners({ name: 'big', uid: 65536, gid: 0 }, shift),
      (e: unknown) => isInvalidArgument(e) && /"big": uid 65536 is outside/.test((e as Error).message),
    );
    assert.throws(() => shiftOwners({ name: 'g', uid: 0, gid: 0, pax: { gid: '70000' } }, shift), /gid 70000/);
  });
});
