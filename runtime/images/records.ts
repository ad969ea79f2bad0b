/**
 * Writing an image record the way every path (pull, tag) must: publish
 * create/update, and when the name moves away from an image nothing else
 * names, keep that image as an untagged `<none>` record (`repo@digest`), as
 * Docker does, so its content is not collected until the user prunes it.
 */
import type { Publisher } from '../events/events';
import { isUntagged, repositoryOf, type Image, type ImageStore } from './images';

export const ImageTopics = {
  create: '/images/create',
  update: '/images/update',
  delete: '/images/delete',
  /** A push finished (Docker's image "push" action); the id is the local name, `name` the remote one. */
  push: '/images/push',
} as const;

export async function putImage(images: ImageStore, events: Publisher, image: Image): Promise<Image> {
  const previous = images.get(image.name);
  const stored: Image = previous ? { ...image, createdAt: previous.createdAt } : image;
  await images.put(stored);
  const attributes = { digest: image.target.digest, id: image.id };
  if (!previous) {
    events.publish(ImageTopics.create, image.name, attributes);
    return stored;
  }
  if (previous.target.digest === image.target.digest) return stored;
  events.publish(ImageTopics.update, image.name, { ...attributes, previous: previous.target.digest });
  const stillNamed = images.list().some((i) => i.target.digest === previous.target.digest);
  if (!stillNamed && !isUntagged(previous.name)) {
    const danglingName = `${repositoryOf(previous.name)}@${previous.target.digest}`;
    await images.put({ ...previous, name: danglingName });
    events.publish(ImageTopics.create, danglingName, { digest: previous.target.digest, id: previous.id });
  }
  return stored;
}
