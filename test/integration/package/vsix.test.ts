// `npm run package` end to end: the .vsix a user installs. The script runs in
// a copy of the checkout (sources, manifest, .vscodeignore; node_modules
// linked), so its production build never replaces the dist/ that other suites
// run against; its dist-vsix/ is that copy's. The archive's entries are read
// from the zip's central directory, and the package is installed into a
// throwaway code-server extensions dir, as `code-server --install-extension`
// does for users.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUNTIME_FILES } from '../../../runtime/loader/bundles';
import { REPO_ROOT, codeServerBin } from '../../helpers/codeServer';
import { runCommand, type RunResult } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

// What the package script needs is the source tree; these are outputs, caches
// or history, never inputs.
const NOT_COPIED = new Set(['node_modules', '.git', 'out', 'dist', 'dist-vsix', '.cache', 'test-output']);

// Nothing under these may ship (a prefix of the path inside extension/).
const FORBIDDEN_DIRS = [
  'src/',
  'runtime/',
  'test/',
  'node_modules/',
  'out/',
  '.cache/',
  'scripts/',
  'bench/',
  'docs/',
  '.ci/',
  '.git/',
  '.vscode/',
];

/** Names of the entries of a zip archive, from its central directory (no zip64: a .vsix is small). */
function zipEntries(zip: Buffer): string[] {
  const EOCD = 0x06054b50;
  const CENTRAL = 0x02014b50;
  // The end-of-central-directory record is 22 bytes plus a comment of at most 64 KiB.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive: no end-of-central-directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(offset) !== CENTRAL) throw new Error(`bad central directory entry at ${offset}`);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

describe('npm run package (.vsix)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
  let work: string;
  let vsix: string;
  let output: RunResult;
  let entries: string[];

  before(async () => {
    work = await makeTempDir('gvsix', cleanup);
    const checkout = path.join(work, 'src');
    fs.cpSync(REPO_ROOT, checkout, {
      recursive: true,
      filter: (from) => path.dirname(from) !== REPO_ROOT || !NOT_COPIED.has(path.basename(from)),
    });
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(checkout, 'node_modules'));
    // The script as package.json has it: production build, then vsce into dist-vsix/.
    // stdout is not a terminal here, so vsce answers its own questions with yes;
    // the warnings it prints instead are checked below.
    output = await runCommand('npm', ['run', '--silent', 'package'], { cwd: checkout, timeout: 150_000 });
    const outDir = path.join(checkout, 'dist-vsix');
    const built = fs.readdirSync(outDir).filter((f) => f.endsWith('.vsix'));
    assert.deepEqual(built, [`${pkg.name}-${pkg.version}.vsix`], `dist-vsix/ holds ${built.join(', ') || 'nothing'}`);
    vsix = path.join(outDir, built[0]);
    entries = zipEntries(fs.readFileSync(vsix));
  });

  it('needs no answer from whoever runs it (vsce printed no warning)', () => {
    // Each of vsce's warnings (missing repository field, LICENSE, …) is a
    // "Do you want to continue? [y/N]" prompt when run in a terminal.
    const text = output.stdout + output.stderr;
    const warnings = text.split('\n').filter((l) => /\bWARNING\b/.test(l));
    assert.deepEqual(warnings, [], `vsce warned:\n${text}`);
  });

  it('contains the bundles, the icon, the manifest, README and LICENSE', () => {
    for (const entry of [
      'extension/dist/extension.js',
      'extension/dist/gantry.js',
      'extension/media/gantry.svg',
      'extension/package.json',
      'extension/package.nls.json',
      'extension.vsixmanifest',
    ]) {
      assert.ok(entries.includes(entry), `${entry} is missing from the .vsix:\n${entries.join('\n')}`);
    }
    // vsce stores README.md as extension/readme.md and LICENSE as LICENSE.txt.
    assert.ok(
      entries.some((e) => /^extension\/readme\.md$/i.test(e)),
      `no README in the .vsix:\n${entries.join('\n')}`,
    );
    assert.ok(
      entries.some((e) => /^extension\/license(\.txt|\.md)?$/i.test(e)),
      `no LICENSE in the .vsix:\n${entries.join('\n')}`,
    );
  });

  it('contains nothing from sources, tests, scripts, caches or source maps', () => {
    const inside = entries.filter((e) => e.startsWith('extension/')).map((e) => e.slice('extension/'.length));
    const leaked = inside.filter((e) => FORBIDDEN_DIRS.some((d) => e.startsWith(d)) || e.endsWith('.map') || e.endsWith('.ts'));
    assert.deepEqual(leaked, [], `these should not ship:\n${leaked.join('\n')}`);
    // Only dist/ bundles: the extension, the runtime (its loader and two bundles,
    // runtime/loader/bundles.ts) and the native addon gantryd loads from
    // dist/native/ (node-unix-socket, for the build host's platform).
    const dist = inside.filter((e) => e.startsWith('dist/')).sort();
    assert.deepEqual(
      dist.filter((e) => !e.startsWith('dist/native/')),
      ['dist/extension.js', ...RUNTIME_FILES.map((f) => `dist/${f}`)].sort(),
    );
    assert.deepEqual(
      dist.filter((e) => e.startsWith('dist/native/')).map((e) => /^dist\/native\/node-unix-socket\.[\w-]+\.node$/.test(e)),
      [true],
      `dist/native/ should hold exactly one node-unix-socket binary:\n${dist.join('\n')}`,
    );
  });

  it('installs into code-server (code-server --install-extension)', async function () {
    let bin: string;
    try {
      bin = codeServerBin();
    } catch {
      this.skip(); // not installed: scripts/install-code-server.sh
    }
    const dir = await makeTempDir('gvsix-cs', cleanup);
    const env = {
      ...process.env,
      XDG_CONFIG_HOME: path.join(dir, 'xdg-config'),
      XDG_DATA_HOME: path.join(dir, 'xdg-data'),
      XDG_CACHE_HOME: path.join(dir, 'xdg-cache'),
      EXTENSIONS_GALLERY: '{}',
    };
    const common = ['--config', '/dev/null', '--user-data-dir', path.join(dir, 'user'), '--extensions-dir', path.join(dir, 'ext')];
    await runCommand(bin!, [...common, '--install-extension', vsix], { env, timeout: 120_000 });
    const { stdout } = await runCommand(bin!, [...common, '--list-extensions', '--show-versions'], { env, timeout: 60_000 });
    const id = `${pkg.publisher}.${pkg.name}`;
    assert.ok(stdout.split('\n').includes(`${id}@${pkg.version}`), `--list-extensions printed:\n${stdout}`);
    const installed = path.join(dir, 'ext', `${id}-${pkg.version}`);
    for (const f of ['package.json', 'dist/extension.js', ...RUNTIME_FILES.map((f) => `dist/${f}`)]) {
      assert.ok(fs.existsSync(path.join(installed, f)), `${f} is missing from the installed extension in ${installed}`);
    }
    const natives = fs.readdirSync(path.join(installed, 'dist/native'));
    assert.equal(natives.filter((f) => f.endsWith('.node')).length, 1, `dist/native/ of the installed extension: ${natives.join(', ')}`);
    // The daemon shipped in the .vsix runs with plain node.
    const { stdout: help } = await runCommand(process.execPath, [path.join(installed, 'dist/gantry.js'), '--help']);
    assert.match(help, /Usage: gantry/);
    const { stdout: daemonHelp } = await runCommand(process.execPath, [path.join(installed, 'dist/gantry.js'), 'daemon', '--help']);
    assert.match(daemonHelp, /^Usage: gantry daemon /);
  });
});
