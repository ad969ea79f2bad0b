// The benchmark images, pushed into a run's own registry: `small` is the
// busybox test fixture (test/helpers/fixtures.ts), the others are generated
// by images.ts into a cached OCI layout and pushed with skopeo.
import * as http from 'node:http';
import * as path from 'node:path';
import { pushBusybox } from '../../test/helpers/fixtures';
import { runCommand } from '../../test/helpers/proc';
import type { Registry } from '../../test/helpers/registry';
import { BIG, BIG_FILES, ensureLayout, TEN_LAYERS, type SyntheticImageSpec } from './images';
import { REPO } from './report';

export const CACHE_DIR = path.join(REPO, '.cache/bench/images');

export const IMAGE_IDS = ['small', 'ten', 'big', 'bigfiles'] as const;
export type ImageId = (typeof IMAGE_IDS)[number];

const SPECS: Record<Exclude<ImageId, 'small'>, SyntheticImageSpec> = { ten: TEN_LAYERS, big: BIG, bigfiles: BIG_FILES };

export interface LayerDesc {
  digest: string;
  size: number;
  mediaType: string;
}

export interface BenchImage {
  id: ImageId;
  ref: string;
  /** Tag (skopeo's oci: destination needs one). */
  tag: string;
  blobs: number;
  layers: LayerDesc[];
  /** Manifest + config + layers, as stored. */
  bytes: number;
  manifestDigest: string;
  prepared: { source: string; buildMs: number; pushMs: number };
}

/** Builds (or takes from the cache) and pushes image `id` as bench/ID:v1. */
export async function prepareImage(id: ImageId, registry: Registry, workDir: string): Promise<BenchImage> {
  const repo = `bench/${id}`;
  const tag = 'v1';
  let source: string;
  let buildMs = 0;
  const t0 = performance.now();
  if (id === 'small') {
    // The test fixture: Debian's static busybox in one layer, built with umoci.
    await pushBusybox(registry, `${repo}:${tag}`);
    source = 'test/helpers/fixtures.ts pushBusybox (umoci)';
  } else {
    const layout = await ensureLayout(CACHE_DIR, SPECS[id], hostArch());
    buildMs = layout.buildMs;
    source = `${path.relative(REPO, layout.dir)} (${layout.built ? `built in ${(buildMs / 1000).toFixed(1)} s` : 'cached'})`;
    const digestFile = path.join(workDir, `push-${id}.digest`);
    await runCommand(
      'skopeo',
      [
        'copy',
        '--quiet',
        '--format',
        'oci',
        '--dest-tls-verify=false',
        '--digestfile',
        digestFile,
        `oci:${layout.dir}:${layout.tag}`,
        `docker://${registry.host}/${repo}:${tag}`,
      ],
      { timeout: 600_000 },
    );
  }
  const pushMs = performance.now() - t0 - buildMs;
  const { manifest, digest, size } = await getManifest(registry, repo, tag);
  return {
    id,
    ref: `${registry.host}/${repo}:${tag}`,
    tag,
    blobs: 2 + manifest.layers.length,
    layers: manifest.layers.map(({ digest, size, mediaType }) => ({ digest, size, mediaType })),
    bytes: size + manifest.config.size + manifest.layers.reduce((a, l) => a + l.size, 0),
    manifestDigest: digest,
    prepared: { source, buildMs, pushMs },
  };
}

interface ManifestDoc {
  config: { size: number };
  layers: LayerDesc[];
}

function getManifest(registry: Registry, repo: string, tag: string): Promise<{ manifest: ManifestDoc; digest: string; size: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${registry.url}/v2/${repo}/manifests/${tag}`,
      { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`GET manifest ${repo}:${tag}: HTTP ${res.statusCode}`));
          const body = Buffer.concat(chunks);
          resolve({
            manifest: JSON.parse(body.toString()) as ManifestDoc,
            digest: String(res.headers['docker-content-digest']),
            size: body.length,
          });
        });
      },
    );
    req.on('error', reject);
  });
}

export function hostArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
}
