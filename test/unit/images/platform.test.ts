import * as assert from 'node:assert/strict';
import { formatPlatform, matches, normalize, parsePlatform, selectManifest } from '../../../runtime/images/platform';
import type { Descriptor } from '../../../runtime/oci/descriptor';

const d = (arch: string, variant?: string, os = 'linux'): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${arch
    .padEnd(64, '0')
    .slice(0, 64)
    .replace(/[^a-f0-9]/g, 'a')}`,
  size: 1,
  platform: { os, architecture: arch, ...(variant ? { variant } : {}) },
});

describe('platforms', () => {
  it('parses os/arch[/variant] and refuses nonsense', () => {
    assert.deepEqual(parsePlatform('linux/arm64'), { os: 'linux', architecture: 'arm64' });
    assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.deepEqual(parsePlatform('arm64'), { os: 'linux', architecture: 'arm64' });
    assert.deepEqual(parsePlatform('Linux/AMD64'), { os: 'linux', architecture: 'amd64' });
    for (const bad of ['', 'linux/', 'a/b/c/d', 'linux/amd64;rm']) assert.throws(() => parsePlatform(bad), /invalid platform/);
  });

  it('normalises common aliases', () => {
    assert.deepEqual(normalize({ os: 'linux', architecture: 'aarch64' }), { os: 'linux', architecture: 'arm64' });
    assert.deepEqual(normalize({ os: 'linux', architecture: 'arm64', variant: 'v8' }), { os: 'linux', architecture: 'arm64' });
    assert.deepEqual(normalize({ os: 'linux', architecture: 'x86_64' }), { os: 'linux', architecture: 'amd64' });
    assert.equal(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v6' }), 'linux/arm/v6');
  });

  it('matches older arm variants on newer machines, never the reverse', () => {
    assert.ok(matches({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' }));
    assert.ok(!matches({ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm', variant: 'v7' }));
    assert.ok(!matches({ os: 'linux', architecture: 'amd64' }, { os: 'windows', architecture: 'amd64' }));
  });

  it('selects the exact platform first, then the best compatible one', () => {
    const index = [d('amd64'), d('arm', 'v6'), d('arm', 'v7'), d('arm64', 'v8'), d('amd64', undefined, 'windows')];
    assert.equal(selectManifest(index, { os: 'linux', architecture: 'amd64' }), index[0]);
    assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm', variant: 'v7' }), index[2]);
    assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm', variant: 'v8' }), index[2]);
    assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm64' }), index[3]);
    assert.equal(selectManifest(index, { os: 'linux', architecture: 's390x' }), undefined);
  });
});
