// Save's and Load's archive chunks encoded by hand (runtime/api/chunkCodec.ts): the same bytes as
// the generated encoder, decoded back to the same data, at every varint length boundary.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LoadImagesChunk, SaveImagesChunk } from '../../../runtime/api/gen/gantry/v1/images';
import { encodeBytesChunk, imagesServiceDefinition } from '../../../runtime/api/chunkCodec';

describe('Save and Load chunk encoding', () => {
  for (const size of [0, 1, 127, 128, 16_383, 16_384, 1024 * 1024, 2_097_151, 2_097_152, 3 * 1024 * 1024 + 7]) {
    it(`encodes ${size} bytes as the generated encoder does`, () => {
      const data = randomBytes(size);
      const fast = encodeBytesChunk({ data });
      const generated = Buffer.from(SaveImagesChunk.encode({ data }).finish());
      assert.ok(
        fast.equals(generated),
        `size ${size}: ${fast.subarray(0, 6).toString('hex')} vs ${generated.subarray(0, 6).toString('hex')}`,
      );
      assert.ok(SaveImagesChunk.decode(fast).data.equals(data));
      assert.ok(fast.equals(Buffer.from(LoadImagesChunk.encode({ data }).finish())), 'Load chunks are the same message');
    });
  }

  it('is the serializer of Save responses in the service definition, and only that one changes', () => {
    const def = imagesServiceDefinition();
    const data = randomBytes(300);
    assert.ok(def.save.responseSerialize({ data }).equals(Buffer.from(SaveImagesChunk.encode({ data }).finish())));
    assert.equal(def.load, imagesServiceDefinition().load);
    assert.equal(def.save.path, '/gantry.v1.Images/Save');
  });
});
