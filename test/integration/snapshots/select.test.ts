// createSnapshotter: 'auto' takes overlay where it works (here, as root on
// ext4) and falls back to native with the reason logged; 'overlayfs' refuses
// clearly where overlay cannot work. A root with ':' is a place overlay mount
// options cannot name, so it stands in for an unsupported filesystem.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { createSnapshotter } from '../../../runtime/snapshots/select';
import { createLogger } from '../../../runtime/util/log';

describe('createSnapshotter', () => {
  let root: string;
  let lines: string[];
  const log = () => createLogger('debug', (line) => lines.push(line));

  beforeEach(async () => {
    root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'sel-'));
    lines = [];
  });
  afterEach(() => fs.promises.rm(root, { recursive: true, force: true }));

  it("'auto' uses overlayfs where it works, in its own subdirectory", async () => {
    const s = await createSnapshotter(root, 'auto', log(), { transientPrefixes: ['extract-'] });
    assert.equal(s.name, 'overlayfs');
    assert.equal(s.root, path.join(root, 'overlayfs'));
    await s.close();
  });

  it("'auto' falls back to native and says why; 'overlayfs' refuses", async () => {
    const odd = path.join(root, 'a:b');
    const s = await createSnapshotter(odd, 'auto', log());
    assert.equal(s.name, 'native');
    assert.equal(s.root, path.join(odd, 'native'));
    assert.ok(
      lines.some((l) => / warn "snapshotter: native/.test(l) && /reason=.*':'/.test(l)),
      lines.join(''),
    );
    await s.close();
    await assert.rejects(
      createSnapshotter(odd, 'overlayfs', log()),
      (e: unknown) => isGantryError(e) && e.kind === 'FailedPrecondition' && /overlayfs snapshotter cannot be used/.test(e.message),
    );
  });

  it("'native' is native even where overlay works", async () => {
    const s = await createSnapshotter(root, 'native', log());
    assert.equal(s.name, 'native');
    await s.close();
  });
});
