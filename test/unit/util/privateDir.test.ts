import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isFailedPrecondition } from '../../../runtime/errdefs/errdefs';
import { ensurePrivateDir, privateDirProblem } from '../../../runtime/util/privateDir';

describe('util/privateDir', () => {
  let base: string;
  const uid = process.getuid!();
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'gprivate-'));
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it('creates a missing dir (and parents) 0700 whatever the umask, and accepts it again', () => {
    const dir = path.join(base, 'a', 'gantry');
    const previous = process.umask(0);
    try {
      ensurePrivateDir(dir, uid);
    } finally {
      process.umask(previous);
    }
    assert.equal(fs.statSync(dir).mode & 0o7777, 0o700);
    ensurePrivateDir(dir, uid);
  });

  it('refuses a dir owned by another uid, opened to others, a symlink or a file — without repairing it', () => {
    const other = path.join(base, 'other');
    fs.mkdirSync(other, { mode: 0o700 });
    assert.match(privateDirProblem(other, uid + 1)!, new RegExp(`owned by uid ${uid}, not by uid ${uid + 1}`));
    const open = path.join(base, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o755);
    assert.throws(
      () => ensurePrivateDir(open, uid),
      (e: unknown) => isFailedPrecondition(e) && /mode 0755, not 0700/.test((e as Error).message),
    );
    assert.equal(fs.statSync(open).mode & 0o777, 0o755, 'never chmod-ed back');
    const link = path.join(base, 'link');
    fs.symlinkSync(other, link);
    assert.match(privateDirProblem(link, uid)!, /symbolic link/);
    const file = path.join(base, 'file');
    fs.writeFileSync(file, '');
    assert.match(privateDirProblem(file, uid)!, /not a directory/);
  });
});
