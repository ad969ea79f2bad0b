// `gantry doctor` on this machine (docs/service.md): the rows it must find
// passing here, and the failure and exit status when a tool is not on PATH.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GANTRY_JS, requireBuild, runGantry } from '../../helpers/daemon';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

interface Row {
  id: string;
  mode: string;
  required: boolean;
  ok: boolean;
  detail: string;
  fix: string;
}

describe('gantry doctor', () => {
  const cleanup = suiteCleanup();
  before(() => requireBuild([GANTRY_JS]));

  it('finds runc, conmon, the CNI plugins, iptables, newuidmap and rootlesskit here, and exits 0 as root', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const r = await runGantry(['doctor', '--format', 'json']);
    const report = JSON.parse(r.stdout) as { mode: string; ok: boolean; checks: Row[] };
    assert.equal(report.mode, 'rootful');
    const row = (mode: string, id: string) => report.checks.find((c) => c.mode === mode && c.id === id);
    for (const id of ['runc', 'conmon', 'cni-plugins', 'iptables', 'catatonit', 'system-socket'])
      assert.equal(row('rootful', id)?.ok, true, id);
    assert.equal(row('rootful', 'runc')?.detail, '/usr/sbin/runc');
    for (const id of ['uidmap', 'rootlesskit', 'userns', 'slirp4netns']) assert.equal(row('rootless', id)?.ok, true, id);
    assert.equal(report.ok, true);
    assert.equal(r.code, 0, r.stderr);
    const text = await runGantry(['doctor']);
    assert.match(text.stdout, /^ {2}ok {4}runc \(OCI runtime\) +\/usr\/sbin\/runc$/m);
  });

  it('fails runc and conmon, with the fix, and exits 1 when PATH has neither', async () => {
    const empty = await makeTempDir('gdoc', cleanup);
    fs.symlinkSync('/bin/true', path.join(empty, 'unrelated'));
    const r = await runGantry(['doctor', '--format', 'json'], { env: { ...process.env, PATH: empty } });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: Row[] };
    assert.equal(report.ok, false);
    const runc = report.checks.find((c) => c.id === 'runc' && c.mode === report.checks[0].mode)!;
    assert.deepEqual([runc.ok, runc.required, runc.detail, runc.fix], [false, true, 'not found on PATH', 'apt-get install runc']);
    const text = await runGantry(['doctor'], { env: { ...process.env, PATH: empty } });
    assert.equal(text.code, 1);
    assert.match(text.stdout, /FAIL +conmon \(container monitor\) +not found on PATH\n +fix: apt-get install conmon/);
  });
});
