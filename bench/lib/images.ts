// Synthetic benchmark images, written straight to an OCI image layout (no
// umoci: unpacking and repacking a growing rootfs ten times is far slower than
// streaming tar bytes into gzip). The content is deterministic — pseudo-random
// bytes from AES-256-CTR with a fixed key, plus generated text — so the same
// spec always gives the same digests, and a built layout is cached under
// .cache/bench/images/ keyed by BENCH_IMAGE_VERSION and the spec.
import { createCipheriv, createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';

/** Bump when the generator changes in a way that changes the bytes. */
export const BENCH_IMAGE_VERSION = 'bench-images-v1';

const MiB = 1024 * 1024;
const KiB = 1024;

export interface LayerSpec {
  /** Bytes of incompressible (pseudo-random) data, split over `randomFiles` files. */
  randomBytes: number;
  randomFiles: number;
  /** Number of compressible text files and the size of each. */
  textFiles: number;
  textBytes: number;
  /**
   * Text file sizes vary, log-uniformly from `textBytes` to this (deterministic;
   * most files small, a few large, as in a distribution's tree). Default: all `textBytes`.
   */
  textBytesMax?: number;
  /** Spread the text files over subdirectories of this many files each. Default: all in one. */
  filesPerDir?: number;
}

export interface SyntheticImageSpec {
  name: string;
  layers: LayerSpec[];
}

/** ~10 small-to-medium layers (~15 MB): per-blob overhead shows here. */
export const TEN_LAYERS: SyntheticImageSpec = {
  name: 'ten',
  layers: Array.from({ length: 10 }, (_, i) => ({
    randomBytes: (i + 1) * 256 * KiB,
    randomFiles: 1,
    textFiles: 50,
    textBytes: 4 * KiB,
  })),
};

/** ~250 MB over 10 layers of mostly incompressible data: throughput shows here. */
export const BIG: SyntheticImageSpec = {
  name: 'big',
  layers: [48, 40, 32, 28, 24, 22, 20, 16, 12, 8].map((mb) => ({
    randomBytes: mb * MiB,
    randomFiles: 2,
    textFiles: 100,
    textBytes: 8 * KiB,
  })),
};

/**
 * ~250 MB unpacked (~215 MB compressed) and 25,000 files over 10 layers of
 * falling size, like a distribution image: 24,800 text files of 128 B–8 KiB
 * (log-uniform, ~1.9 KB on average) in directories of 100, plus 200
 * incompressible files of ~1 MB. Per-file costs of unpacking show here.
 */
export const BIG_FILES: SyntheticImageSpec = {
  name: 'bigfiles',
  layers: [
    [48, 6000],
    [40, 5000],
    [30, 4000],
    [24, 3000],
    [18, 2500],
    [14, 1800],
    [10, 1200],
    [8, 800],
    [5, 400],
    [3, 300],
  ].map(([mb, files]) => ({
    randomBytes: mb * MiB,
    randomFiles: mb,
    textFiles: files - mb,
    textBytes: 128,
    textBytesMax: 8 * KiB,
    filesPerDir: 100,
  })),
};

export interface BuiltLayout {
  /** OCI image layout directory. */
  dir: string;
  /** Tag of the image in index.json. */
  tag: string;
  /** Whether it was built now (false: reused from the cache). */
  built: boolean;
  buildMs: number;
}

/**
 * Returns a cached layout for `spec` under `cacheDir`, building it (into a
 * temp dir renamed into place, so an interrupted build is never reused) if
 * it is not there yet.
 */
export async function ensureLayout(cacheDir: string, spec: SyntheticImageSpec, arch: string): Promise<BuiltLayout> {
  const key = createHash('sha256')
    .update(JSON.stringify({ v: BENCH_IMAGE_VERSION, spec, arch }))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(cacheDir, `${spec.name}-${key}`);
  const tag = spec.name;
  if (fs.existsSync(path.join(dir, 'index.json'))) return { dir, tag, built: false, buildMs: 0 };
  const started = performance.now();
  await fs.promises.mkdir(cacheDir, { recursive: true });
  // Leftovers of interrupted builds.
  for (const name of await fs.promises.readdir(cacheDir)) {
    if (name.startsWith(`${spec.name}-${key}.tmp-`)) await fs.promises.rm(path.join(cacheDir, name), { recursive: true, force: true });
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    await writeLayout(tmp, spec, tag, arch);
    await fs.promises.rename(tmp, dir);
  } catch (e) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dir, tag, built: true, buildMs: performance.now() - started };
}

interface BlobDesc {
  mediaType: string;
  digest: string;
  size: number;
}

async function writeLayout(dir: string, spec: SyntheticImageSpec, tag: string, arch: string): Promise<void> {
  const blobs = path.join(dir, 'blobs', 'sha256');
  await fs.promises.mkdir(blobs, { recursive: true });
  await fs.promises.writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

  // Two layers at a time: zlib runs on the thread pool, so both cores work.
  const layers: { desc: BlobDesc; diffId: string }[] = new Array(spec.layers.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < spec.layers.length; i = next++) {
      layers[i] = await writeLayer(blobs, spec.name, i, spec.layers[i]);
    }
  };
  await Promise.all([worker(), worker()]);

  const config = {
    created: '2024-01-01T00:00:00Z',
    architecture: arch,
    os: 'linux',
    config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `gantry bench ${spec.name} layer ${i}` })),
  };
  const configDesc = await writeJsonBlob(blobs, 'application/vnd.oci.image.config.v1+json', config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: configDesc,
    layers: layers.map((l) => l.desc),
  };
  const manifestDesc = await writeJsonBlob(blobs, manifest.mediaType, manifest);
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ ...manifestDesc, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
  await fs.promises.writeFile(path.join(dir, 'index.json'), JSON.stringify(index));
}

async function writeJsonBlob(blobs: string, mediaType: string, value: unknown): Promise<BlobDesc> {
  const bytes = Buffer.from(JSON.stringify(value));
  const hex = createHash('sha256').update(bytes).digest('hex');
  await fs.promises.writeFile(path.join(blobs, hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

async function writeLayer(blobs: string, image: string, index: number, spec: LayerSpec): Promise<{ desc: BlobDesc; diffId: string }> {
  const diff = createHash('sha256');
  const compressed = createHash('sha256');
  let size = 0;
  const tmp = path.join(blobs, `.tmp-${randomUUID()}`);
  await pipeline(
    Readable.from(layerTar(image, index, spec)),
    tap((c) => diff.update(c)),
    // Level 1: the compression level does not matter to a fetch, build time does.
    zlib.createGzip({ level: 1 }),
    tap((c) => {
      compressed.update(c);
      size += c.length;
    }),
    fs.createWriteStream(tmp),
  );
  const hex = compressed.digest('hex');
  await fs.promises.rename(tmp, path.join(blobs, hex));
  return {
    desc: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${hex}`, size },
    diffId: `sha256:${diff.digest('hex')}`,
  };
}

function tap(fn: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      fn(chunk);
      cb(null, chunk);
    },
  });
}

// ---- tar (ustar) ----

async function* layerTar(image: string, index: number, spec: LayerSpec): AsyncGenerator<Buffer> {
  const top = `data/${image}-layer${index}`;
  yield tarHeader('data/', 0, '5');
  yield tarHeader(`${top}/`, 0, '5');
  yield tarHeader(`${top}/text/`, 0, '5');
  const rng = mulberry32(hashSeed(`${image}/${index}/text`));
  const sizeRng = mulberry32(hashSeed(`${image}/${index}/sizes`));
  for (let f = 0; f < spec.textFiles; f++) {
    let dir = `${top}/text`;
    if (spec.filesPerDir) {
      dir += `/d${String(Math.floor(f / spec.filesPerDir)).padStart(3, '0')}`;
      if (f % spec.filesPerDir === 0) yield tarHeader(`${dir}/`, 0, '5');
    }
    const size = spec.textBytesMax ? Math.round(spec.textBytes * (spec.textBytesMax / spec.textBytes) ** sizeRng()) : spec.textBytes;
    const body = text(rng, size);
    yield tarHeader(`${dir}/file-${f}.txt`, body.length, '0');
    yield body;
    yield padding(body.length);
  }
  const perFile = Math.floor(spec.randomBytes / Math.max(1, spec.randomFiles));
  for (let f = 0; f < spec.randomFiles && perFile > 0; f++) {
    yield tarHeader(`${top}/blob-${f}.bin`, perFile, '0');
    yield* pseudoRandom(`${image}/${index}/blob-${f}`, perFile);
    yield padding(perFile);
  }
  yield Buffer.alloc(1024); // end of archive
}

function tarHeader(name: string, size: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 99) throw new Error(`tar name too long: ${name}`);
  const h = Buffer.alloc(512);
  const put = (offset: number, length: number, value: string) => h.write(value, offset, length, 'ascii');
  const octal = (offset: number, length: number, value: number) => put(offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
  put(0, 100, name);
  octal(100, 8, type === '5' ? 0o755 : 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 1704067200); // 2024-01-01
  put(148, 8, '        ');
  put(156, 1, type);
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  put(265, 32, 'root');
  put(297, 32, 'root');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** Deterministic incompressible bytes: AES-256-CTR over zeros, keyed by `seed`. */
function* pseudoRandom(seed: string, size: number): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(MiB);
  for (let left = size; left > 0; left -= MiB) {
    yield cipher.update(left >= MiB ? zeros : zeros.subarray(0, left));
  }
}

const WORDS = (
  'the quick brown fox jumps over lazy dog container image layer registry manifest digest blob content ' +
  'store verify fetch pull push index config platform runtime daemon socket request response stream'
).split(' ');

/** Log-like lines, compressible roughly 3–4x by gzip. */
function text(rng: () => number, size: number): Buffer {
  let s = '';
  let line = 0;
  while (s.length < size) {
    s += `${String(line++).padStart(6, '0')} `;
    const n = 6 + Math.floor(rng() * 10);
    for (let w = 0; w < n; w++) s += WORDS[Math.floor(rng() * WORDS.length)] + ' ';
    s += `${Math.floor(rng() * 1e9).toString(16)}\n`;
  }
  return Buffer.from(s.slice(0, size));
}

function hashSeed(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32LE(0);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
