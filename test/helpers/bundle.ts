// OCI bundles for the task tests: a busybox root filesystem (shared,
// read-only) plus a per-container config.json made by `runc spec` and edited.
// These let tests drive runc and conmon below the container service.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Process, Spec } from '../../runtime/oci/spec';
import { populateRootfs } from './fixtures';
import { runCommand } from './proc';
import { makeTempDir } from './tmp';

let sharedRootfs: Promise<string> | undefined;

/**
 * One busybox rootfs per test process, in a temp dir of its own that no
 * suite's cleanup removes (the tmp helper removes it when the process exits).
 * `_dir` is ignored: a rootfs under a suite's dir would vanish for later suites.
 */
export function busyboxRootfs(_dir?: string): Promise<string> {
  sharedRootfs ??= (async () => {
    const rootfs = path.join(await makeTempDir('gbb'), 'busybox-rootfs');
    await fs.promises.mkdir(rootfs, { recursive: true });
    await populateRootfs(rootfs, {});
    return rootfs;
  })();
  return sharedRootfs;
}

export interface BundleOptions {
  rootfs: string;
  args: string[];
  terminal?: boolean;
  env?: string[];
  /** Edit the generated spec further. */
  edit?: (spec: RuncSpec) => void;
}

/** What `runc spec` writes: every field the tests edit is there. */
export interface RuncSpec extends Spec {
  process: Process & { env: string[] };
  mounts: NonNullable<Spec['mounts']>;
  linux: NonNullable<Spec['linux']>;
}

/** Writes `<bundle>/config.json` for the busybox rootfs (read-only root, no network namespace changes). */
export async function writeBundle(bundle: string, opts: BundleOptions): Promise<string> {
  await fs.promises.mkdir(bundle, { recursive: true });
  await runCommand('runc', ['spec', '--bundle', bundle]);
  const file = path.join(bundle, 'config.json');
  const spec = JSON.parse(await fs.promises.readFile(file, 'utf8')) as RuncSpec;
  spec.root = { path: opts.rootfs, readonly: true };
  spec.process.args = opts.args;
  spec.process.terminal = opts.terminal ?? false;
  if (opts.env) spec.process.env = [...spec.process.env, ...opts.env];
  opts.edit?.(spec);
  await fs.promises.writeFile(file, JSON.stringify(spec, null, 2));
  return bundle;
}
