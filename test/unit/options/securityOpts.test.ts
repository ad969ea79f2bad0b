import { strict as assert } from 'node:assert';
import { buildRunPlan } from '../../../runtime/cli/runOptions';
import { parseSecurityOpts } from '../../../runtime/options';
import { buildSpec, type SpecInput } from '../../../runtime/oci/specgen/build';
import type { ContainerConfig } from '../../../runtime/containers/containers';
import { isFailedPrecondition, isInvalidArgument } from '../../../runtime/errdefs/errdefs';
import { containerConfig } from '../../helpers/containerConfig';

const PROFILE = JSON.stringify({
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64'],
  syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
});
const files: Record<string, string> = { '/p.json': PROFILE, '/bad.json': '{"defaultAction": ' };
const readFile = (p: string) => {
  if (p in files) return files[p];
  throw Object.assign(new Error(`no ${p}`), { code: 'ENOENT' });
};
const invalid = (items: string[], re: RegExp) =>
  assert.throws(
    () => parseSecurityOpts(items, readFile),
    (e: unknown) => isInvalidArgument(e) && re.test((e as Error).message),
    items.join(' '),
  );

const ID = 'f00dfeedcafe0123456789abcdef0123456789abcdef0123456789abcdef0123';
function specOf(over: Partial<ContainerConfig>, extra: Partial<SpecInput> = {}) {
  const config = containerConfig(over);
  return buildSpec({
    id: ID,
    config,
    image: { Cmd: ['sh'] },
    user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
    rootfs: '/r',
    etcFiles: { hosts: '/h', resolvConf: '/r', hostname: '/n' },
    cgroupsPath: '/g',
    nofileHardLimit: 1024,
    seccompTarget: { arch: 'amd64', kernel: [6, 1] },
    ...extra,
  });
}

describe('options/securityOpts (--security-opt)', () => {
  it('seccomp=unconfined, seccomp=FILE (read on the client, sent as text), apparmor=…, no-new-privileges[=bool]', () => {
    assert.deepEqual(parseSecurityOpts([], readFile), {});
    assert.deepEqual(parseSecurityOpts(['seccomp=unconfined'], readFile), { seccompProfile: 'unconfined' });
    assert.deepEqual(parseSecurityOpts(['seccomp=/p.json'], readFile), { seccompProfile: PROFILE });
    assert.deepEqual(parseSecurityOpts(['apparmor=unconfined', 'no-new-privileges'], readFile), {
      apparmorProfile: 'unconfined',
      noNewPrivileges: true,
    });
    assert.deepEqual(parseSecurityOpts(['no-new-privileges=false'], readFile), { noNewPrivileges: false });
    assert.deepEqual(parseSecurityOpts(['no-new-privileges', 'no-new-privileges=false', 'apparmor=a', 'apparmor=b'], readFile), {
      noNewPrivileges: false,
      apparmorProfile: 'b',
    });
  });

  it('refuses what it cannot honour, saying what is wrong', () => {
    invalid(['seccomp=/missing.json'], /^cannot read seccomp profile \/missing\.json: ENOENT$/);
    invalid(['seccomp=/bad.json'], /^invalid seccomp profile \/bad\.json: not valid JSON/);
    invalid(['seccomp='], /want seccomp=unconfined or seccomp=PROFILE\.json/);
    invalid(['seccomp:/p.json'], /want KEY=VALUE \(write "seccomp=\/p\.json"\)/);
    invalid(['no-new-privileges=maybe'], /no-new-privileges=true or no-new-privileges=false/);
    invalid(['label=disable'], /SELinux labels are not supported/);
    invalid(['systempaths=unconfined'], /invalid --security-opt "systempaths=unconfined"/);
    invalid(['apparmor=two words'], /invalid AppArmor profile name/);
  });

  it('gantry run --security-opt fills the config sent to the daemon; no flag leaves the daemon its defaults', () => {
    const plan = buildRunPlan('run', { 'security-opt': ['seccomp=/p.json', 'no-new-privileges', 'apparmor=unconfined'] }, ['busybox'], {
      env: {},
      readFile,
    });
    assert.equal(plan.config.seccompProfile, PROFILE);
    assert.equal(plan.config.noNewPrivileges, true);
    assert.equal(plan.config.apparmorProfile, 'unconfined');
    const plain = buildRunPlan('run', {}, ['busybox'], { env: {}, readFile });
    assert.deepEqual([plain.config.seccompProfile, plain.config.noNewPrivileges, plain.config.apparmorProfile], ['', undefined, '']);
  });

  describe('in the OCI spec', () => {
    it('default: the seccomp allowlist, no_new_privs off, no AppArmor profile on a host without it', () => {
      const spec = specOf({});
      assert.equal(spec.linux?.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
      assert.equal(spec.linux?.seccomp?.defaultErrnoRet, 1);
      assert.equal(spec.process?.noNewPrivileges, false);
      assert.equal(spec.process?.apparmorProfile, undefined);
    });

    it('unconfined: no seccomp section; custom: the given profile; no-new-privileges and AppArmor as asked', () => {
      assert.equal(specOf({ seccompProfile: 'unconfined' }).linux?.seccomp, undefined);
      assert.deepEqual(specOf({ seccompProfile: PROFILE }).linux?.seccomp, {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
      });
      assert.equal(specOf({ noNewPrivileges: true }).process?.noNewPrivileges, true);
      assert.equal(specOf({}, { apparmor: true }).process?.apparmorProfile, 'gantry-default');
      assert.equal(specOf({ apparmorProfile: 'unconfined' }, { apparmor: true }).process?.apparmorProfile, 'unconfined');
      assert.throws(() => specOf({ apparmorProfile: 'mine' }), isFailedPrecondition);
    });

    it('the filter follows the capabilities: --cap-add SYS_ADMIN allows mount', () => {
      const names = (caps: string[]) =>
        new Set(
          specOf({ capAdd: caps })
            .linux!.seccomp!.syscalls!.filter((s) => !s.args)
            .flatMap((s) => s.names),
        );
      assert.ok(!names([]).has('mount'));
      assert.ok(names(['SYS_ADMIN']).has('mount'));
    });
  });
});
