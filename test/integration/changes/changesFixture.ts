// What the changes suites share: the fixture image, the script that changes
// a container, what `docker diff` prints for it, and how listings and tar
// names are read.
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { ChangeKind } from '../../../runtime/api/gen/gantry/v1/changes';
import type { RuntimeClient } from '../../../runtime/client';

export const CHANGES_IMAGE = {
  files: {
    '/data/keep.txt': 'kept\n',
    '/data/gone/b.txt': 'b\n',
    '/data/replaced/old.txt': 'old\n',
  },
};

/** Adds, changes and deletes: a file added, one appended to, one deleted, a directory removed, one replaced (opaque), a new tree. */
export const CHANGE_SCRIPT = [
  'echo added > /data/new.txt',
  'echo more >> /hello.txt',
  'rm /etc/gantry-fixture',
  'rm -rf /data/gone',
  'rm -rf /data/replaced && mkdir /data/replaced && echo fresh > /data/replaced/new.txt',
  'mkdir -p /srv2/x && echo y > /srv2/x/y',
  'ln -s /hello.txt /srv2/link',
].join(' && ');

/** What `docker diff` prints for CHANGE_SCRIPT (parents of changes as C, sorted by path). */
export const EXPECTED_DIFF = [
  'C /data',
  'D /data/gone',
  'A /data/new.txt',
  'C /data/replaced',
  'A /data/replaced/new.txt',
  'D /data/replaced/old.txt',
  'C /etc',
  'D /etc/gantry-fixture',
  'C /hello.txt',
  'A /srv2',
  'A /srv2/link',
  'A /srv2/x',
  'A /srv2/x/y',
];

const LETTER: Record<number, string> = {
  [ChangeKind.CHANGE_KIND_ADDED]: 'A',
  [ChangeKind.CHANGE_KIND_MODIFIED]: 'C',
  [ChangeKind.CHANGE_KIND_DELETED]: 'D',
};

/** Every path under the changed places, with type, mode, owner, size and content hash (run with the image's own sh). */
export const LISTING_SCRIPT =
  'for p in $(find /data /etc /hello.txt /srv2 2>/dev/null | grep -v -e ^/etc/hosts$ -e ^/etc/hostname$ -e ^/etc/resolv.conf$ | sort); do ' +
  'echo "$(stat -c "%n %F %a %u:%g %s" "$p") $( [ -f "$p" ] && [ ! -L "$p" ] && md5sum < "$p" | cut -c1-12)"; done';

export async function diffLines(client: RuntimeClient, id: string): Promise<string[]> {
  return (await client.containers.diff(id)).map((c) => `${LETTER[c.kind]} ${c.path}`);
}

export async function tarNames(data: Buffer): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  Readable.from([data]).pipe(extract);
  for await (const entry of extract) {
    names.push(entry.header.name);
    entry.resume();
  }
  return names;
}
