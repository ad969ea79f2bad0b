// Push progress drawn by the pull progress view: Docker's words per status,
// one line per change when not on a terminal, bars redrawn in place on one.
import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { BlobStatus, PushBlobStatus, type PushBlobProgress } from '../../../runtime/api/gen/gantry/v1/images';
import { PullProgressView } from '../../../runtime/cli/pullProgress';

const A = `sha256:${'a1'.repeat(32)}`;
const B = `sha256:${'b2'.repeat(32)}`;

function blob(digest: string, status: PushBlobStatus, offset = 0, total = 1000, mountedFrom = ''): PushBlobProgress {
  return { digest, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', role: 'layer', status, offset, total, mountedFrom };
}

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { out, text: () => text };
}

describe('push progress (PullProgressView.updatePush)', () => {
  it('prints one line per status change off a terminal, in Docker words', () => {
    const c = capture();
    const view = new PullProgressView(c.out, false);
    view.updatePush(blob(A, PushBlobStatus.PUSH_BLOB_STATUS_WAITING));
    view.updatePush(blob(A, PushBlobStatus.PUSH_BLOB_STATUS_PUSHING, 10));
    view.updatePush(blob(A, PushBlobStatus.PUSH_BLOB_STATUS_PUSHING, 500));
    view.updatePush(blob(A, PushBlobStatus.PUSH_BLOB_STATUS_PUSHED, 1000));
    view.updatePush(blob(B, PushBlobStatus.PUSH_BLOB_STATUS_EXISTS, 1000));
    view.updatePush(blob(B, PushBlobStatus.PUSH_BLOB_STATUS_MOUNTED, 1000, 1000, 'team/app'));
    assert.deepEqual(c.text().trimEnd().split('\n'), [
      'a1a1a1a1a1a1: Waiting',
      'a1a1a1a1a1a1: Pushing 1kB',
      'a1a1a1a1a1a1: Pushed',
      'b2b2b2b2b2b2: Layer already exists',
      'b2b2b2b2b2b2: Mounted from team/app',
    ]);
  });

  it('draws a bar for a blob being pushed on a terminal, and pull lines still read as before', () => {
    const c = capture();
    const view = new PullProgressView(c.out, true);
    view.updatePush(blob(A, PushBlobStatus.PUSH_BLOB_STATUS_PUSHING, 500));
    assert.match(c.text(), /a1a1a1a1a1a1: Pushing \[=+> +\] 500B\/1kB/);
    const p = capture();
    new PullProgressView(p.out, false).update({
      digest: B,
      mediaType: '',
      role: 'layer',
      status: BlobStatus.BLOB_STATUS_DOWNLOADING,
      offset: 0,
      total: 1000,
    });
    assert.equal(p.text(), 'b2b2b2b2b2b2: Downloading 1kB\n');
  });
});
