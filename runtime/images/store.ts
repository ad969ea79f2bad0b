/**
 * The image record store: every record in memory, persisted as one JSON
 * document written atomically on each change (`<root>/metadata/images.json`).
 * Listing is free; a change costs one small fsynced write. Serialised
 * through a promise chain so concurrent changes never interleave their writes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { notFound } from '../errdefs/errdefs';
import { writeFileAtomic } from '../util/atomicfile';
import type { Image, ImageStore } from './images';

interface StoredImage extends Omit<Image, 'createdAt' | 'updatedAt'> {
  createdAt: string;
  updatedAt: string;
}

export class FileImageStore implements ImageStore {
  private readonly images = new Map<string, Image>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {}

  static async open(metadataDir: string): Promise<FileImageStore> {
    await fs.promises.mkdir(metadataDir, { recursive: true, mode: 0o700 });
    const store = new FileImageStore(path.join(metadataDir, 'images.json'));
    let stored: StoredImage[] = [];
    try {
      stored = (JSON.parse(await fs.promises.readFile(store.file, 'utf8')) as { images: StoredImage[] }).images;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const s of stored) {
      store.images.set(s.name, { ...s, createdAt: new Date(s.createdAt), updatedAt: new Date(s.updatedAt) });
    }
    return store;
  }

  get(name: string): Image | undefined {
    return this.images.get(name);
  }

  list(): Image[] {
    return [...this.images.values()];
  }

  async put(image: Image): Promise<Image | undefined> {
    const previous = this.images.get(image.name);
    this.images.set(image.name, image);
    await this.persist();
    return previous;
  }

  async delete(name: string): Promise<Image> {
    const image = this.images.get(name);
    if (!image) throw notFound(`image ${name}: not found`);
    this.images.delete(name);
    await this.persist();
    return image;
  }

  private persist(): Promise<void> {
    const snapshot = JSON.stringify({ version: 1, images: this.list() });
    this.writes = this.writes.catch(() => undefined).then(() => writeFileAtomic(this.file, snapshot, 0o600));
    return this.writes;
  }
}
