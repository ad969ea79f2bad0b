// The syscall probe program (test/fixtures/probes.c) compiled with
// `gcc -static` (Debian gcc + libc6-dev, which has libc.a), once per test
// run, for fixture images that run it in a container.
import * as path from 'node:path';
import { REPO_ROOT } from './codeServer';
import { runCommand } from './proc';
import { makeTempDir } from './tmp';

let built: Promise<string> | undefined;

/** Path of the static probes binary on the host. Never run it on the host with mount/unshare_uts/setns. */
export function probesBinary(): Promise<string> {
  built ??= (async () => {
    const out = path.join(await makeTempDir('gprobe'), 'probes');
    await runCommand('gcc', ['-static', '-O2', '-Wall', '-o', out, path.join(REPO_ROOT, 'test/fixtures/probes.c'), '-lpthread']);
    return out;
  })();
  return built;
}
