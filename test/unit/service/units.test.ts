import { strict as assert } from 'node:assert';
import { execWord, serviceUnit, socketUnit } from '../../../runtime/service/units';
import { takeSystemdListenFd } from '../../../runtime/daemon/socket';

describe('systemd units', () => {
  it('quotes ExecStart words as systemd reads them', () => {
    assert.equal(execWord('/usr/bin/node'), '/usr/bin/node');
    assert.equal(execWord('/opt/my gantry/gantry.js'), '"/opt/my gantry/gantry.js"');
    assert.equal(execWord('100%'), '100%%');
    assert.equal(execWord('$HOME'), '"$$HOME"');
    assert.equal(execWord('a"b'), '"a\\"b"');
  });

  it('a service that leaves containers alone when it stops, tied to its socket only with activation', () => {
    const withSocket = serviceUnit({
      node: '/usr/bin/node',
      script: '/usr/local/lib/gantry/gantry.js',
      group: 'gantry',
      socketActivation: true,
    });
    assert.match(
      withSocket,
      /^ExecStart=\/usr\/bin\/node --max-semi-space-size=1 --optimize-for-size \/usr\/local\/lib\/gantry\/gantry\.js daemon --socket \/run\/gantry\/gantry\.sock --group gantry$/m,
    );
    // The daemon's malloc settings, which glibc reads only when the process starts (docs/performance.md, "gantryd's memory").
    assert.match(withSocket, /^Environment=MALLOC_MMAP_THRESHOLD_=131072$/m);
    assert.match(withSocket, /^KillMode=process$/m);
    assert.match(withSocket, /^Delegate=yes$/m);
    assert.match(withSocket, /^Requires=gantryd\.socket$/m);
    const alone = serviceUnit({ node: '/usr/bin/node', script: '/g.js', group: 'gantry', socketActivation: false });
    assert.doesNotMatch(alone, /gantryd\.socket/);
    const socket = socketUnit({ group: 'staff' });
    assert.match(socket, /^SocketMode=0660$/m);
    assert.match(socket, /^SocketGroup=staff$/m);
    assert.match(socket, /^ListenStream=\/run\/gantry\/gantry\.sock$/m);
  });

  it('takes fd 3 only when LISTEN_PID is this process, and clears the variables either way', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_FDS: '1', LISTEN_PID: '42', LISTEN_FDNAMES: 'gantryd.socket', KEEP: 'x' };
    assert.equal(takeSystemdListenFd(env, 42), 3);
    assert.deepEqual(env, { KEEP: 'x' });
    assert.equal(takeSystemdListenFd({ LISTEN_FDS: '1', LISTEN_PID: '41' }, 42), undefined);
    assert.equal(takeSystemdListenFd({}, 42), undefined);
    assert.throws(() => takeSystemdListenFd({ LISTEN_FDS: '2', LISTEN_PID: '42' }, 42), /passed 2 sockets/);
  });
});
