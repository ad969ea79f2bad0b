import { strict as assert } from 'node:assert';
import { isInvalidArgument } from '../../../runtime/errdefs/errdefs';
import { displayName, displayRepository, imageReference, shortId } from '../../../runtime/presentation';

describe('presentation: short IDs and image names', () => {
  const hex = '0123456789abcdef'.repeat(4);

  it('shortens container IDs, image IDs and blob digests to 12 hex digits', () => {
    assert.equal(shortId(hex), '0123456789ab');
    assert.equal(shortId(`sha256:${hex}`), '0123456789ab');
    assert.equal(shortId(`sha512:${hex}${hex}`), '0123456789ab');
    assert.equal(shortId(''), '');
  });

  it('reads a typed reference: the name the API takes, the familiar form, the registry', () => {
    assert.deepEqual(imageReference('busybox'), {
      name: 'docker.io/library/busybox:latest',
      shown: 'busybox:latest',
      registry: 'docker.io',
    });
    assert.deepEqual(imageReference('127.0.0.1:5000/team/app:1.2'), {
      name: '127.0.0.1:5000/team/app:1.2',
      shown: '127.0.0.1:5000/team/app:1.2',
      registry: '127.0.0.1:5000',
    });
    const pinned = imageReference(`me/app@sha256:${hex}`);
    assert.equal(pinned.digest, `sha256:${hex}`);
    assert.equal(pinned.shown, `me/app@sha256:${hex}`);
    assert.throws(
      () => imageReference('Busybox'),
      (e: unknown) => isInvalidArgument(e),
    );
  });

  it('shows record names familiar, and leaves what does not parse as it is', () => {
    assert.equal(displayName('docker.io/library/busybox:latest'), 'busybox:latest');
    assert.equal(displayRepository('docker.io/library/busybox'), 'busybox');
    assert.equal(displayRepository('docker.io/library/busybox:1.36'), 'busybox');
    assert.equal(displayRepository(`docker.io/me/app@sha256:${hex}`), 'me/app');
    assert.equal(displayRepository('127.0.0.1:5000/app'), '127.0.0.1:5000/app');
    assert.equal(displayName('not a name'), 'not a name');
  });
});
