// Proves registry.ts against Debian's docker-registry: plain HTTP, restart on
// the same port and storage after a crash.
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { startRegistry } from '../../helpers/registry';
import { pushBusybox } from '../../helpers/fixtures';
import { waitForPidGone } from '../../helpers/proc';

describe('harness: registry', () => {
  it('serves GET /v2/ with 200 on 127.0.0.1 and cleans up on stop()', async () => {
    const reg = await startRegistry();
    try {
      assert.match(reg.host, /^127\.0\.0\.1:\d+$/);
      assert.equal(reg.url, `http://${reg.host}`);
      const res = await fetch(`${reg.url}/v2/`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    } finally {
      await reg.stop();
    }
    await waitForPidGone(reg.proc.pid, 'docker-registry');
    assert.equal(fs.existsSync(reg.storageDir), false);
  });

  it('restart() after SIGKILL keeps the port and the stored images', async () => {
    const reg = await startRegistry();
    try {
      const pushed = await pushBusybox(reg, 'test/restart:1');
      // Blobs are plain files under the storage root (tests can tamper with them).
      const blob = reg.blobPath(pushed.layerDigests[0]);
      assert.ok(fs.existsSync(blob), blob);

      const oldPid = reg.proc.pid;
      reg.kill('SIGKILL');
      await reg.proc.waitForExit();
      await reg.restart();
      assert.notEqual(reg.proc.pid, oldPid);
      await waitForPidGone(oldPid);

      const res = await fetch(`${reg.url}/v2/test/restart/manifests/1`, { headers: { accept: pushed.mediaType } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), pushed.manifestDigest);
    } finally {
      await reg.stop();
    }
  });

  it('an upload interrupted by a registry crash resumes after restart()', async () => {
    const reg = await startRegistry();
    try {
      const data = crypto.randomBytes(256 * 1024);
      const digest = 'sha256:' + crypto.createHash('sha256').update(data).digest('hex');
      const start = await fetch(`${reg.url}/v2/test/upload/blobs/uploads/`, { method: 'POST' });
      assert.equal(start.status, 202);
      const patch = await fetch(new URL(start.headers.get('location')!, reg.url), {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream' },
        body: data.subarray(0, 100_000),
      });
      assert.equal(patch.status, 202);

      reg.kill('SIGKILL');
      await reg.proc.waitForExit();
      await reg.restart();

      // Same port, same storage, same upload secret: the session is still valid.
      const location = new URL(patch.headers.get('location')!, reg.url);
      location.searchParams.set('digest', digest);
      const put = await fetch(location, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: data.subarray(100_000),
      });
      assert.equal(put.status, 201);
      const blob = Buffer.from(await (await fetch(`${reg.url}/v2/test/upload/blobs/${digest}`)).arrayBuffer());
      assert.ok(blob.equals(data));
    } finally {
      await reg.stop();
    }
  });
});
