// The CRI security context mapped onto the container config
// (runtime/cri/security.ts): profiles, deprecated strings, supplemental
// groups, devices, masked paths and pod sysctls. docs/cri.md, "Security context".
import * as assert from 'node:assert/strict';
import { isFailedPrecondition, isInvalidArgument } from '../../../runtime/errdefs/errdefs';
import { ContainerConfig, NamespaceMode, PodSandboxConfig } from '../../../runtime/cri/gen/runtime/v1/api';
import { containerSecurityOf, sandboxSecurityOf, type SecurityHost } from '../../../runtime/cri/security';

const PROFILE = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });

function host(over: Partial<SecurityHost> = {}): SecurityHost {
  return {
    apparmorEnabled: false,
    apparmorLoaded: () => false,
    readFile: (file) => {
      if (file === '/profiles/ok.json') return PROFILE;
      if (file === '/profiles/bad.json') return '{"defaultAction": "SCMP_ACT_NOPE"}';
      throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    },
    ...over,
  };
}

const container = (securityContext: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  ContainerConfig.fromJSON({ metadata: { name: 'c' }, image: { image: 'busybox' }, linux: { securityContext }, ...extra });

/** In a privileged sandbox unless told otherwise: the container's own context decides. */
const secure = (config: ContainerConfig, h: SecurityHost, sandboxPrivileged = true) => containerSecurityOf(config, h, sandboxPrivileged);

const invalid = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => isInvalidArgument(e) && re.test((e as Error).message));

describe('cri/security', () => {
  describe('seccomp', () => {
    const seccomp = (sc: Record<string, unknown>, h = host()) => secure(container(sc), h).seccompProfile;

    it('unset is Unconfined (the kubelet meaning); RuntimeDefault the default profile; Unconfined none', () => {
      assert.equal(seccomp({}), 'unconfined');
      assert.equal(secure(ContainerConfig.fromJSON({}), host()).seccompProfile, 'unconfined');
      assert.equal(seccomp({ seccomp: { profileType: 'RuntimeDefault' } }), undefined);
      assert.equal(seccomp({ seccomp: { profileType: 'Unconfined' } }), 'unconfined');
    });

    it('Localhost: the file is read and checked; missing or malformed is InvalidArgument naming the path', () => {
      assert.equal(seccomp({ seccomp: { profileType: 'Localhost', localhostRef: '/profiles/ok.json' } }), PROFILE);
      invalid(
        () => seccomp({ seccomp: { profileType: 'Localhost', localhostRef: '/profiles/absent.json' } }),
        /\/profiles\/absent\.json: ENOENT/,
      );
      invalid(() => seccomp({ seccomp: { profileType: 'Localhost', localhostRef: '/profiles/bad.json' } }), /\/profiles\/bad\.json/);
      invalid(() => seccomp({ seccomp: { profileType: 'Localhost', localhostRef: 'relative.json' } }), /absolute path/);
      invalid(() => seccomp({ seccomp: { profileType: 'Localhost' } }), /needs localhost_ref/);
      invalid(
        () => seccomp({ seccomp: { profileType: 'RuntimeDefault', localhostRef: '/profiles/ok.json' } }),
        /only for profile type Localhost/,
      );
    });

    it('the deprecated seccomp_profile_path as containerd reads it', () => {
      assert.equal(seccomp({ seccompProfilePath: 'runtime/default' }), undefined);
      assert.equal(seccomp({ seccompProfilePath: 'docker/default' }), undefined);
      assert.equal(seccomp({ seccompProfilePath: 'unconfined' }), 'unconfined');
      assert.equal(seccomp({ seccompProfilePath: 'localhost//profiles/ok.json' }), PROFILE);
      invalid(() => seccomp({ seccompProfilePath: '/profiles/ok.json' }), /invalid seccomp profile/);
      // The profile field wins over the string.
      assert.equal(seccomp({ seccomp: { profileType: 'Unconfined' }, seccompProfilePath: 'runtime/default' }), 'unconfined');
    });

    it('privileged: no filter, and no profile is read', () => {
      assert.equal(
        seccomp({ privileged: true, seccomp: { profileType: 'Localhost', localhostRef: '/profiles/absent.json' } }),
        'unconfined',
      );
    });
  });

  describe('AppArmor', () => {
    const apparmor = (sc: Record<string, unknown>, h = host()) => secure(container(sc), h).apparmorProfile;

    it('without AppArmor: unset, RuntimeDefault and Unconfined pass; Localhost is FailedPrecondition', () => {
      assert.equal(apparmor({}), undefined);
      assert.equal(apparmor({ apparmor: { profileType: 'RuntimeDefault' } }), undefined);
      assert.equal(apparmor({ apparmor: { profileType: 'Unconfined' } }), 'unconfined');
      assert.throws(
        () => apparmor({ apparmor: { profileType: 'Localhost', localhostRef: 'mine' } }),
        (e: unknown) => isFailedPrecondition(e) && /AppArmor is not enabled on this host.*"mine"/.test((e as Error).message),
      );
    });

    it('with AppArmor: a Localhost profile must be loaded; the deprecated string maps the same way', () => {
      const h = host({ apparmorEnabled: true, apparmorLoaded: (name) => name === 'mine' });
      assert.equal(apparmor({ apparmor: { profileType: 'Localhost', localhostRef: 'mine' } }, h), 'mine');
      assert.equal(apparmor({ apparmorProfile: 'localhost/mine' }, h), 'mine');
      assert.equal(apparmor({ apparmorProfile: 'runtime/default' }, h), undefined);
      assert.equal(apparmor({ apparmorProfile: 'unconfined' }, h), 'unconfined');
      invalid(() => apparmor({ apparmor: { profileType: 'Localhost', localhostRef: 'other' } }, h), /"other" is not loaded/);
      invalid(() => apparmor({ apparmorProfile: 'mine' }, h), /invalid apparmor profile "mine"/);
    });
  });

  it('supplemental groups: Merge by default, Strict when asked; out of range refused', () => {
    assert.deepEqual(secure(container({ supplementalGroups: [1234, 5678] }), host()).supplementalGroups, {
      gids: [1234, 5678],
      policy: 'merge',
    });
    assert.deepEqual(secure(container({ supplementalGroups: [7], supplementalGroupsPolicy: 'Strict' }), host()).supplementalGroups, {
      gids: [7],
      policy: 'strict',
    });
    invalid(() => secure(container({ supplementalGroups: [-1] }), host()), /out of range/);
  });

  it('a privileged container needs a privileged sandbox', () => {
    invalid(() => secure(container({ privileged: true }), host(), false), /needs a privileged pod sandbox/);
    assert.equal(secure(container({ privileged: true }), host(), true).privileged, true);
    assert.equal(secure(container({}), host(), false).privileged, false);
  });

  it('user: a group alone is refused', () => {
    assert.equal(secure(container({ runAsUser: { value: 1000 }, runAsGroup: { value: 5 } }), host()).user, '1000:5');
    assert.equal(secure(container({ runAsUsername: 'app' }), host()).user, 'app');
    invalid(() => secure(container({ runAsGroup: { value: 5 } }), host()), /run_as_group needs run_as_user/);
  });

  it('devices: paths absolute, permissions some of rwm (empty = rwm)', () => {
    const s = secure(
      container(
        {},
        {
          devices: [
            { hostPath: '/dev/null', containerPath: '/dev/mynull', permissions: 'r' },
            { hostPath: '/dev/zero', containerPath: '/dev/z' },
          ],
        },
      ),
      host(),
    );
    assert.deepEqual(s.devices, [
      { pathOnHost: '/dev/null', pathInContainer: '/dev/mynull', cgroupPermissions: 'r' },
      { pathOnHost: '/dev/zero', pathInContainer: '/dev/z', cgroupPermissions: 'rwm' },
    ]);
    invalid(
      () => secure(container({}, { devices: [{ hostPath: '/dev/null', containerPath: 'x', permissions: 'r' }] }), host()),
      /absolute/,
    );
    invalid(
      () => secure(container({}, { devices: [{ hostPath: '/dev/null', containerPath: '/x', permissions: 'rx' }] }), host()),
      /bad permissions/,
    );
  });

  it('masked and read-only paths: given ones replace the defaults, none keeps them', () => {
    const s = secure(container({ maskedPaths: ['/proc/version'], readonlyPaths: ['/etc'] }), host());
    assert.deepEqual([s.maskedPaths, s.readonlyPaths], [['/proc/version'], ['/etc']]);
    const d = secure(container({}), host());
    assert.deepEqual([d.maskedPaths, d.readonlyPaths], [undefined, undefined]);
  });

  describe('the sandbox', () => {
    const pod = (linux: Record<string, unknown>) => PodSandboxConfig.fromJSON({ metadata: { name: 'p', namespace: 'n', uid: 'u' }, linux });
    const own = { network: NamespaceMode.POD, ipc: NamespaceMode.POD };

    it("seccomp for the infra process as for a container's", () => {
      assert.equal(sandboxSecurityOf(pod({}), own, host()).seccompProfile, 'unconfined');
      assert.equal(
        sandboxSecurityOf(pod({ securityContext: { seccomp: { profileType: 'RuntimeDefault' } } }), own, host()).seccompProfile,
        undefined,
      );
      invalid(
        () =>
          sandboxSecurityOf(pod({ securityContext: { seccomp: { profileType: 'Localhost', localhostRef: '/nope.json' } } }), own, host()),
        /\/nope\.json/,
      );
    });

    it('the infra user: run_as_user[:run_as_group] and the supplemental groups; a group alone is refused', () => {
      const s = sandboxSecurityOf(
        pod({ securityContext: { runAsUser: { value: 1000 }, runAsGroup: { value: 2000 }, supplementalGroups: [3000] } }),
        own,
        host(),
      );
      assert.deepEqual([s.user, s.supplementalGroups], ['1000:2000', { gids: [3000], policy: 'merge' }]);
      assert.equal(sandboxSecurityOf(pod({}), own, host()).user, undefined);
      invalid(
        () => sandboxSecurityOf(pod({ securityContext: { runAsGroup: { value: 5 } } }), own, host()),
        /run_as_group needs run_as_user/,
      );
    });

    it('sysctls: namespaced ones in namespaces of the pod; others refused', () => {
      const sysctls = { 'net.ipv4.ip_local_port_range': '20000 30000', 'kernel.shmmax': '1000000', 'fs.mqueue.msg_max': '20' };
      assert.deepEqual(sandboxSecurityOf(pod({ sysctls }), own, host()).sysctls, sysctls);
      invalid(() => sandboxSecurityOf(pod({ sysctls: { 'kernel.panic': '1' } }), own, host()), /"kernel.panic" is not namespaced/);
      invalid(
        () => sandboxSecurityOf(pod({ sysctls: { 'net.ipv4.ip_forward': '1' } }), { ...own, network: NamespaceMode.NODE }, host()),
        /host's network namespace/,
      );
      invalid(
        () => sandboxSecurityOf(pod({ sysctls: { 'kernel.sem': '1 2 3 4' } }), { ...own, ipc: NamespaceMode.NODE }, host()),
        /host's IPC/,
      );
    });
  });
});
