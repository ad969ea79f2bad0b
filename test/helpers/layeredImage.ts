// An image whose layers add, change and delete files — whiteouts, an opaque
// directory, a path deleted and made again — with a Docker-like history
// (empty_layer entries between), for the layer explorer's tests
// (integration, VS Code and UI suites; docs/layers.md).
import { pushLayers, type PushedImage, type PushTarget } from './fixtures';
import { buildTar, gzip, MEDIA, sha256, type TarEntry } from './tarBuilder';

export const LAYERS: TarEntry[][] = [
  [
    { name: 'etc/', type: 'dir' },
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
    { name: 'etc/hosts', content: '127.0.0.1 localhost\n' },
    { name: 'app/', type: 'dir' },
    { name: 'app/a', content: 'a1' },
    { name: 'app/sub/', type: 'dir' },
    { name: 'app/sub/b', content: 'b1' },
    { name: 'gone/', type: 'dir' },
    { name: 'gone/x', content: 'x' },
    { name: 'link', type: 'symlink', linkname: '/etc/passwd' },
  ],
  [
    { name: 'etc/', type: 'dir' },
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' },
    { name: 'etc/.wh.hosts', content: '' },
    { name: '.wh.gone', content: '' },
    { name: 'app/', type: 'dir' },
    { name: 'app/.wh..wh..opq', content: '' },
    { name: 'app/a', content: 'a2 replaced under an opaque directory' },
    { name: 'app/fresh', content: 'new' },
    { name: 'new/', type: 'dir' },
    { name: 'new/file', content: 'n' },
  ],
  [
    { name: 'gone', content: 'back as a file' },
    { name: 'app/', type: 'dir' },
    { name: 'app/.wh.fresh', content: '' },
    { name: 'etc/', type: 'dir' },
    { name: 'etc/hosts', content: '127.0.0.1 again\n' },
  ],
];

export const HISTORY = [
  { created: '2024-01-02T03:04:05Z', created_by: '/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef in / ' },
  { created: '2024-01-02T03:04:06Z', created_by: '/bin/sh -c #(nop)  ENV PATH=/usr/local/bin:/usr/bin', empty_layer: true },
  {
    created: '2024-01-03T00:00:00Z',
    created_by: 'RUN /bin/sh -c adduser user && rm -rf /etc/hosts /gone # buildkit',
    comment: 'buildkit.dockerfile.v0',
  },
  { created: '2024-01-04T00:00:00Z', created_by: 'CMD ["sh"]', empty_layer: true, comment: 'buildkit.dockerfile.v0' },
  { created: '2024-01-05T00:00:00Z', created_by: 'COPY gone /gone # buildkit', author: 'tester' },
];

/** The layer blobs as pushed (gzip), bottom first. */
export function layeredBlobs(): Buffer[] {
  return LAYERS.map((entries) => gzip(buildTar(entries)));
}

/** Pushes the layered image as `name` (e.g. "gantry-test/layered:1"). */
export async function pushLayeredImage(target: PushTarget, name: string): Promise<PushedImage> {
  const tars = LAYERS.map((entries) => buildTar(entries));
  return pushLayers(
    target,
    name,
    tars.map((t) => ({ blob: gzip(t), mediaType: MEDIA.gzip, diffId: sha256(t) })),
    { created: '2024-01-05T00:00:00Z', history: HISTORY },
  );
}
