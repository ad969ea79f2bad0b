import { strict as assert } from 'node:assert';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from '../../../../runtime/oci/specgen/capabilities';
import { CLONE_NAMESPACE_FLAGS, DEFAULT_PROFILE } from '../../../../runtime/oci/specgen/seccomp/defaultProfile';
import { parseProfile } from '../../../../runtime/oci/specgen/seccomp/parse';
import { resolveProfile, seccompFor, seccompMode } from '../../../../runtime/oci/specgen/seccomp/resolve';
import type { Target } from '../../../../runtime/oci/specgen/seccomp/seccomp';
import { isFailedPrecondition, isInvalidArgument } from '../../../../runtime/errdefs/errdefs';
import type { Seccomp } from '../../../../runtime/oci/spec';

const AMD64: Target = { arch: 'amd64', kernel: [6, 1] };
const ARM64: Target = { arch: 'arm64', kernel: [6, 1] };

/** Names an unconditional SCMP_ACT_ALLOW rule (no argument tests) lets through. */
function allowed(s: Seccomp): Set<string> {
  return new Set((s.syscalls ?? []).filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args?.length).flatMap((r) => r.names));
}

const resolve = (caps: readonly string[] = DEFAULT_CAPABILITIES, target = AMD64) => resolveProfile(DEFAULT_PROFILE, caps, target);

/** Blocked for a default container, and the capability that opens each (undefined: none does). */
// prettier-ignore
const BLOCKED: [string, string | undefined][] = [
  ['keyctl', undefined], ['add_key', undefined], ['request_key', undefined], ['userfaultfd', undefined],
  ['kexec_load', undefined], ['kexec_file_load', undefined], ['io_uring_setup', undefined], ['io_uring_enter', undefined],
  ['io_uring_register', undefined], ['swapon', undefined], ['swapoff', undefined], ['uselib', undefined],
  ['bpf', 'CAP_SYS_ADMIN'], ['bpf', 'CAP_BPF'], ['perf_event_open', 'CAP_SYS_ADMIN'], ['perf_event_open', 'CAP_PERFMON'],
  ['mount', 'CAP_SYS_ADMIN'], ['umount2', 'CAP_SYS_ADMIN'], ['unshare', 'CAP_SYS_ADMIN'], ['setns', 'CAP_SYS_ADMIN'],
  ['fsopen', 'CAP_SYS_ADMIN'], ['move_mount', 'CAP_SYS_ADMIN'], ['sethostname', 'CAP_SYS_ADMIN'], ['quotactl', 'CAP_SYS_ADMIN'],
  ['open_by_handle_at', 'CAP_DAC_READ_SEARCH'], ['init_module', 'CAP_SYS_MODULE'], ['finit_module', 'CAP_SYS_MODULE'],
  ['delete_module', 'CAP_SYS_MODULE'], ['reboot', 'CAP_SYS_BOOT'], ['syslog', 'CAP_SYSLOG'], ['syslog', 'CAP_SYS_ADMIN'],
  ['settimeofday', 'CAP_SYS_TIME'], ['clock_settime', 'CAP_SYS_TIME'], ['acct', 'CAP_SYS_PACCT'], ['iopl', 'CAP_SYS_RAWIO'],
  ['ioperm', 'CAP_SYS_RAWIO'], ['mbind', 'CAP_SYS_NICE'], ['set_mempolicy', 'CAP_SYS_NICE'], ['kcmp', 'CAP_SYS_PTRACE'],
  ['pidfd_getfd', 'CAP_SYS_PTRACE'], ['vhangup', 'CAP_SYS_TTY_CONFIG'],
];

describe('oci/specgen/seccomp', () => {
  describe('the default profile', () => {
    it('fails everything else with EPERM, on the native architecture and its sub-architectures', () => {
      const amd = resolve();
      assert.equal(amd.defaultAction, 'SCMP_ACT_ERRNO');
      assert.equal(amd.defaultErrnoRet, 1);
      assert.deepEqual(amd.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
      assert.deepEqual(resolve(DEFAULT_CAPABILITIES, ARM64).architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    });

    it('allows what ordinary programs need', () => {
      const a = allowed(resolve());
      for (const name of ['read', 'write', 'openat', 'execve', 'mmap', 'futex', 'getppid', 'epoll_pwait', 'setuid', 'chroot', 'ptrace']) {
        assert.ok(a.has(name), name);
      }
    });

    for (const [name, cap] of BLOCKED) {
      it(`${name}: refused with Docker's default capabilities${cap ? `, allowed with ${cap}` : ', and with every capability'}`, () => {
        assert.ok(!allowed(resolve()).has(name), `${name} allowed by default`);
        const withCap = allowed(resolve(cap ? [...DEFAULT_CAPABILITIES, cap] : ALL_CAPABILITIES));
        assert.equal(withCap.has(name), cap !== undefined);
      });
    }

    it('chroot needs CAP_SYS_CHROOT (in the default set): dropping it refuses chroot', () => {
      assert.ok(!allowed(resolve(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT'))).has('chroot'));
    });

    it('clone without CAP_SYS_ADMIN: only without namespace flags (first argument, masked); clone3 fails with ENOSYS', () => {
      const s = resolve();
      assert.ok(!allowed(s).has('clone'));
      const clone = s.syscalls!.filter((r) => r.names.includes('clone'));
      assert.deepEqual(clone, [
        { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      ]);
      assert.equal(CLONE_NAMESPACE_FLAGS, 0x10000000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x20000000 | 0x40000000 | 0x00020000);
      assert.deepEqual(
        s.syscalls!.filter((r) => r.names.includes('clone3')),
        [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
      );
    });

    it('clone and clone3 with CAP_SYS_ADMIN: allowed outright', () => {
      const s = resolve([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
      assert.ok(allowed(s).has('clone') && allowed(s).has('clone3'));
      assert.ok(!s.syscalls!.some((r) => r.names.includes('clone3') && r.action === 'SCMP_ACT_ERRNO'));
      assert.ok(!s.syscalls!.some((r) => r.names.includes('clone') && r.args?.length));
    });

    it('ptrace only from kernel 4.8 on (earlier ones let a tracer bypass seccomp), unless CAP_SYS_PTRACE', () => {
      assert.ok(!allowed(resolve(DEFAULT_CAPABILITIES, { arch: 'amd64', kernel: [4, 4] })).has('ptrace'));
      assert.ok(allowed(resolve(DEFAULT_CAPABILITIES, { arch: 'amd64', kernel: [4, 8] })).has('ptrace'));
      assert.ok(allowed(resolve([...DEFAULT_CAPABILITIES, 'CAP_SYS_PTRACE'], { arch: 'amd64', kernel: [3, 10] })).has('ptrace'));
    });

    it('architecture-only calls: arch_prctl/modify_ldt on amd64, set_tls/cacheflush on arm64', () => {
      const amd = allowed(resolve());
      const arm = allowed(resolve(DEFAULT_CAPABILITIES, ARM64));
      assert.ok(amd.has('arch_prctl') && amd.has('modify_ldt') && !amd.has('set_tls'));
      assert.ok(arm.has('set_tls') && arm.has('cacheflush') && !arm.has('arch_prctl'));
    });

    it('socket: anything but AF_VSOCK; personality: only the harmless values', () => {
      const s = resolve();
      assert.deepEqual(
        s.syscalls!.filter((r) => r.names.includes('socket')).map((r) => r.args),
        [[{ index: 0, value: 40, valueTwo: 0, op: 'SCMP_CMP_NE' }]],
      );
      const personas = s.syscalls!.filter((r) => r.names.includes('personality')).map((r) => r.args![0].value);
      assert.deepEqual(personas, [0, 8, 0x20000, 0x20008, 0xffffffff]);
    });

    it('survives a round trip through Docker JSON', () => {
      assert.deepEqual(resolveProfile(parseProfile(JSON.stringify(DEFAULT_PROFILE)), DEFAULT_CAPABILITIES, AMD64), resolve());
    });
  });

  describe('seccompFor', () => {
    it('default, unconfined, custom, and privileged (no filter, as Docker)', () => {
      assert.equal(seccompFor({}, DEFAULT_CAPABILITIES, AMD64)?.defaultAction, 'SCMP_ACT_ERRNO');
      assert.equal(seccompFor({ seccompProfile: 'unconfined' }, DEFAULT_CAPABILITIES, AMD64), undefined);
      assert.equal(seccompFor({ privileged: true }, DEFAULT_CAPABILITIES, AMD64), undefined);
      const custom = JSON.stringify({ defaultAction: 'SCMP_ACT_LOG', architectures: ['SCMP_ARCH_X86_64'], syscalls: [] });
      assert.deepEqual(seccompFor({ seccompProfile: custom }, DEFAULT_CAPABILITIES, AMD64), {
        defaultAction: 'SCMP_ACT_LOG',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [],
      });
      assert.equal(seccompFor({ seccompProfile: custom, privileged: true }, DEFAULT_CAPABILITIES, AMD64), undefined);
      assert.deepEqual([{}, { seccompProfile: 'unconfined' }, { seccompProfile: custom }, { privileged: true }].map(seccompMode), [
        'default',
        'unconfined',
        'custom',
        'unconfined',
      ]);
    });

    it('a profile whose archMap lacks the host architecture is refused (the filter would kill every call)', () => {
      const p = parseProfile(
        JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', archMap: [{ architecture: 'SCMP_ARCH_S390X', subArchitectures: null }] }),
      );
      assert.throws(
        () => resolveProfile(p, [], AMD64),
        (e: unknown) => isFailedPrecondition(e) && /amd64/.test((e as Error).message),
      );
    });

    it("Docker's conditions: includes.caps all held, excludes.caps none held, arches by Go name, caps with or without CAP_", () => {
      const p = parseProfile(
        JSON.stringify({
          defaultAction: 'SCMP_ACT_ERRNO',
          architectures: ['SCMP_ARCH_X86_64'],
          syscalls: [
            { names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN', 'NET_ADMIN'] } },
            { names: ['b'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_ADMIN'] } },
            { names: ['c'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
            { names: ['d'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
            { name: 'e', action: 'SCMP_ACT_ALLOW', includes: { minKernel: '7.0' } },
          ],
        }),
      );
      const names = (caps: string[]) => [...allowed(resolveProfile(p, caps, AMD64))];
      assert.deepEqual(names(['CAP_SYS_ADMIN']), []);
      assert.deepEqual(names(['CAP_SYS_ADMIN', 'CAP_NET_ADMIN']), ['a']);
      assert.deepEqual(names([]), ['b']);
    });
  });

  describe('parseProfile (Docker JSON)', () => {
    const bad = (text: string, re: RegExp) =>
      assert.throws(
        () => parseProfile(text, 'p.json'),
        (e: unknown) => isInvalidArgument(e) && re.test((e as Error).message),
        text,
      );

    it('malformed JSON and wrong shapes: InvalidArgument naming the file and the field', () => {
      bad('{"defaultAction": "SCMP_ACT_ERRNO",', /^invalid seccomp profile p\.json: not valid JSON: /);
      bad('[]', /p\.json: the profile: want an object/);
      bad('{}', /defaultAction: missing/);
      bad('{"defaultAction": "SCMP_ACT_NOPE"}', /defaultAction: "SCMP_ACT_NOPE" is not a seccomp action/);
      bad('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1}', /defaultErrnoRet: want a whole number/);
      bad('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}}', /syscalls: want an array/);
      bad('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]}', /syscalls\[0\]: no syscall names/);
      bad(
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]}',
        /either 'name' or 'names'/,
      );
      bad('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"]}]}', /syscalls\[0\]\.action: missing/);
      bad(
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [1], "action": "SCMP_ACT_ALLOW"}]}',
        /syscalls\[0\]\.names\[0\]: want a string/,
      );
      bad(
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}',
        /args\[0\]\.index: 6 is too large/,
      );
      bad(
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "EQ"}]}]}',
        /args\[0\]\.op: "EQ" is not a comparison/,
      );
      bad(
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "four"}}]}',
        /minKernel: "four" is not a kernel version/,
      );
      bad(
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 18446744073709551615, "op": "SCMP_CMP_EQ"}]}]}',
        /value: .* is too large/,
      );
    });

    it("reads Docker's shapes: legacy name, null subArchitectures, missing valueTwo, unknown keys ignored", () => {
      const p = parseProfile(
        JSON.stringify({
          defaultAction: 'SCMP_ACT_ERRNO',
          defaultErrnoRet: 1,
          archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }],
          syscalls: [
            { name: 'read', action: 'SCMP_ACT_ALLOW', args: null, comment: 'c', unknown: true },
            { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
          ],
          somethingNew: 1,
        }),
      );
      assert.deepEqual(resolveProfile(p, [], AMD64), {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 1,
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [
          { names: ['read'], action: 'SCMP_ACT_ALLOW' },
          { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, valueTwo: 0, op: 'SCMP_CMP_NE' }] },
        ],
      });
    });
  });
});
