import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fullConfig } from '../../../runtime/client/containersApi';
import { UsageError } from '../../../runtime/cli/command';
import { splitAtFirstPositional } from '../../../runtime/cli/leadingOptions';
import { buildRunPlan, CREATE_OPTIONS, expandEnv, RUN_OPTIONS, type RunPlan } from '../../../runtime/cli/runOptions';
import { isInvalidArgument } from '../../../runtime/errdefs/errdefs';

const readFile = (p: string) => fs.readFileSync(p, 'utf8');

/** What `gantry run ARGV…` would send, through the same split + parseArgs the command uses. */
function plan(argv: string[], env: Record<string, string> = {}, command: 'run' | 'create' = 'run'): RunPlan {
  const options = command === 'run' ? RUN_OPTIONS : CREATE_OPTIONS;
  const split = splitAtFirstPositional(argv, options);
  const { values } = parseArgs({ args: split.options, options, strict: true, allowPositionals: false });
  return buildRunPlan(command, values, split.rest, { env, readFile });
}

const config = (argv: string[], env?: Record<string, string>) => plan([...argv, 'busybox'], env).config;

describe('run options', () => {
  describe('splitting at the first positional (Docker semantics)', () => {
    it('passes everything after IMAGE to the command, options included', () => {
      const split = splitAtFirstPositional(['-d', '--name', 'web', '-e', 'A=1', 'busybox', 'ls', '-l', '--name', 'x'], RUN_OPTIONS);
      assert.deepEqual(split.options, ['-d', '--name=web', '-eA=1']);
      assert.deepEqual(split.rest, ['busybox', 'ls', '-l', '--name', 'x']);
    });

    it('understands grouped short flags, attached values and --opt=value', () => {
      assert.deepEqual(splitAtFirstPositional(['-it', 'busybox', 'sh'], RUN_OPTIONS).rest, ['busybox', 'sh']);
      assert.deepEqual(splitAtFirstPositional(['-ite', 'A=1', 'busybox'], RUN_OPTIONS).rest, ['busybox']);
      assert.deepEqual(splitAtFirstPositional(['-eA=1', 'busybox'], RUN_OPTIONS).rest, ['busybox']);
      assert.deepEqual(splitAtFirstPositional(['--name=web', 'busybox', 'true'], RUN_OPTIONS).rest, ['busybox', 'true']);
      assert.deepEqual(
        splitAtFirstPositional(['--rm', '--name'], RUN_OPTIONS).options,
        ['--rm', '--name'],
        'a missing value is left for parseArgs to report',
      );
    });

    it('drops a "--" that ends the options', () => {
      const split = splitAtFirstPositional(['--rm', '--', '-image-like', 'x'], RUN_OPTIONS);
      assert.deepEqual(split.options, ['--rm']);
      assert.deepEqual(split.rest, ['-image-like', 'x']);
    });

    it('maps IMAGE and COMMAND', () => {
      const p = plan(['busybox', 'sh', '-c', 'echo hi; exit 3']);
      assert.equal(p.config.image, 'busybox');
      assert.deepEqual(p.config.cmd, ['sh', '-c', 'echo hi; exit 3']);
      assert.deepEqual(plan(['busybox', 'ls', '-l']).config.cmd, ['ls', '-l']);
    });
  });

  it('with no flags sends the defaults (the image decides)', () => {
    const p = plan(['busybox']);
    assert.deepEqual(p.config, fullConfig({ image: 'busybox' }));
    assert.equal(p.name, '');
    assert.equal(p.detach, false);
    assert.equal(p.pull, 'missing');
  });

  it('--name, -d, --pull', () => {
    const p = plan(['--name', '/web-1', '-d', '--pull', 'never', 'busybox']);
    assert.equal(p.name, 'web-1');
    assert.equal(p.detach, true);
    assert.equal(p.pull, 'never');
    assert.equal(plan(['--pull', 'always', 'busybox']).pull, 'always');
    assert.ok(isInvalidArgument(catchError(() => plan(['--pull', 'sometimes', 'busybox']))));
    assert.ok(isInvalidArgument(catchError(() => plan(['--name', 'bad name', 'busybox']))));
  });

  it('-d is run-only', () => {
    assert.throws(() => plan(['-d', 'busybox'], {}, 'create'), /Unknown option '-d'/);
  });

  it('-e takes KEY=VALUE as given and a bare KEY from the shell', () => {
    assert.deepEqual(config(['-e', 'A=1', '-e', 'B=', '-e', 'HOME', '-e', 'MISSING'], { HOME: '/root' }).env, ['A=1', 'B=', 'HOME=/root']);
    assert.deepEqual(expandEnv(['X=a=b'], {}), ['X=a=b']);
    assert.ok(isInvalidArgument(catchError(() => expandEnv(['=v'], {}))));
  });

  it('--env-file entries come first, then -e; --label-file then -l', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runopts-'));
    try {
      fs.writeFileSync(path.join(dir, 'env'), '# comment\nFROM_FILE=1\n\nSHELL_VAR\nA=file\n');
      fs.writeFileSync(path.join(dir, 'labels'), 'team=db\ntier=back\n');
      const c = config(
        ['--env-file', path.join(dir, 'env'), '-e', 'A=flag', '--label-file', path.join(dir, 'labels'), '-l', 'tier=front', '-l', 'flag'],
        { SHELL_VAR: 'x' },
      );
      assert.deepEqual(c.env, ['FROM_FILE=1', 'SHELL_VAR=x', 'A=file', 'A=flag']);
      assert.deepEqual(c.labels, { team: 'db', tier: 'front', flag: '' });
      const missing = catchError(() => config(['--env-file', path.join(dir, 'nope')]));
      assert.ok(isInvalidArgument(missing));
      assert.match((missing as Error).message, /cannot read env file .*nope: ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-w must be absolute; -u and --hostname are passed on', () => {
    const c = config(['-w', '/srv', '-u', '1000:1000', '--hostname', 'db.local']);
    assert.equal(c.workingDir, '/srv');
    assert.equal(c.user, '1000:1000');
    assert.equal(c.hostname, 'db.local');
    assert.ok(isInvalidArgument(catchError(() => config(['-w', 'relative']))));
    assert.ok(isInvalidArgument(catchError(() => config(['--hostname', 'bad_host!']))));
  });

  it('-v, --tmpfs, --read-only', () => {
    const c = config(['-v', '/data:/var/data:ro', '-v', '/tmp/x:/x', '--tmpfs', '/run:size=64m,mode=1777', '--read-only']);
    assert.deepEqual(c.mounts, [
      { source: '/data', destination: '/var/data', readOnly: true },
      { source: '/tmp/x', destination: '/x', readOnly: false },
    ]);
    assert.deepEqual(c.tmpfs, [{ destination: '/run', options: ['size=64m', 'mode=1777'] }]);
    assert.equal(c.readOnlyRootfs, true);
    assert.ok(isInvalidArgument(catchError(() => config(['-v', 'x:/x']))));
    assert.ok(isInvalidArgument(catchError(() => config(['-v', 'only-source']))));
  });

  it('-v NAME:/path, -v /path, --mount and --volumes-from: volumes, binds and tmpfs where each belongs', () => {
    const c = config([
      '-v',
      'data:/var/lib/app:ro,nocopy',
      '-v',
      '/anon',
      '--mount',
      'type=bind,source=/srv,target=/srv',
      '--mount',
      'type=tmpfs,target=/cache,tmpfs-size=1m',
      '--mount',
      'source=logs,target=/logs,volume-label=team=a',
      '--volumes-from',
      'web:ro',
    ]);
    const vol = (name: string, destination: string, over: object = {}) => ({
      name,
      destination,
      readOnly: false,
      noCopy: false,
      volumeOptions: {},
      volumeLabels: {},
      anonymous: false,
      ...over,
    });
    assert.deepEqual(c.volumeMounts, [
      vol('data', '/var/lib/app', { readOnly: true, noCopy: true }),
      vol('', '/anon'),
      vol('logs', '/logs', { volumeLabels: { team: 'a' } }),
    ]);
    assert.deepEqual(c.mounts, [{ source: '/srv', destination: '/srv', readOnly: false }]);
    assert.deepEqual(c.tmpfs, [{ destination: '/cache', options: [`size=${1024 * 1024}`] }]);
    assert.deepEqual(c.volumesFrom, ['web:ro']);
    assert.ok(isInvalidArgument(catchError(() => config(['--mount', 'type=volume']))));
    assert.ok(isInvalidArgument(catchError(() => config(['--volumes-from', 'web:z']))));
  });

  it('-m, --cpus, --pids-limit', () => {
    const c = config(['-m', '512m', '--cpus', '1.5', '--pids-limit', '100']);
    assert.equal(c.memoryBytes, 512 * 1024 * 1024);
    assert.equal(c.nanoCpus, 1_500_000_000);
    assert.equal(c.pidsLimit, 100);
    assert.equal(config(['--pids-limit', '-1']).pidsLimit, 0, 'a separate value may start with a dash, as with Docker');
    assert.ok(isInvalidArgument(catchError(() => config(['-m', 'lots']))));
    assert.ok(isInvalidArgument(catchError(() => config(['--cpus', 'two']))));
    assert.ok(isInvalidArgument(catchError(() => config(['--pids-limit', '-5']))));
  });

  it('--cap-add, --cap-drop, --network', () => {
    const c = config(['--cap-add', 'NET_ADMIN', '--cap-add', 'SYS_TIME', '--cap-drop', 'ALL', '--network', 'host']);
    assert.deepEqual(c.capAdd, ['NET_ADMIN', 'SYS_TIME']);
    assert.deepEqual(c.capDrop, ['ALL']);
    assert.equal(c.network, 'host');
    assert.equal(config(['--network', 'none']).network, 'none');
    // Network names are the daemon's to check: bridge and user networks pass through.
    assert.equal(config(['--network', 'bridge']).network, 'bridge');
    assert.equal(config(['--net', 'mynet']).network, 'mynet');
    assert.equal(config([]).network, '', 'the daemon picks its default');
    assert.ok(isInvalidArgument(catchError(() => config(['--network', '']))));
    assert.throws(() => config(['--network', 'a', '--net', 'b']), UsageError);
  });

  it('-p, -P, --expose, --dns*, --add-host, --ip, --mac-address, --network-alias go to the daemon as typed', () => {
    const c = config([
      '-p',
      '8080:80',
      '--publish',
      '127.0.0.1:53:53/udp',
      '-P',
      '--expose',
      '9000-9001',
      '--dns',
      '1.1.1.1',
      '--dns-search',
      'example.com',
      '--dns-option',
      'ndots:2',
      '--add-host',
      'db:10.0.0.5',
      '--ip',
      '10.88.0.9',
      '--mac-address',
      '02:42:ac:11:00:02',
      '--network-alias',
      'web',
    ]);
    assert.deepEqual(c.publish, ['8080:80', '127.0.0.1:53:53/udp']);
    assert.equal(c.publishAll, true);
    assert.deepEqual(c.expose, ['9000-9001']);
    assert.deepEqual(c.dns, ['1.1.1.1']);
    assert.deepEqual(c.dnsSearch, ['example.com']);
    assert.deepEqual(c.dnsOptions, ['ndots:2']);
    assert.deepEqual(c.addHosts, ['db:10.0.0.5']);
    assert.equal(c.ip, '10.88.0.9');
    assert.equal(c.macAddress, '02:42:ac:11:00:02');
    assert.deepEqual(c.networkAliases, ['web']);
    assert.deepEqual(splitAtFirstPositional(['-p', '80', 'busybox', 'httpd'], RUN_OPTIONS).rest, ['busybox', 'httpd']);
  });

  it('--restart, and its conflict with --rm', () => {
    assert.deepEqual(config(['--restart', 'on-failure:3']).restartPolicy, { name: 'on-failure', maximumRetryCount: 3 });
    assert.deepEqual(config(['--restart', 'unless-stopped']).restartPolicy, { name: 'unless-stopped', maximumRetryCount: 0 });
    assert.ok(isInvalidArgument(catchError(() => config(['--restart', 'sometimes']))));
    assert.throws(() => config(['--rm', '--restart', 'always']), UsageError);
    assert.equal(config(['--rm', '--restart', 'no']).autoRemove, true);
  });

  it('health check flags', () => {
    const c = config([
      '--health-cmd',
      'wget -q localhost || exit 1',
      '--health-interval',
      '5s',
      '--health-timeout',
      '1s',
      '--health-retries',
      '4',
      '--health-start-period',
      '1m30s',
    ]);
    assert.deepEqual(c.healthcheck, {
      test: ['CMD-SHELL', 'wget -q localhost || exit 1'],
      intervalMs: 5000,
      timeoutMs: 1000,
      startPeriodMs: 90_000,
      retries: 4,
      disabled: false,
    });
    // Timings alone keep the image's test.
    assert.deepEqual(config(['--health-interval', '10s']).healthcheck?.test, []);
    assert.equal(config(['--no-healthcheck']).healthcheck?.disabled, true);
    assert.throws(() => config(['--no-healthcheck', '--health-cmd', 'true']), UsageError);
    assert.ok(isInvalidArgument(catchError(() => config(['--health-interval', '10']))));
    assert.ok(isInvalidArgument(catchError(() => config(['--health-retries', '-1']))));
  });

  it('--stop-signal, --stop-timeout', () => {
    const c = config(['--stop-signal', 'usr1', '--stop-timeout', '3']);
    assert.equal(c.stopSignal, 'SIGUSR1');
    assert.equal(c.stopTimeout, 3);
    assert.equal(c.stopTimeoutSet, true);
    assert.equal(config(['--stop-timeout', '0']).stopTimeoutSet, true);
    assert.equal(config([]).stopTimeoutSet, false);
    assert.ok(isInvalidArgument(catchError(() => config(['--stop-signal', 'SIGNOPE']))));
    assert.ok(isInvalidArgument(catchError(() => config(['--stop-timeout', 'soon']))));
  });

  it('--entrypoint replaces, and "" clears, the image\'s', () => {
    const c = config(['--entrypoint', '/bin/echo']);
    assert.deepEqual(c.entrypoint, ['/bin/echo']);
    assert.equal(c.entrypointSet, true);
    const cleared = config(['--entrypoint', '']);
    assert.deepEqual(cleared.entrypoint, []);
    assert.equal(cleared.entrypointSet, true);
    assert.equal(config([]).entrypointSet, false);
  });

  it('--rm, -i, -t', () => {
    const c = config(['--rm', '-it']);
    assert.equal(c.autoRemove, true);
    assert.equal(c.openStdin, true);
    assert.equal(c.tty, true);
  });

  it('needs an image', () => {
    assert.throws(
      () => plan(['--rm']),
      (e) => e instanceof UsageError && /needs an image/.test(e.message),
    );
  });

  describe('privileges: --privileged, --device, --cgroupns', () => {
    it('maps the flags onto the config', () => {
      const c = config(['--privileged', '--device', '/dev/fuse', '--device', '/dev/null:/dev/mynull:rw', '--cgroupns', 'private']);
      assert.equal(c.privileged, true);
      assert.deepEqual(c.devices, [
        { pathOnHost: '/dev/fuse', pathInContainer: '/dev/fuse', cgroupPermissions: 'rwm' },
        { pathOnHost: '/dev/null', pathInContainer: '/dev/mynull', cgroupPermissions: 'rw' },
      ]);
      assert.equal(c.cgroupns, 'private');
      const d = config([]);
      assert.deepEqual([d.privileged, d.devices, d.cgroupns], [false, [], '']);
    });

    it('bad values are InvalidArgument (exit 125), saying what was wrong', () => {
      for (const [argv, re] of [
        [['--device', 'null'], /"null" is not an absolute path/],
        [['--device', '/dev/null:/x:q'], /bad mode "q"/],
        [['--cgroupns', 'none'], /want host or private/],
      ] as const) {
        assert.throws(
          () => config([...argv]),
          (e: unknown) => isInvalidArgument(e) && re.test((e as Error).message),
          argv.join(' '),
        );
      }
    });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected an error');
}
