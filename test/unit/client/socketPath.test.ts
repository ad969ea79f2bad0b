import { strict as assert } from 'node:assert';
import { defaultState } from '../../../runtime/client/socketPath';

describe('client/socketPath', () => {
  const asUser = (fn: () => void) => {
    const getuid = process.getuid;
    process.getuid = () => 1001;
    try {
      fn();
    } finally {
      process.getuid = getuid;
    }
  };

  it('a non-root user: XDG_RUNTIME_DIR/gantry, else under the state home — never a fixed name in /tmp', () => {
    asUser(() => {
      assert.equal(defaultState({ XDG_RUNTIME_DIR: '/run/user/1001', HOME: '/home/u' }), '/run/user/1001/gantry');
      assert.equal(defaultState({ HOME: '/home/u' }), '/home/u/.local/state/gantry/run');
      assert.equal(defaultState({ HOME: '/home/u', XDG_STATE_HOME: '/st' }), '/st/gantry/run');
      // Relative XDG values are invalid (the XDG spec) and ignored.
      assert.equal(defaultState({ HOME: '/home/u', XDG_RUNTIME_DIR: 'run', XDG_STATE_HOME: 'st' }), '/home/u/.local/state/gantry/run');
    });
  });

  it('root: /run/gantry', function () {
    if (process.getuid?.() !== 0) this.skip();
    assert.equal(defaultState({ XDG_RUNTIME_DIR: '/run/user/0' }), '/run/gantry');
  });
});
