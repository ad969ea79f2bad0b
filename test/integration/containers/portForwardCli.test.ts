// `gantry port-forward` with the built dist/gantry.js against a real gantryd:
// the "Forwarding from" lines, a GET through a free local port, a refused
// connection reported on stderr while forwarding goes on, Ctrl-C (SIGINT)
// ending it with exit code 0 and no relay left, and the errors that end it.
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { GANTRY_JS } from '../../helpers/daemon';
import { startProcess, type Proc } from '../../helpers/proc';
import { suiteCleanup } from '../../helpers/tmp';
import { httpGet } from '../network/harness';
import { CliSuite } from './cliSuite';
import { eventually } from './harness';
import { forwardedPorts, relayPids, webScript } from './portForwardHelpers';

describe('gantry port-forward (CLI, real daemon)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  const t = new CliSuite(cleanup);
  let proc: Proc | undefined;

  afterEach(async () => {
    if (proc && !proc.exitStatus) await proc.stop();
    proc = undefined;
  });

  it('forwards until SIGINT; a refused connection is reported and forwarding goes on; no relay is left', async () => {
    await t.runDetached('--name', 'web', t.image, 'sh', '-c', webScript('hello from the CLI', '80'));
    proc = startProcess(process.execPath, [GANTRY_JS, '--socket', t.daemon.socket, 'port-forward', 'web', '0:80', ':81'], {
      name: 'gantry port-forward',
    });
    const ports = await proc.waitFor(
      (p) => {
        const found = forwardedPorts(p.stdout);
        return found.size === 2 ? found : undefined;
      },
      { what: 'two "Forwarding from" lines' },
    );
    const web = ports.get(80)!;
    const dead = ports.get(81)!;
    assert.equal(
      await eventually('GET through port-forward', () => httpGet(`http://127.0.0.1:${web}/`).catch(() => undefined)),
      'hello from the CLI\n',
    );

    const closed = await new Promise<string>((resolve, reject) => {
      let got = '';
      const s = net.connect(dead, '127.0.0.1', () => s.write('GET / HTTP/1.0\r\n\r\n'));
      s.on('data', (d) => (got += d.toString()));
      s.once('close', () => resolve(got));
      // Closed may also come as a reset: the forward destroys it with our request unread.
      s.once('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
    });
    assert.equal(closed, '', 'the local connection is closed with nothing sent');
    await proc.waitFor((p) => p.stderr.includes('connection refused'), { what: 'the refusal on stderr' });
    assert.match(
      proc.stderr,
      new RegExp(
        `^gantry: forwarding 127\\.0\\.0\\.1:${dead} -> 81: connection refused: nothing listens on port 81 in container web$`,
        'm',
      ),
    );
    assert.equal(proc.exitStatus, undefined, 'still forwarding');
    assert.equal(await httpGet(`http://127.0.0.1:${web}/`), 'hello from the CLI\n');

    proc.kill('SIGINT');
    const exit = await proc.waitForExit();
    assert.equal(exit.code, 0, proc.stderr);
    await assert.rejects(new Promise((resolve, reject) => net.connect(web, '127.0.0.1', resolve as () => void).once('error', reject)));
    await eventually('no relay left', async () => (relayPids(t.daemon.process.pid).length === 0 ? true : undefined));
  });

  it('a stopped or unknown container, a bad port and no port end it with a message', async () => {
    const created = await t.daemon.cli(['create', '--name', 'idle', t.image, 'true']);
    assert.equal(created.code, 0, created.stderr);
    const stopped = await t.daemon.cli(['port-forward', 'idle', '0:80']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /^gantry: container idle is not running\n$/);
    const unknown = await t.daemon.cli(['port-forward', 'nope', '0:80']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /nope/);
    const bad = await t.daemon.cli(['port-forward', 'idle', '80:70000']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid port "80:70000": want \[LOCAL:\]REMOTE/);
    const none = await t.daemon.cli(['port-forward', 'idle']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /port-forward needs CONTAINER and at least one \[LOCAL:\]REMOTE port/);
  });
});
