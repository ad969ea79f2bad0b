// Which bundle serves a command (runtime/loader/bundles.ts).
import { strict as assert } from 'node:assert';
import { bundleFor, CLI_BUNDLE, DAEMON_BUNDLE, DAEMON_COMMANDS } from '../../../runtime/loader/bundles';
import { RELAY_COMMAND } from '../../../runtime/network/forward/relay';

describe('runtime bundles', () => {
  it('gantryd and the helpers it starts run the daemon bundle; every other command the CLI bundle', () => {
    assert.equal(bundleFor(['daemon', '--root', '/x']), DAEMON_BUNDLE);
    assert.equal(bundleFor([RELAY_COMMAND, '/sock', '1000']), DAEMON_BUNDLE);
    assert.equal(bundleFor(['ps']), CLI_BUNDLE);
    assert.equal(bundleFor([]), CLI_BUNDLE);
    // An option's value that happens to be "daemon" is not the command.
    assert.equal(bundleFor(['--socket', 'daemon', 'ps']), CLI_BUNDLE);
  });

  it("names the port relay's command as the relay does", () => {
    assert.ok(DAEMON_COMMANDS.includes(RELAY_COMMAND));
  });
});
