import { strict as assert } from 'node:assert';
import type { DoctorCheck, DoctorReport } from '../../../runtime/doctor';
import { describeBlockers, doctorMarkdown, startBlockers } from '../../../src/commands/runtime/startPrerequisites';

const check = (c: Partial<DoctorCheck> & Pick<DoctorCheck, 'id' | 'mode'>): DoctorCheck => ({
  title: c.id,
  required: true,
  ok: true,
  detail: 'found',
  fix: '',
  ...c,
});

/** A user's report: uidmap and the subuid range missing (required), slirp4netns missing (a warning), runc missing for root only. */
const userReport: DoctorReport = {
  mode: 'rootless',
  user: 'alice',
  uid: 1000,
  ok: false,
  checks: [
    check({ id: 'runc', mode: 'rootful', ok: false, detail: 'not found on PATH', fix: 'apt-get install runc' }),
    check({ id: 'runc', mode: 'rootless' }),
    check({
      id: 'uidmap',
      mode: 'rootless',
      title: 'newuidmap, newgidmap',
      ok: false,
      detail: 'not found: newuidmap',
      fix: 'apt-get install uidmap',
    }),
    check({
      id: 'subuid',
      mode: 'rootless',
      title: 'subuid range (/etc/subuid)',
      ok: false,
      detail: 'no range for alice',
      fix: 'as root: usermod --add-subuids 231072-296607 alice',
    }),
    check({ id: 'slirp4netns', mode: 'rootless', required: false, ok: false, detail: 'not found', fix: 'apt-get install slirp4netns' }),
    check({ id: 'odd', mode: 'rootless', required: false, ok: false, detail: 'a | b\nc', fix: 'echo `x` | tee y' }),
  ],
};

describe('Start Runtime prerequisites (the doctor as the extension reads it)', () => {
  it("blocks on the failing required checks of the user's mode only, not on warnings or the other mode's", () => {
    assert.deepEqual(
      startBlockers(userReport).map((c) => c.id),
      ['uidmap', 'subuid'],
    );
    assert.deepEqual(startBlockers({ ...userReport, ok: true, checks: userReport.checks.filter((c) => c.ok || !c.required) }), []);
  });

  it('names each blocker with what was found and its exact fix', () => {
    assert.deepEqual(describeBlockers(startBlockers(userReport)), [
      'newuidmap, newgidmap: not found: newuidmap — fix: apt-get install uidmap',
      'subuid range (/etc/subuid): no range for alice — fix: as root: usermod --add-subuids 231072-296607 alice',
    ]);
  });

  it("renders every row, the user's mode first, with ok/FAIL/warn and the fix; table cells stay cells", () => {
    const md = doctorMarkdown(userReport);
    assert.match(md, /alice \(uid 1000\) runs a \*\*rootless\*\* daemon here: \*\*not ready\*\*/);
    assert.ok(md.indexOf('## Rootless') < md.indexOf('## Rootful'), md);
    assert.match(md, /^\| FAIL \| newuidmap, newgidmap \| not found: newuidmap \| `apt-get install uidmap` \|$/m);
    assert.match(md, /^\| warn \| slirp4netns \| not found \| `apt-get install slirp4netns` \|$/m);
    assert.match(md, /^\| ok \| runc \| found \| {2}\|$/m);
    assert.match(md, /^\| FAIL \| runc \| not found on PATH \| `apt-get install runc` \|$/m);
    // A pipe would split the cell, a newline end the table; a backtick end the code span.
    assert.match(md, /^\| warn \| odd \| a \\\| b c \| `echo 'x' \\\| tee y` \|$/m);
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| |'));
    assert.equal(rows.length, userReport.checks.length);
  });
});
