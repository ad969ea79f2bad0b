/**
 * The wire encoding of the archive chunks of Save (daemon → CLI) and Load
 * (CLI → daemon), `{bytes data = 1}`, written directly: one tag byte, the length as a varint, the bytes — one
 * copy into one buffer of the right size. The generated encoder grows a
 * BinaryWriter buffer while copying and joins it again in `finish()`; for the
 * ~1 MiB messages of a save that was ~0.4 s of CPU per 265 MB, plus its
 * garbage (docs/performance.md, "Transfer"). The bytes are the same as the
 * generated encoder's (test/unit/api/chunkCodec.test.ts).
 */
import type { Metadata, CallOptions, ClientWritableStream, ServiceError } from '@grpc/grpc-js';
import {
  ImagesService,
  type ImagesClient,
  type LoadImagesChunk,
  type LoadImagesResponse,
  type SaveImagesChunk,
} from './gen/gantry/v1/images';

/** Field 1, wire type 2 (length-delimited). */
const DATA_TAG = (1 << 3) | 2;

export function encodeBytesChunk(message: { data: Uint8Array }): Buffer {
  const data = message.data;
  // proto3: an empty bytes field is not written at all.
  if (!data.length) return Buffer.alloc(0);
  let varintLength = 1;
  for (let n = data.length; n >= 0x80; n = Math.floor(n / 0x80)) varintLength++;
  const out = Buffer.allocUnsafe(1 + varintLength + data.length);
  out[0] = DATA_TAG;
  let pos = 1;
  let n = data.length;
  while (n >= 0x80) {
    out[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[pos++] = n;
  out.set(data, pos);
  return out;
}

/** The Images service definition, with Save's chunks encoded by `encodeBytesChunk`. */
export function imagesServiceDefinition(): typeof ImagesService {
  return {
    ...ImagesService,
    save: { ...ImagesService.save, responseSerialize: (value: SaveImagesChunk): Buffer => encodeBytesChunk(value) },
  };
}

/** `client.load` of the generated client, with each chunk encoded by `encodeBytesChunk`. */
export function loadWithChunkCodec(
  client: ImagesClient,
): (
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: LoadImagesResponse) => void,
) => ClientWritableStream<LoadImagesChunk> {
  return (metadata, options, callback) =>
    client.makeClientStreamRequest(
      ImagesService.load.path,
      (value: LoadImagesChunk) => encodeBytesChunk(value),
      ImagesService.load.responseDeserialize,
      metadata,
      options,
      // grpc-js passes no response only together with an error.
      (error, response) => callback(error, response!),
    );
}
