// What `gantry daemon` evaluates before it knows it is the outer process of a
// rootless start, which only waits for the daemon it re-ran in RootlessKit's
// namespaces: none of the daemon's own modules (docs/performance.md,
// "gantryd's memory"). A fresh node loads the compiled main.js, the way the
// bundle's lazy `require` does, and lists what it loaded; a static import of
// the daemon's wiring, the CRI or gRPC in main.ts (or in what it imports)
// fails this test.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const RUNTIME = path.resolve(__dirname, '../../../runtime');

/** Every module file a fresh node has loaded after requiring `file` (paths relative to out/runtime/, or node_modules/…). */
function loadedBy(file: string): string[] {
  const script = `require(${JSON.stringify(file)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
  return loaded.map((f) => (f.includes('/node_modules/') ? f.slice(f.lastIndexOf('/node_modules/') + 1) : path.relative(RUNTIME, f)));
}

describe('daemon: what a rootless start loads before it re-runs itself', () => {
  it("main.ts loads the flags, the paths and the rootless re-exec, not the daemon's modules", () => {
    const loaded = loadedBy(path.join(RUNTIME, 'daemon/main.js'));
    assert.ok(loaded.includes(path.join('daemon', 'rootless', 'reexec.js')), `the re-exec is loaded: ${loaded.join(', ')}`);
    const eager = loaded.filter(
      (f) =>
        /^daemon\/(daemon|cri|socket|containers|networks|volumes|files)\.js$/.test(f) ||
        /^(api|cri|containers|images|content|snapshots\/(select|overlay|native)|network|tasks|distribution)\//.test(f) ||
        /^node_modules\/(@grpc|undici|protobufjs|ws)\//.test(f),
    );
    assert.deepEqual(eager, [], 'evaluated before the rootless branch (each should be a require past it, in daemonMain)');
  });
});
