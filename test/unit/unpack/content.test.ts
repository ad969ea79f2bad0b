import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar-stream';
import { readAll, streamToFd, type EntryData } from '../../../runtime/unpack/content';
import { buildTar } from '../../helpers/tarBuilder';

/**
 * Hands the first entry of a one-file tar to `use` only after the extractor
 * has been torn down and its entry stream's 'error' and 'close' have been
 * emitted: what the writer sees when a cancel lands while it yields between
 * entries.
 */
function afterTeardown<T>(use: (data: EntryData) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const extract = tar.extract();
    extract.on('error', () => undefined);
    extract.on('entry', (_header, data) => {
      data.on('error', () => undefined);
      extract.destroy(new Error('cancelled'));
      setImmediate(() =>
        setImmediate(() => {
          use(data as unknown as EntryData).then(resolve, reject);
        }),
      );
    });
    extract.end(buildTar([{ name: 'f', content: Buffer.alloc(200_000, 1) }]));
  });
}

describe('unpack/content', () => {
  it('readAll fails at once on an entry stream torn down before it started listening', async () => {
    await assert.rejects(
      afterTeardown((data) => readAll(data)),
      /entry content ended early/,
    );
  });

  it('streamToFd fails both its promises on an entry stream torn down before it started', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-content-'));
    const fd = fs.openSync(path.join(dir, 'f'), 'w');
    try {
      await afterTeardown(async (data) => {
        const { read, written } = streamToFd(fd, data);
        await assert.rejects(read, /entry content ended early/);
        await assert.rejects(written, /entry content ended early/);
      });
      assert.equal(fs.fstatSync(fd).size, 0);
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('readAll still reads an entry that is intact', async () => {
    const chunks = await new Promise<Buffer[]>((resolve, reject) => {
      const extract = tar.extract();
      extract.on('entry', (_header, data, next) => {
        readAll(data as unknown as EntryData).then((c) => {
          next();
          resolve(c);
        }, reject);
      });
      extract.end(buildTar([{ name: 'f', content: Buffer.alloc(200_000, 7) }]));
    });
    assert.ok(Buffer.concat(chunks).equals(Buffer.alloc(200_000, 7)));
  });
});
