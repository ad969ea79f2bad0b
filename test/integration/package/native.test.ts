// The native addon in a bundle that runs without node_modules: esbuild.js's
// nativeAddons plugin copies node-unix-socket's binary to <outdir>/native/,
// the bundled attach() loads it from there, and without it everything but
// attach still loads and attach fails with a clear FailedPrecondition.
//
// A small probe (attach against a SOCK_SEQPACKET server that talks like
// conmon) is bundled with the same options as dist/gantry.js into a temp dir
// outside the checkout, so no node_modules is reachable from it.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../helpers/codeServer';
import { runCommand } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

interface EsbuildScript {
  common: Record<string, unknown>;
  nativeAddons(): unknown;
}

const PROBE = `
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attach } from ${JSON.stringify(path.join(REPO_ROOT, 'runtime/tasks/attach'))};
import { loadSeqpacket } from ${JSON.stringify(path.join(REPO_ROOT, 'runtime/tasks/seqpacket'))};
import { exec } from ${JSON.stringify(path.join(REPO_ROOT, 'runtime/tasks/exec/exec'))};

async function main(): Promise<void> {
  const [mode, dir] = process.argv.slice(2);
  if (mode === 'import-only') return void console.log(JSON.stringify({ ok: true }));
  try {
    if (mode === 'attach-only') await attach(dir!, { stdin: false });
    if (mode === 'exec-tty') {
      fs.writeFileSync(path.join(dir!, 'config.json'), JSON.stringify({ process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } } }));
      await exec({ signal: new AbortController().signal }, {
        containerId: 'c', bundle: dir!, runcPath: 'runc', conmonPath: 'conmon', runcRoot: path.join(dir!, 'runc'),
        sessionDir: path.join(dir!, 'session'), args: ['sh'], tty: true, stdin: true,
      });
    }
    // A stand-in for conmon: one stdout frame, one stderr frame, then EOF.
    const { SeqpacketServer } = loadSeqpacket('probe');
    const server = new SeqpacketServer();
    server.on('connection', (socket) => {
      socket.write(Buffer.from([2, ...Buffer.from('out')]));
      socket.write(Buffer.from([3, ...Buffer.from('err')]), 0, 4, () => socket.destroy());
    });
    server.listen(path.join(dir!, 'attach'));
    const session = await attach(dir!, { stdin: false });
    const frames: string[] = [];
    for await (const f of session) frames.push(f.stream + ':' + f.data.toString());
    server.close();
    console.log(JSON.stringify({ ok: true, frames }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, kind: (e as { kind?: string }).kind, message: (e as Error).message }));
  }
  fs.rmSync(path.join(dir!, 'attach'), { force: true });
}
void main();
`;

describe('native addon shipping (esbuild nativeAddons)', function () {
  this.timeout(60_000);
  const cleanup = suiteCleanup();
  let work: string;
  let outdir: string;

  before(async () => {
    work = await makeTempDir('gnative', cleanup);
    const entry = path.join(work, 'probe.ts');
    fs.writeFileSync(entry, PROBE);
    outdir = path.join(work, 'dist');
    const script = require(path.join(REPO_ROOT, 'esbuild.js')) as EsbuildScript;
    const esbuild = require(path.join(REPO_ROOT, 'node_modules/esbuild')) as { build(o: unknown): Promise<unknown> };
    await esbuild.build({
      ...script.common,
      sourcemap: false,
      entryPoints: [entry],
      outfile: path.join(outdir, 'probe.js'),
      plugins: [script.nativeAddons()],
      absWorkingDir: REPO_ROOT,
    });
  });

  async function probe(...args: string[]): Promise<{ ok: boolean; frames?: string[]; kind?: string; message?: string }> {
    const env = { ...process.env };
    delete env.NODE_PATH;
    const { stdout } = await runCommand(process.execPath, [path.join(outdir, 'probe.js'), ...args], { cwd: work, env });
    return JSON.parse(stdout.trim().split('\n').pop()!);
  }

  it('copies the platform binary next to the bundle and requires it from there', async () => {
    const natives = fs.readdirSync(path.join(outdir, 'native'));
    assert.equal(natives.length, 1, natives.join(', '));
    assert.match(natives[0], /^node-unix-socket\.[\w-]+\.node$/);
    const bundle = fs.readFileSync(path.join(outdir, 'probe.js'), 'utf8');
    assert.ok(bundle.includes(`require("./native/${natives[0]}")`), 'the bundle requires ./native/<binary>');
    assert.deepEqual(await probe('attach', work), { ok: true, frames: ['stdout:out', 'stderr:err'] });
  });

  it('without the binary, loads everything else and fails attach with FailedPrecondition', async () => {
    fs.rmSync(path.join(outdir, 'native'), { recursive: true });
    assert.deepEqual(await probe('import-only'), { ok: true });
    const r = await probe('attach-only', work);
    assert.equal(r.ok, false);
    assert.equal(r.kind, 'FailedPrecondition');
    assert.match(
      r.message!,
      new RegExp(`^attach needs node-unix-socket's native binary for ${process.platform}-${process.arch}, not found in ${outdir}/native`),
    );
    // A TTY exec is refused before anything starts.
    const x = await probe('exec-tty', work);
    assert.equal(x.kind, 'FailedPrecondition');
    assert.match(x.message!, /^exec with a TTY needs node-unix-socket's native binary/);
    assert.ok(!fs.existsSync(path.join(work, 'session')));
  });
});
