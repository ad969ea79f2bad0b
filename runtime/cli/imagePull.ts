/**
 * The CLI's side of a pull, shared by `gantry pull` and `run`/`create
 * --pull`: Docker's progress lines and status lines around the client's one
 * pull flow (pullImage in runtime/client/flows/pull.ts). `run` draws them on
 * stderr, so the container's own output on stdout stays clean.
 */
import type { Writable } from 'node:stream';
import {
  internal,
  isNotFound,
  pullImage,
  registryAuthFor,
  type BlobProgress,
  type ImageSummary,
  type PullOutcome,
  type RuntimeClient,
} from '../client';
import type { Reference } from '../distribution/distribution';
import { familiarName, familiarString, parseReference } from '../distribution/reference';
import { PullProgressView } from './pullProgress';
import type { PullPolicy } from './runOptions';

export interface PullDrawing {
  readonly platform?: string;
  /** No progress lines (`pull -q`, `--json`). */
  readonly quiet?: boolean;
  readonly signal?: AbortSignal;
}

/** Pulls `ref` with the user's credentials, drawing "Pulling from" and the per-blob lines on `out`. */
export async function pullWithProgress(
  client: RuntimeClient,
  ref: Reference,
  out: Writable,
  options: PullDrawing = {},
): Promise<PullOutcome> {
  const auth = await registryAuthFor(ref.domain);
  const view = new PullProgressView(out, Boolean((out as { isTTY?: boolean }).isTTY));
  if (!options.quiet) out.write(`${ref.tag ?? ref.digest}: Pulling from ${familiarName(ref)}\n`);
  const handlers = options.quiet ? {} : { onBlob: (blob: BlobProgress) => view.update(blob) };
  return pullImage(client, { reference: ref.toString(), platform: options.platform ?? '', auth }, handlers, options.signal);
}

/** Docker's closing lines: the digest, and whether anything was downloaded. */
export function writePullStatus(out: Writable, image: ImageSummary, downloaded: boolean): void {
  const shown = familiarString(parseReference(image.name));
  out.write(`Digest: ${image.target?.digest}\n`);
  out.write(downloaded ? `Status: Downloaded newer image for ${shown}\n` : `Status: Image is up to date for ${shown}\n`);
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
  const { image: pulled, downloaded } = await pullWithProgress(client, parseReference(image), out);
  if (!pulled) throw internal('the daemon ended the pull without a result');
  writePullStatus(out, pulled, downloaded);
}
