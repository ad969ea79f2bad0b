import * as assert from 'node:assert/strict';
import { parseConfig, parseIndex, parseManifest } from '../../../runtime/oci/manifest';
import { isGantryError } from '../../../runtime/errdefs/errdefs';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const invalid = (pattern: RegExp) => (e: unknown) => isGantryError(e) && e.kind === 'InvalidArgument' && pattern.test(e.message);

const manifest = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('a'), size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest('b'), size: 20 }],
};

describe('manifest parsing', () => {
  it('accepts OCI and Docker schema2 manifests', () => {
    assert.equal(parseManifest(json(manifest), '').layers.length, 1);
    const docker = {
      ...manifest,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { ...manifest.config, mediaType: 'application/vnd.docker.container.image.v1+json' },
      layers: [{ ...manifest.layers[0], mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }],
    };
    assert.equal(parseManifest(json(docker), '').mediaType, docker.mediaType);
    // OCI manifests may omit mediaType; the registry's Content-Type fills in.
    const { mediaType: _omitted, ...bare } = manifest;
    assert.equal(parseManifest(json(bare), 'application/vnd.oci.image.manifest.v1+json').mediaType, manifest.mediaType);
  });

  it('refuses malformed and unsupported documents, naming what is wrong', () => {
    assert.throws(() => parseManifest(Buffer.from('{"schemaVersion": 2,'), '', 'manifest X'), invalid(/malformed manifest X/));
    assert.throws(() => parseManifest(Buffer.from('[]'), ''), invalid(/not a JSON object/));
    assert.throws(() => parseManifest(json({ ...manifest, schemaVersion: 1 }), ''), invalid(/schemaVersion 1/));
    assert.throws(
      () => parseManifest(json({ ...manifest, layers: [{ ...manifest.layers[0], mediaType: 'application/x-unknown' }] }), ''),
      invalid(/layer 0 .* unsupported media type application\/x-unknown/),
    );
    assert.throws(
      () => parseManifest(json({ ...manifest, config: { ...manifest.config, mediaType: 'application/vnd.example.artifact' } }), ''),
      invalid(/config has unsupported media type/),
    );
    assert.throws(
      () => parseManifest(json({ ...manifest, config: { ...manifest.config, digest: 'sha256:../../x' } }), ''),
      invalid(/invalid digest/),
    );
    assert.throws(() => parseManifest(json({ ...manifest, config: { ...manifest.config, size: -1 } }), ''), invalid(/invalid size/));
    assert.throws(
      () => parseManifest(json({ ...manifest, mediaType: 'application/vnd.oci.image.index.v1+json' }), ''),
      invalid(/unsupported media type/),
    );
  });

  it('parses indexes and refuses manifests passed as indexes', () => {
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ ...manifest.config, mediaType: manifest.mediaType }],
    };
    assert.equal(parseIndex(json(index), '').manifests.length, 1);
    assert.throws(() => parseIndex(json(manifest), ''), invalid(/not an index/));
    assert.throws(() => parseIndex(json({ ...index, manifests: {} }), ''), invalid(/manifests is not a list/));
  });

  it('validates image configs', () => {
    const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digest('c')] } };
    assert.equal(parseConfig(json(config)).os, 'linux');
    assert.throws(() => parseConfig(json({ ...config, os: undefined })), invalid(/architecture and os are required/));
    assert.throws(() => parseConfig(json({ ...config, rootfs: { type: 'layers', diff_ids: ['nope'] } })), invalid(/invalid diff_id/));
  });
});
