/**
 * The image half of `run`/`create --pull`: make sure the image is there,
 * pulling it the way `gantry pull` does (credentials from the Docker config,
 * Docker's progress lines) but onto stderr, so the container's own output on
 * stdout stays clean.
 */
import type { Writable } from 'node:stream';
import { RuntimeClient, toWireAuth } from '../client/client';
import { BlobStatus, type ImageSummary } from '../api/gen/gantry/v1/images';
import { getCredentials } from '../distribution/credentials';
import { familiarName, familiarString, parseReference } from '../distribution/reference';
import { internal, isNotFound } from '../errdefs/errdefs';
import { PullProgressView } from './pullProgress';
import type { PullPolicy } from './runOptions';

/** Pulls `reference`, drawing progress on `out`; resolves to the stored image. */
export async function pullImage(client: RuntimeClient, reference: string, out: Writable, signal?: AbortSignal): Promise<ImageSummary> {
  const ref = parseReference(reference);
  const auth = await getCredentials(ref.domain);
  const view = new PullProgressView(out, Boolean((out as { isTTY?: boolean }).isTTY));
  out.write(`${ref.tag ?? ref.digest}: Pulling from ${familiarName(ref)}\n`);
  let image: ImageSummary | undefined;
  let downloaded = false;
  const request = { reference: ref.toString(), platform: '', auth: toWireAuth(auth) };
  for await (const message of client.images.pull(request, signal)) {
    const kind = message.kind;
    if (kind?.$case === 'blob') {
      if (kind.value.status === BlobStatus.BLOB_STATUS_DONE) downloaded = true;
      view.update(kind.value);
    } else if (kind?.$case === 'image') {
      image = kind.value;
    }
  }
  if (!image) throw internal('the daemon ended the pull without a result');
  const shown = familiarString(parseReference(image.name));
  out.write(`Digest: ${image.target?.digest}\n`);
  out.write(downloaded ? `Status: Downloaded newer image for ${shown}\n` : `Status: Image is up to date for ${shown}\n`);
  return image;
}

/** Docker's --pull: `always` pulls, `missing` pulls only when the daemon does not have it, `never` leaves it to create. */
export async function ensureImage(client: RuntimeClient, image: string, policy: PullPolicy, out: Writable): Promise<void> {
  if (policy === 'never') return;
  if (policy === 'missing') {
    try {
      await client.images.inspect(image);
      return;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    out.write(`Unable to find image '${image}' locally\n`);
  }
  await pullImage(client, image, out);
}
