// Push Image's notification text and bar, from the daemon's per-blob progress alone.
import * as assert from 'node:assert/strict';
import { PushBlobStatus as S, type PushBlobProgress } from '../../../runtime/api/gen/gantry/v1/images';
import { PushProgressTracker } from '../../../src/commands/images/pushProgress';

const blob = (digest: string, status: S, offset: number, total: number): PushBlobProgress => ({
  digest,
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  role: 'layer',
  status,
  offset,
  total,
  mountedFrom: '',
});

describe('Push progress (extension notification)', () => {
  it('sums bytes and blobs; present or mounted blobs count whole and are named', () => {
    const t = new PushProgressTracker();
    assert.equal(t.message(), '');
    t.update(blob('a', S.PUSH_BLOB_STATUS_WAITING, 0, 1000));
    t.update(blob('b', S.PUSH_BLOB_STATUS_EXISTS, 0, 3000));
    t.update(blob('c', S.PUSH_BLOB_STATUS_PUSHING, 500, 1000));
    assert.deepEqual(t.snapshot(), { sent: 3500, total: 5000, blobs: 3, complete: 1, skipped: 1 });
    assert.equal(t.message(), '3.5kB / 5kB · 1 of 3 blobs (1 already there)');
    t.update(blob('a', S.PUSH_BLOB_STATUS_MOUNTED, 0, 1000));
    t.update(blob('c', S.PUSH_BLOB_STATUS_PUSHED, 1000, 1000));
    assert.deepEqual(t.snapshot(), { sent: 5000, total: 5000, blobs: 3, complete: 3, skipped: 2 });
  });

  it('the bar only moves forward, and ends at 100 %', () => {
    const t = new PushProgressTracker();
    t.update(blob('a', S.PUSH_BLOB_STATUS_PUSHING, 500, 1000));
    assert.equal(t.advance(), 50);
    // A second blob announced: the share sent drops to 25 %, the bar stays.
    t.update(blob('b', S.PUSH_BLOB_STATUS_WAITING, 0, 1000));
    assert.equal(t.advance(), 0);
    t.update(blob('a', S.PUSH_BLOB_STATUS_PUSHED, 1000, 1000));
    t.update(blob('b', S.PUSH_BLOB_STATUS_PUSHED, 1000, 1000));
    assert.equal(t.advance(), 50);
  });
});
