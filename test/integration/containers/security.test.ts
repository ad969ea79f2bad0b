// Docker's default protections, seen from inside real containers (gantryd,
// runc, conmon): the default seccomp filter refuses the calls Docker's
// refuses and capabilities re-open what they stand for; unconfined and
// custom profiles; no-new-privileges against a setuid-root binary (per
// container and as the daemon's default); AppArmor where the host has it.
// The probes are a static C program (test/fixtures/probes.c) in the image.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerConfig } from '../../../runtime/api/gen/gantry/v1/containers';
import { appArmorEnabled } from '../../../runtime/oci/specgen/apparmor/host';
import { isFailedPrecondition } from '../../../runtime/errdefs/errdefs';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import type { ImageSpec } from '../../helpers/fixtures';
import { probesBinary } from '../../helpers/probes';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { containerWorld, runAttached, type ContainerWorld } from './harness';

const PROBES = '/usr/local/bin/probes';
const SUID_PROBES = '/usr/local/bin/suid-probes';
/** Calls this kernel allows an unprivileged process and Docker's profile refuses (clone_newuser: clone's namespace-flag test). */
const BLOCKED = ['keyctl', 'add_key', 'perf_event_open', 'unshare_user', 'clone_newuser', 'io_uring_setup', 'userfaultfd'];
/** What CAP_SYS_ADMIN re-opens (mount, unshare_uts and setns also need the capability from the kernel). */
const SYS_ADMIN = ['mount', 'unshare_user', 'unshare_uts', 'setns', 'clone_newuser'];
const NOBODY = '65534';

/** `NAME=value` lines of the output, and the /proc/self/status fields printed first. */
function fields(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const sep = line.match(/^([A-Za-z_]+)(?:=|:\s*)(.*)$/);
    if (sep) m.set(sep[1], sep[2]);
  }
  return m;
}

function probeScript(probes: readonly string[]): string[] {
  return ['sh', '-c', `grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; ${PROBES} ${probes.join(' ')}`];
}

describe('containers: seccomp, no-new-privileges and AppArmor (real runc)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;
  let spec: ImageSpec;

  before(async () => {
    const probes = await probesBinary();
    spec = {
      copies: { [PROBES]: { source: probes, mode: 0o755 }, [SUID_PROBES]: { source: probes, mode: 0o4755 } },
      dirs: ['/probe-mnt'],
      marker: 'security-probes',
    };
    world = await containerWorld(cleanup, spec);
  });

  async function run(config: Partial<ContainerConfig>, cmd: string[], client = world.client): Promise<Map<string, string>> {
    const r = await runAttached(client, { image: world.image, cmd, autoRemove: true, ...config });
    assert.equal(r.exitCode, 0, `exit ${r.exitCode}: ${r.stdout}${r.stderr}`);
    return fields(r.stdout);
  }

  function assertProbes(got: Map<string, string>, names: readonly string[], want: string) {
    for (const n of names) assert.equal(got.get(n), want, `${n}: ${got.get(n)} (want ${want})`);
  }

  it('a default container runs under a filter that refuses keyctl, add_key, perf_event_open, unshare/clone of a user namespace, io_uring and userfaultfd with EPERM; threads still start', async () => {
    const got = await run({}, probeScript([...BLOCKED, 'thread']));
    assert.equal(got.get('Seccomp'), '2');
    assertProbes(got, BLOCKED, 'EPERM');
    // glibc's pthread_create tries clone3 first: the filter's ENOSYS sends it to clone.
    assert.equal(got.get('thread'), 'ok');
  });

  it('seccomp=unconfined lifts what the default filter refused (with CAP_SYS_ADMIN also mount, setns, unshare of UTS)', async () => {
    const confined = await run({}, probeScript(BLOCKED));
    assertProbes(confined, BLOCKED, 'EPERM');
    const plain = await run({ seccompProfile: 'unconfined' }, probeScript(BLOCKED));
    assert.equal(plain.get('Seccomp'), '0');
    assertProbes(plain, BLOCKED, 'ok');
    const admin = await run({ seccompProfile: 'unconfined', capAdd: ['SYS_ADMIN'] }, probeScript(SYS_ADMIN));
    assertProbes(admin, SYS_ADMIN, 'ok');
  });

  it('--cap-add SYS_ADMIN under the default filter re-opens mount, unshare, setns and namespace clones, and nothing else', async () => {
    const got = await run({ capAdd: ['SYS_ADMIN'] }, probeScript([...SYS_ADMIN, 'keyctl', 'io_uring_setup', 'userfaultfd']));
    assert.equal(got.get('Seccomp'), '2');
    assertProbes(got, SYS_ADMIN, 'ok');
    assertProbes(got, ['keyctl', 'io_uring_setup', 'userfaultfd'], 'EPERM');
  });

  it('a custom Docker-format profile from the CLI is what the container runs with, and inspect says custom/default/unconfined', async () => {
    const dir = await makeTempDir('gt-seccomp', cleanup);
    const file = path.join(dir, 'profile.json');
    // Everything allowed except mkdir/mkdirat, which fail with EACCES (13).
    const profile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      archMap: [
        { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
        { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
      ],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    };
    await fs.promises.writeFile(file, JSON.stringify(profile));
    const r = await world.daemon.cli([
      'run',
      '--rm',
      '--security-opt',
      `seccomp=${file}`,
      world.image,
      'sh',
      '-c',
      'grep Seccomp: /proc/self/status; mkdir /tmp/x',
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /Seccomp:\s+2/);
    assert.match(r.stderr, /Permission denied/);

    for (const [opts, mode] of [
      [[], 'default'],
      [['--security-opt', 'seccomp=unconfined'], 'unconfined'],
      [['--security-opt', `seccomp=${file}`], 'custom'],
    ] as const) {
      const created = await world.daemon.cli(['create', ...opts, world.image, 'true']);
      assert.equal(created.code, 0, created.stderr);
      const inspect = JSON.parse((await world.daemon.cli(['inspect', created.stdout.trim()])).stdout) as Record<string, unknown>[];
      assert.equal(inspect[0].seccomp, mode);
      assert.equal(inspect[0].noNewPrivileges, false);
      assert.equal(inspect[0].apparmorProfile, appArmorEnabled() ? 'gantry-default' : '');
      await world.daemon.cli(['rm', created.stdout.trim()]);
    }
  });

  it('a malformed profile is refused by the CLI with the file and what is wrong, before anything is created', async () => {
    const before = (await world.client.containers.list(true)).map((c) => c.id);
    const dir = await makeTempDir('gt-seccomp', cleanup);
    const bad = path.join(dir, 'bad.json');
    await fs.promises.writeFile(bad, '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [');
    const r = await world.daemon.cli(['run', '--rm', '--security-opt', `seccomp=${bad}`, world.image, 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`invalid seccomp profile ${bad}: not valid JSON`));
    const wrong = path.join(dir, 'wrong.json');
    await fs.promises.writeFile(wrong, JSON.stringify({ defaultAction: 'SCMP_ACT_NOPE' }));
    const r2 = await world.daemon.cli(['create', '--security-opt', `seccomp=${wrong}`, world.image, 'true']);
    assert.equal(r2.code, 125);
    assert.match(r2.stderr, /defaultAction: "SCMP_ACT_NOPE" is not a seccomp action/);
    const after = (await world.client.containers.list(true)).map((c) => c.id);
    assert.deepEqual(
      after.filter((id) => !before.includes(id)),
      [],
    );
  });

  describe('no-new-privileges', () => {
    it('a setuid-root binary (its bit kept through push, pull and unpack) raises a non-root user to euid 0, but not with --security-opt no-new-privileges', async () => {
      const r = await runAttached(world.client, { image: world.image, cmd: ['stat', '-c', '%a %u', SUID_PROBES], autoRemove: true });
      assert.equal(r.stdout.trim(), '4755 0');
      const script = ['sh', '-c', `grep NoNewPrivs: /proc/self/status; ${SUID_PROBES} ids`];
      const without = await run({ user: NOBODY }, script);
      assert.equal(without.get('NoNewPrivs'), '0');
      assert.equal(without.get('uid'), `${NOBODY} euid=0`);
      const withOpt = await run({ user: NOBODY, noNewPrivileges: true }, script);
      assert.equal(withOpt.get('NoNewPrivs'), '1');
      assert.equal(withOpt.get('uid'), `${NOBODY} euid=${NOBODY}`);
    });

    it('gantry daemon --no-new-privileges makes it the default; no-new-privileges=false opts out; inspect shows the result', async () => {
      const daemon: TestDaemon = await startDaemon(cleanup, ['--no-new-privileges']);
      const client = daemon.client();
      cleanup.defer(() => client.close());
      for await (const _ of client.images.pull({ reference: world.image })) {
        // progress is not under test here
      }
      const script = ['sh', '-c', `grep NoNewPrivs: /proc/self/status; ${SUID_PROBES} ids`];
      const on = await run({ user: NOBODY }, script, client);
      assert.equal(on.get('NoNewPrivs'), '1');
      assert.equal(on.get('uid'), `${NOBODY} euid=${NOBODY}`);
      const off = await run({ user: NOBODY, noNewPrivileges: false }, script, client);
      assert.equal(off.get('NoNewPrivs'), '0');
      assert.equal(off.get('uid'), `${NOBODY} euid=0`);
      const created = await client.containers.create('', { image: world.image, cmd: ['true'] });
      assert.equal((await client.containers.inspect(created.id)).noNewPrivileges, true);
      await client.containers.remove(created.id, false);
    });
  });

  describe('AppArmor', () => {
    it('a profile named on a host without AppArmor is refused at create, unconfined is accepted', async function () {
      if (appArmorEnabled()) this.skip();
      await assert.rejects(
        world.client.containers.create('', { image: world.image, cmd: ['true'], apparmorProfile: 'my-profile' }),
        (e: unknown) => isFailedPrecondition(e) && /AppArmor is not enabled on this host/.test((e as Error).message),
      );
      const got = await run({ apparmorProfile: 'unconfined' }, ['sh', '-c', 'echo ran=yes']);
      assert.equal(got.get('ran'), 'yes');
    });

    it('containers run confined by gantry-default, loaded by gantryd', async function () {
      if (!appArmorEnabled()) {
        // mocha prints the skip; say why in the output too.
        console.log('      (skipped: AppArmor is not enabled on this host: /sys/module/apparmor/parameters/enabled is not Y)');
        this.skip();
      }
      const r = await runAttached(world.client, { image: world.image, cmd: ['cat', '/proc/self/attr/current'], autoRemove: true });
      assert.match(r.stdout, /^gantry-default \(enforce\)/);
      const u = await runAttached(world.client, {
        image: world.image,
        cmd: ['cat', '/proc/self/attr/current'],
        autoRemove: true,
        apparmorProfile: 'unconfined',
      });
      assert.match(u.stdout, /^unconfined/);
    });
  });
});
