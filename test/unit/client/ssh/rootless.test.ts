// A non-root SSH login without `sudo -n` gets a rootless gantryd: the probe,
// run here under the real /bin/sh as an unprivileged user (nobody), says so
// and leaves the socket to the host's discovery order; the doctor's rows
// become the connect error and warnings (rootlessCheck.ts).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DoctorCheck } from '../../../../runtime/doctor';
import { daemonMode, START_SCRIPT } from '../../../../runtime/client/ssh/deploy';
import { discoversSocket, parseDaemonVersion, parseProbe, PROBE_SCRIPT } from '../../../../runtime/client/ssh/probe';
import type { HostFacts } from '../../../../runtime/client/ssh/remote';
import { judgeRootless } from '../../../../runtime/client/ssh/rootlessCheck';

const NOBODY = 65534;

function probeAs(uid: number, env: NodeJS.ProcessEnv): HostFacts {
  const res = spawnSync('/bin/sh', ['-s', '--', '0.1.0'], { input: PROBE_SCRIPT, env, encoding: 'utf8', uid, gid: uid, cwd: '/' });
  assert.equal(res.status, 0, res.stderr);
  return parseProbe(res.stdout);
}

describe('remote: a rootless login (no root, no sudo -n)', () => {
  let home: string;
  before(function () {
    if (process.getuid?.() !== 0) this.skip(); // runs the probe as another user
  });
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'gprobe-rl-'));
    fs.chmodSync(home, 0o755);
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('the probe says rootless, no root tools, the XDG state home, and no socket: the host finds its daemon by discovery', () => {
    const facts = probeAs(NOBODY, { PATH: '/usr/bin:/bin', HOME: home });
    assert.equal(facts.uid, NOBODY);
    assert.equal(facts.sudo, false);
    assert.equal(facts.rootless, true);
    assert.equal(facts.system, undefined, 'no root tools are looked for: root runs nothing here');
    assert.equal(facts.socket, '');
    assert.equal(facts.stateHome, path.join(home, '.local', 'state'));
    assert.equal(discoversSocket(facts), true);
    assert.equal(daemonMode(facts), 'rootless');
    // A relative XDG_STATE_HOME is invalid (the XDG spec), as gantry's own rule says (client/socketPath.ts).
    assert.equal(
      probeAs(NOBODY, { PATH: '/usr/bin:/bin', HOME: home, XDG_STATE_HOME: 'rel' }).stateHome,
      path.join(home, '.local', 'state'),
    );
    assert.equal(probeAs(NOBODY, { PATH: '/usr/bin:/bin', HOME: home, XDG_STATE_HOME: '/st' }).stateHome, '/st');
  });

  it('GANTRY_HOME names the socket of a rootless login too', () => {
    const facts = probeAs(NOBODY, { PATH: '/usr/bin:/bin', HOME: home, GANTRY_HOME: path.join(home, 'gh') });
    assert.equal(facts.rootless, true);
    assert.equal(facts.socket, path.join(home, 'gh', 'state', 'gantry.sock'));
    assert.equal(discoversSocket(facts), false);
  });

  it('root and a sudo login are not rootless', () => {
    const root = probeAs(0, { PATH: '/usr/bin:/bin', HOME: home });
    assert.equal(root.rootless, false);
    assert.equal(daemonMode(root), 'root');
    assert.equal(discoversSocket(root), false);
    assert.equal(daemonMode({ ...root, uid: 1000, sudo: true }), 'sudo');
  });
});

describe('remote: the rootless verdict from the host’s doctor', () => {
  const check = (c: Partial<DoctorCheck> & Pick<DoctorCheck, 'id'>): DoctorCheck => ({
    mode: 'rootless',
    title: c.id,
    required: true,
    ok: true,
    detail: '',
    fix: '',
    ...c,
  });

  it('names each failing required rootless check with its fix; rootful rows and passing rows do not count', () => {
    const { missing, warnings } = judgeRootless(
      [
        check({
          id: 'subuid',
          title: 'subuid range (/etc/subuid)',
          ok: false,
          detail: 'no range for bob',
          fix: 'as root: usermod --add-subuids 100000-165535 bob',
        }),
        check({ id: 'uidmap', title: 'newuidmap, newgidmap', ok: true, detail: '/usr/bin/newuidmap' }),
        check({ id: 'system-socket', mode: 'rootful', ok: false, detail: 'owned by uid 7' }),
        check({
          id: 'dev-net-tun',
          title: '/dev/net/tun usable (slirp4netns)',
          required: false,
          ok: false,
          detail: 'mode 0600',
          fix: 'as root: chmod 0666 /dev/net/tun',
        }),
        check({ id: 'catatonit', required: false, ok: false }),
      ],
      'ssh://bob@box',
      1001,
    );
    assert.equal(missing?.kind, 'FailedPrecondition');
    assert.equal(
      missing.message,
      'ssh://bob@box cannot run a rootless gantryd (logged in as uid 1001, and `sudo -n` is not allowed, so gantryd runs as you); missing:\n' +
        '  - subuid range (/etc/subuid): no range for bob; fix: as root: usermod --add-subuids 100000-165535 bob\n' +
        '(or log in as root, or allow passwordless sudo for this user, for a rootful gantryd)',
    );
    assert.deepEqual(warnings, [
      'ssh://bob@box (rootless): /dev/net/tun usable (slirp4netns): mode 0600; fix: as root: chmod 0666 /dev/net/tun',
    ]);
    assert.equal(judgeRootless([check({ id: 'subuid' })], 'ssh://box', 1001).missing, undefined);
  });

  it('the daemon’s version answer carries its socket and whether it is rootless', () => {
    assert.deepEqual(
      parseDaemonVersion('{"server":{"version":"1.2.3","pid":42,"socket":"/home/u/.local/state/gantry/run/gantry.sock","rootless":true}}'),
      {
        version: '1.2.3',
        pid: 42,
        socket: '/home/u/.local/state/gantry/run/gantry.sock',
        rootless: true,
      },
    );
    assert.deepEqual(parseDaemonVersion('{"server":{"version":"1.2.3","pid":42,"socket":"","rootless":false}}'), {
      version: '1.2.3',
      pid: 42,
    });
  });
});

describe('remote: the start script for a rootless login', () => {
  let dir: string;
  let node: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gstart-rl-'));
    // A stand-in for node + gantry.js: `version --json` answers as the daemons that are up; `daemon` brings up the user's own.
    node = path.join(dir, 'node');
    fs.writeFileSync(
      node,
      [
        '#!/bin/sh',
        `d=${dir}`,
        'for a in "$@"; do if [ "$a" = daemon ]; then echo "$@" >"$d/daemon-argv"; echo $$ >"$d/daemon.pid"; touch "$d/rootless-up"; exec sleep 30; fi; done',
        // The daemon started here answers with its own pid (the start script checks it is the one it started).
        'p=42; [ -f "$d/daemon.pid" ] && p=$(cat "$d/daemon.pid")',
        'if [ -f "$d/rootless-up" ]; then printf \'{\\n  "server": {\\n    "version": "1.0.0",\\n    "pid": %s,\\n    "rootless": true\\n  }\\n}\\n\' "$p"; exit 0; fi',
        'if [ -f "$d/system-up" ]; then printf \'{\\n  "server": {\\n    "version": "0.9.0",\\n    "pid": 1,\\n    "rootless": false\\n  }\\n}\\n\'; exit 0; fi',
        'exit 1',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
  });
  afterEach(() => {
    const pid = fs.existsSync(path.join(dir, 'daemon.pid')) ? Number(fs.readFileSync(path.join(dir, 'daemon.pid'), 'utf8')) : 0;
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = () => {
    const log = path.join(dir, 'state', 'gantry', 'gantryd.log');
    const res = spawnSync('/bin/sh', ['-s', '--', node, path.join(dir, 'gantry.js'), '', log, 'rootless', '--runtime', '/usr/sbin/runc'], {
      input: START_SCRIPT,
      encoding: 'utf8',
    });
    return { ...res, log };
  };

  it('starts the user’s own daemon when discovery reaches only a system daemon of another version (it cannot replace that one)', () => {
    fs.writeFileSync(path.join(dir, 'system-up'), '');
    const res = start();
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^started=1$/m);
    assert.match(res.stdout, /^daemon=.*"rootless": true/m);
    // No --socket: the daemon takes its own defaults; the flags follow `daemon`.
    assert.match(fs.readFileSync(path.join(dir, 'daemon-argv'), 'utf8'), /gantry\.js daemon --runtime \/usr\/sbin\/runc$/m);
    assert.equal(fs.statSync(res.log).mode & 0o777, 0o600, 'the log is the user’s alone');
    assert.equal(fs.statSync(path.dirname(res.log)).mode & 0o777, 0o700);
  });

  it('reuses the user’s own daemon when it answers', () => {
    fs.writeFileSync(path.join(dir, 'rootless-up'), '');
    const res = start();
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^started=0$/m);
    assert.equal(fs.existsSync(path.join(dir, 'daemon-argv')), false, 'nothing started');
  });
});
