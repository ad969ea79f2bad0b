import * as assert from 'node:assert/strict';
import { findOnPath, parseVersionOutput } from '../../../runtime/daemon/components';

describe('component discovery', () => {
  it('parses the version lines runc and conmon print', () => {
    assert.equal(parseVersionOutput('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\n'), '1.1.5+ds1');
    assert.equal(parseVersionOutput('conmon version 2.1.6\ncommit: unknown\n'), '2.1.6');
    assert.equal(parseVersionOutput('crun version v1.8.1\n'), '1.8.1');
  });

  it('finds binaries on PATH and reports missing ones as undefined', () => {
    assert.equal(findOnPath('sh', '/nonexistent:/bin'), '/bin/sh');
    assert.equal(findOnPath('definitely-not-a-binary-xyz', '/bin:/usr/bin'), undefined);
  });
});
