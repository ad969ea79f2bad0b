/**
 * The push flow, written once for `gantry push` and the extension: read the
 * user's credentials for the target registry on this side
 * (~/.docker/config.json, credential helpers), call Images/Push and walk its
 * progress stream, handing each message to the caller's handlers. How the
 * progress is drawn is the caller's (the CLI shares the pull drawing).
 * Failures are GantryErrors.
 */
import type { PushBlobProgress, PushedImage, PushStarted, RegistryAuth } from '../../api/gen/gantry/v1/images';
import { parseReference } from '../../distribution/reference';
import type { RuntimeClient } from '../client';
import { registryAuthFor } from './pull';

export interface PushRequest {
  /** A local image name: "127.0.0.1:5000/team/app:1.0"; with allTags, a repository. */
  readonly reference: string;
  readonly allTags?: boolean;
  /** "os/arch[/variant]": only that platform's manifest. */
  readonly platform?: string;
  /** Credentials already read; when the key is absent the flow reads them itself. */
  readonly auth?: RegistryAuth;
}

export interface PushHandlers {
  /** A tag starts: what it will point at. */
  onStarted?(started: PushStarted): void;
  /** One blob's progress (one line of `docker push`). */
  onBlob?(blob: PushBlobProgress): void;
}

/** The pushed tags with their digests; empty when cancelled through `signal`. */
export async function pushImage(
  client: RuntimeClient,
  request: PushRequest,
  handlers: PushHandlers = {},
  signal?: AbortSignal,
): Promise<PushedImage[]> {
  const auth = 'auth' in request ? request.auth : await registryAuthFor(parseReference(request.reference).domain);
  const pushed: PushedImage[] = [];
  const wire = { reference: request.reference, platform: request.platform ?? '', allTags: request.allTags ?? false, auth };
  for await (const message of client.images.push(wire, signal)) {
    const kind = message.kind;
    if (kind?.$case === 'started') handlers.onStarted?.(kind.value);
    else if (kind?.$case === 'blob') handlers.onBlob?.(kind.value);
    else if (kind?.$case === 'pushed') pushed.push(kind.value);
  }
  return pushed;
}
