/**
 * The pull flow, written once for `gantry pull`, `run --pull` and the
 * extension's Pull…: read the user's registry credentials on this side
 * (~/.docker/config.json, as Docker does), call Images/Pull and walk its
 * progress stream, handing each message to the caller's handlers. How the
 * progress is drawn (Docker's lines, a notification) is the caller's.
 *
 * The stream ends with the image record; `image` is undefined when it ended
 * without one (cancelled through `signal`, or a daemon that broke off): the
 * caller says which. Failures are GantryErrors.
 */
import { BlobStatus, type BlobProgress, type ImageSummary, type PullResolved, type RegistryAuth } from '../../api/gen/gantry/v1/images';
import { getCredentials } from '../../distribution/credentials';
import { parseReference } from '../../distribution/reference';
import type { RuntimeClient } from '../client';
import { toWireAuth } from '../imagesApi';

export interface PullRequest {
  /** The normalised reference: "docker.io/library/busybox:latest". */
  readonly reference: string;
  /** "os/arch[/variant]"; '' or undefined = the daemon's platform. */
  readonly platform?: string;
  /** Credentials already read (registryAuthFor); when the key is absent the flow reads them itself. */
  readonly auth?: RegistryAuth;
}

export interface PullHandlers {
  /** The registry resolved the reference to a digest; no blob has moved yet. */
  onResolved?(resolved: PullResolved): void;
  /** One blob's progress (one line of `docker pull`). */
  onBlob?(blob: BlobProgress): void;
}

export interface PullOutcome {
  /** The stored image; undefined when the stream ended without it. */
  readonly image: ImageSummary | undefined;
  /** Some blob was downloaded (Docker's "Downloaded newer image" rather than "Image is up to date"). */
  readonly downloaded: boolean;
}

/** The user's credentials for `registry` ("docker.io", "127.0.0.1:5000") as the Pull and Login requests carry them. */
export async function registryAuthFor(registry: string): Promise<RegistryAuth | undefined> {
  return toWireAuth(await getCredentials(registry));
}

export async function pullImage(
  client: RuntimeClient,
  request: PullRequest,
  handlers: PullHandlers = {},
  signal?: AbortSignal,
): Promise<PullOutcome> {
  const auth = 'auth' in request ? request.auth : await registryAuthFor(parseReference(request.reference).domain);
  let image: ImageSummary | undefined;
  let downloaded = false;
  const wire = { reference: request.reference, platform: request.platform ?? '', auth };
  for await (const message of client.images.pull(wire, signal)) {
    const kind = message.kind;
    if (kind?.$case === 'resolved') {
      handlers.onResolved?.(kind.value);
    } else if (kind?.$case === 'blob') {
      if (kind.value.status === BlobStatus.BLOB_STATUS_DONE) downloaded = true;
      handlers.onBlob?.(kind.value);
    } else if (kind?.$case === 'image') {
      image = kind.value;
    }
  }
  return { image, downloaded };
}
