import { strict as assert } from 'node:assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { apparmorFor, DEFAULT_PROFILE_NAME, validateProfileName } from '../../../../runtime/oci/specgen/apparmor/apparmor';
import { defaultProfileText } from '../../../../runtime/oci/specgen/apparmor/profile';
import { isFailedPrecondition, isInvalidArgument } from '../../../../runtime/errdefs/errdefs';

const PARSER = ['/usr/sbin/apparmor_parser', '/sbin/apparmor_parser'].find((p) => fs.existsSync(p));

describe('oci/specgen/apparmor', () => {
  describe('the gantry-default profile text', () => {
    const text = defaultProfileText({ tunables: true, baseAbstraction: true });

    it('is one profile named gantry-default that survives disconnected paths', () => {
      assert.match(text, /^#include <tunables\/global>$/m);
      assert.match(text, /^profile gantry-default flags=\(attach_disconnected,mediate_deleted\) \{$/m);
      assert.match(text, /^ {2}#include <abstractions\/base>$/m);
      assert.equal(text.split('{').length, text.split('}').length);
      assert.ok(text.trimEnd().endsWith('}'));
    });

    it("keeps Docker's confinement: no mount, no writes into /proc and /sys outside the container's own, no sysrq/kcore/firmware/securityfs", () => {
      const rules = text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'));
      for (const rule of [
        'network,',
        'capability,',
        'file,',
        'umount,',
        'deny mount,',
        'deny @{PROC}/* w,',
        'deny @{PROC}/{[^1-9],[^1-9][^0-9],[^1-9s][^0-9y][^0-9s],[^1-9][^0-9][^0-9][^0-9/]*}/** w,',
        'deny @{PROC}/sys/[^k]** w,',
        'deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,',
        'deny @{PROC}/sysrq-trigger rwklx,',
        'deny @{PROC}/kcore rwklx,',
        'deny /sys/[^f]*/** wklx,',
        'deny /sys/f[^s]*/** wklx,',
        'deny /sys/fs/[^c]*/** wklx,',
        'deny /sys/fs/c[^g]*/** wklx,',
        'deny /sys/fs/cg[^r]*/** wklx,',
        'deny /sys/firmware/** rwklx,',
        'deny /sys/devices/virtual/powercap/** rwklx,',
        'deny /sys/kernel/security/** rwklx,',
        'signal (receive) peer=unconfined,',
        'signal (send,receive) peer=gantry-default,',
        'ptrace (trace,read,tracedby,readby) peer=gantry-default,',
      ]) {
        assert.ok(rules.includes(rule), rule);
      }
      for (const r of rules.filter((l) => !/^(profile|\}|@\{PROC\}=)/.test(l))) assert.ok(r.endsWith(','), r);
    });

    it('without tunables it defines @{PROC} itself; without the base abstraction it leaves it out; a confined daemon may signal', () => {
      const bare = defaultProfileText({ tunables: false, baseAbstraction: false, daemonProfile: 'gantryd', name: 'other' });
      assert.match(bare, /^@\{PROC\}=\/proc\/$/m);
      assert.doesNotMatch(bare, /#include/);
      assert.match(bare, /^profile other flags/m);
      assert.match(bare, /signal \(receive\) peer=gantryd,/);
      assert.doesNotMatch(
        defaultProfileText({ tunables: true, baseAbstraction: true, daemonProfile: 'unconfined' }),
        /peer=unconfined,\n.*peer=unconfined/,
      );
    });

    it('apparmor_parser accepts it (parsed and compiled, not loaded)', function () {
      if (!PARSER) this.skip();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-aa-'));
      try {
        for (const [i, t] of [text, defaultProfileText({ tunables: false, baseAbstraction: false })].entries()) {
          const file = path.join(dir, `p${i}`);
          fs.writeFileSync(file, t);
          const r: SpawnSyncReturns<string> = spawnSync(
            PARSER,
            ['--skip-kernel-load', '--skip-cache', '-o', path.join(dir, `out${i}`), file],
            { encoding: 'utf8' },
          );
          assert.equal(r.status, 0, r.stderr);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('apparmorFor', () => {
    it('where the host has AppArmor: gantry-default, unconfined when privileged, or the profile named', () => {
      assert.equal(apparmorFor({}, true), DEFAULT_PROFILE_NAME);
      assert.equal(apparmorFor({ apparmorProfile: '' }, true), 'gantry-default');
      assert.equal(apparmorFor({ privileged: true }, true), 'unconfined');
      assert.equal(apparmorFor({ apparmorProfile: 'unconfined' }, true), 'unconfined');
      assert.equal(apparmorFor({ apparmorProfile: 'mine', privileged: true }, true), 'mine');
    });

    it('without AppArmor: nothing, and a named profile is refused rather than ignored', () => {
      assert.equal(apparmorFor({}, false), undefined);
      assert.equal(apparmorFor({ apparmorProfile: 'unconfined' }, false), undefined);
      assert.throws(
        () => apparmorFor({ apparmorProfile: 'mine' }, false),
        (e: unknown) => isFailedPrecondition(e) && /AppArmor is not enabled/.test((e as Error).message),
      );
    });

    it('profile names: no spaces, newlines or leading punctuation', () => {
      assert.equal(validateProfileName('docker-default'), 'docker-default');
      assert.equal(validateProfileName('/usr/bin/foo'), '/usr/bin/foo');
      for (const bad of ['', 'a b', 'x\nchangeprofile y', '-r', 'a'.repeat(256)]) {
        assert.throws(() => validateProfileName(bad), isInvalidArgument, JSON.stringify(bad));
      }
    });
  });
});
