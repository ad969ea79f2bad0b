// ExitWatcher on a real directory, with exit files written the way conmon
// writes them (`<id>.XXXXXX`, then rename to `<id>`) and some ways it does
// not (in place, garbage first): one report per file, temp names ignored,
// scan() for files that were there before, clear() and re-use of an ID.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExitWatcher, readExitCode, wasOomKilled } from '../../../runtime/tasks/exits';
import { waitFor } from '../../helpers/waitFor';

describe('tasks: ExitWatcher', () => {
  let dir: string;
  let reports: Array<[string, number]>;
  let watcher: ExitWatcher | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gtx-'));
    reports = [];
  });
  afterEach(() => {
    watcher?.close();
    watcher = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = (): ExitWatcher => {
    watcher = new ExitWatcher(path.join(dir, 'exits'), { onExit: (id, code) => reports.push([id, code]) });
    return watcher;
  };
  /** conmon's way: temp file in the same dir, written, renamed over the final name. */
  const conmonWrite = (id: string, code: string, suffix = 'Ab3dE9'): void => {
    const tmp = path.join(dir, 'exits', `${id}.${suffix}`);
    fs.writeFileSync(tmp, '');
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, path.join(dir, 'exits', id));
  };
  const until = async (cond: () => boolean): Promise<void> => {
    await waitFor(cond, { what: 'the exit reports', timeoutMs: 5000, describe: () => reports });
  };

  it("reports each exit file once, ignoring conmon's temp names", async () => {
    start();
    conmonWrite('c1', '3');
    conmonWrite('c2', '137', 'zZ9yY8');
    await until(() => reports.length >= 2);
    await watcher!.scan();
    // A late duplicate event would come before the sentinel's: once the sentinel is reported, it would have been too.
    conmonWrite('sentinel', '0');
    await until(() => reports.some(([id]) => id === 'sentinel'));
    assert.deepEqual(reports.filter(([id]) => id !== 'sentinel').sort(), [
      ['c1', 3],
      ['c2', 137],
    ]);
    assert.equal(await watcher!.readExit('c1'), 3);
  });

  it('scan() finds files written before it started (daemon restart)', async () => {
    fs.mkdirSync(path.join(dir, 'exits'));
    fs.writeFileSync(path.join(dir, 'exits', 'old'), '5');
    fs.writeFileSync(path.join(dir, 'exits', 'half.Q1w2E3'), ''); // a temp file a crash left behind
    const w = start();
    assert.deepEqual(reports, []);
    await w.scan();
    assert.deepEqual(reports, [['old', 5]]);
  });

  it('a file written in place, empty first, is reported when its number arrives', async () => {
    const w = start();
    const file = path.join(dir, 'exits', 'slow');
    fs.writeFileSync(file, '');
    await w.scan();
    assert.deepEqual(reports, []);
    fs.writeFileSync(file, '42');
    await until(() => reports.length > 0);
    assert.deepEqual(reports, [['slow', 42]]);
  });

  it('clear() removes the file; the same ID exiting again is reported again', async () => {
    const w = start();
    conmonWrite('again', '1');
    await until(() => reports.length === 1);
    await w.clear('again');
    await w.clear('again'); // idempotent
    assert.equal(fs.existsSync(path.join(dir, 'exits', 'again')), false);
    conmonWrite('again', '2');
    await until(() => reports.length === 2);
    // Overwritten without clear(): a new file (new inode) is a new exit.
    conmonWrite('again', '3');
    await until(() => reports.length === 3);
    // Removed behind the watcher's back (as a re-create does), then a new exit.
    fs.rmSync(path.join(dir, 'exits', 'again'));
    conmonWrite('again', '4');
    await until(() => reports.length === 4);
    assert.deepEqual(reports, [
      ['again', 1],
      ['again', 2],
      ['again', 3],
      ['again', 4],
    ]);
  });

  it('reports nothing after close()', async () => {
    const w = start();
    w.close();
    w.close();
    // A second watcher on the same dir is the sentinel: once it reports the file, the closed one would have.
    const seen: string[] = [];
    const sentinel = new ExitWatcher(path.join(dir, 'exits'), { onExit: (id) => seen.push(id) });
    try {
      conmonWrite('late', '9');
      await waitFor(() => seen.includes('late'), { what: 'the sentinel watcher to report "late"', timeoutMs: 5000 });
    } finally {
      sentinel.close();
    }
    assert.deepEqual(reports, []);
  });

  it('readExitCode and wasOomKilled read the persist dir', async () => {
    assert.equal(await readExitCode(path.join(dir, 'missing')), undefined);
    fs.writeFileSync(path.join(dir, 'exit'), '143');
    assert.equal(await readExitCode(path.join(dir, 'exit')), 143);
    fs.writeFileSync(path.join(dir, 'garbled'), 'x1');
    assert.equal(await readExitCode(path.join(dir, 'garbled')), undefined);
    assert.equal(await wasOomKilled(dir), false);
    fs.writeFileSync(path.join(dir, 'oom'), '');
    assert.equal(await wasOomKilled(dir), true);
  });
});
