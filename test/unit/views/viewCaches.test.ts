// What the views share without VS Code: one list call per refresh
// (CachedListing), one daemon call per open live document (DocumentStreams).
import * as assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import { CachedListing } from '../../../src/views/cachedListing';
import { DocumentStreams } from '../../../src/views/containers/documentStreams';

/** A list call the test settles by hand. */
function deferredLister() {
  const calls: Array<{ resolve: (items: string[]) => void; reject: (e: Error) => void }> = [];
  const list = () => new Promise<readonly string[]>((resolve, reject) => calls.push({ resolve, reject }));
  return { calls, list };
}

describe('CachedListing', () => {
  it('lists once for every caller until dropped, then lists again', async () => {
    const { calls, list } = deferredLister();
    const listing = new CachedListing(list, () => undefined);
    const first = listing.items();
    const second = listing.get();
    assert.equal(calls.length, 1);
    calls[0].resolve(['a']);
    assert.deepEqual(await first, ['a']);
    assert.deepEqual(await second, { items: ['a'] });
    assert.deepEqual(await listing.items(), ['a']);
    assert.equal(calls.length, 1);
    listing.drop();
    const third = listing.items();
    assert.equal(calls.length, 2);
    calls[1].resolve(['b']);
    assert.deepEqual(await third, ['b']);
  });

  it('a drop while listing: the waiting callers get that result, the next caller lists again', async () => {
    const { calls, list } = deferredLister();
    const listing = new CachedListing(list, () => undefined);
    const waiting = listing.items();
    listing.drop();
    const after = listing.items();
    assert.equal(calls.length, 2);
    calls[0].resolve(['old']);
    calls[1].resolve(['new']);
    assert.deepEqual(await waiting, ['old']);
    assert.deepEqual(await after, ['new']);
  });

  it('keeps a failure as the result: logged once, shown by get(), thrown by items()', async () => {
    const { calls, list } = deferredLister();
    const warned: unknown[] = [];
    const listing = new CachedListing(list, (e) => warned.push(e));
    const pending = listing.get();
    const boom = new Error('unavailable');
    calls[0].reject(boom);
    assert.deepEqual(await pending, { error: boom });
    await assert.rejects(listing.items(), boom);
    assert.deepEqual(warned, [boom]);
    assert.equal(calls.length, 1);
  });
});

describe('DocumentStreams', () => {
  class FakeStream {
    streaming = false;
    disposed = false;
    resume(): void {
      if (!this.disposed) this.streaming = true;
    }
    dispose(): void {
      this.disposed = true;
      this.streaming = false;
    }
  }
  const uri = (path: string) => ({ toString: () => `gantry:${path}` }) as vscode.Uri;

  it('starts one stream per document, reuses it, and ends it when the document closes', () => {
    const streams = new DocumentStreams<FakeStream>();
    let created = 0;
    const make = () => {
      created++;
      return new FakeStream();
    };
    const a = streams.of(uri('/container/1/web.log'), make);
    assert.equal(a.streaming, true, 'a new stream is resumed');
    assert.equal(streams.of(uri('/container/1/web.log'), make), a);
    streams.of(uri('/container/2/db.log'), make);
    assert.equal(created, 2);
    assert.equal(streams.streaming, 2);
    assert.equal(streams.has(uri('/container/1/web.log')), true);
    streams.stop(uri('/container/1/web.log'));
    assert.equal(a.disposed, true);
    assert.equal(streams.has(uri('/container/1/web.log')), false);
    assert.equal(streams.streaming, 1);
    streams.dispose();
    assert.equal(streams.streaming, 0);
    assert.deepEqual([...streams.all()], []);
  });
});
