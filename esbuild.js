#!/usr/bin/env node
// Bundles the two shipped artefacts:
//   dist/extension.js — the VS Code extension (vscode is provided by the host)
//   dist/gantry.js    — gantryd + the CLI, runnable with plain `node`, no node_modules
//   dist/native/      — the N-API binaries gantry.js loads (see nativeAddons below)
// Usage: node esbuild.js [--production] [--watch] [--runtime-only --outdir DIR]
'use strict';
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { version } = require('./package.json');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
// --runtime-only --outdir DIR: only dist/gantry.js (and native/), into DIR (the benchmarks build what ships there).
const runtimeOnly = process.argv.includes('--runtime-only');
const outdirArg = process.argv.indexOf('--outdir');
const outdir = outdirArg > 0 ? process.argv[outdirArg + 1] : 'dist';

function revision() {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return '';
  }
}

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  keepNames: true,
  logLevel: 'warning',
  define: {
    'process.env.GANTRY_BUILD_VERSION': JSON.stringify(version),
    'process.env.GANTRY_BUILD_REVISION': JSON.stringify(revision()),
  },
};

/**
 * Native addons in a bundle that runs without node_modules.
 *
 * node-unix-socket (SOCK_SEQPACKET for conmon's attach socket) picks its
 * binary at run time with `require('node-unix-socket-<platform>')`, a package
 * npm installs only for the host's platform. For that installed one the
 * plugin copies its `.node` file to `<outdir>/native/` and rewrites the
 * require to `./native/<file>.node`; the other platforms' packages cannot be
 * resolved and stay bare external requires, which fail inside the addon
 * loader's own try/catch (gantryd then reports the feature as unavailable
 * for that platform). The loader's first choice, a `.node` file next to its
 * own sources, never exists in the published package and is left alone.
 * A bundle thus ships the binary of the platform it was built on.
 */
function nativeAddons() {
  return {
    name: 'native-addons',
    setup(build) {
      const outdir = path.join(path.dirname(build.initialOptions.outfile), 'native');
      build.onStart(() => fs.rmSync(outdir, { recursive: true, force: true }));
      build.onResolve({ filter: /^node-unix-socket-[a-z0-9-]+$/ }, (args) => {
        let manifest;
        try {
          manifest = require.resolve(`${args.path}/package.json`, { paths: [args.resolveDir] });
        } catch {
          return { path: args.path, external: true };
        }
        const binary = path.join(path.dirname(manifest), JSON.parse(fs.readFileSync(manifest, 'utf8')).main);
        fs.mkdirSync(outdir, { recursive: true });
        fs.copyFileSync(binary, path.join(outdir, path.basename(binary)));
        return { path: `./native/${path.basename(binary)}`, external: true };
      });
      build.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, external: true }));
    },
  };
}

/**
 * dist/gantry.js is the runtime's bundle embedded as a string behind a small
 * loader (runtime/loader/codeCache.ts) that runs it with a V8 code cache:
 * still one file to run, copy and deploy, without re-parsing 3 MB on every
 * CLI call. The bundle is built in memory, then the loader is built with it
 * and its hash (the cache's key: V8 itself checks little more than the
 * source's length) in front, and the two are written as one file. The
 * source map stays dist/gantry.js.map and maps the embedded bundle.
 */
function embedBehindLoader() {
  return {
    name: 'embed-behind-loader',
    setup(build) {
      build.onEnd(async (result) => {
        if (result.errors.length || !result.outputFiles) return;
        const outfile = build.initialOptions.outfile;
        const js = result.outputFiles.find((f) => f.path === path.resolve(outfile));
        const map = result.outputFiles.find((f) => f.path === path.resolve(`${outfile}.map`));
        const source = js.text.replace(/^#!.*\n/, '');
        const hash = require('node:crypto').createHash('sha256').update(source).digest('hex').slice(0, 16);
        const loader = await esbuild.build({
          ...common,
          entryPoints: ['runtime/loader/codeCache.ts'],
          sourcemap: false,
          write: false,
          banner: {
            js: `#!/usr/bin/env node\nconst GANTRY_BUNDLE = { hash: ${JSON.stringify(hash)}, source: ${JSON.stringify(source)} };`,
          },
        });
        fs.mkdirSync(path.dirname(outfile), { recursive: true });
        fs.writeFileSync(outfile, loader.outputFiles[0].text, { mode: 0o755 });
        if (map) fs.writeFileSync(`${outfile}.map`, map.contents);
      });
    },
  };
}

const builds = [
  ...(runtimeOnly
    ? []
    : [{ ...common, entryPoints: ['src/extension.ts'], outfile: path.join(outdir, 'extension.js'), external: ['vscode'] }]),
  {
    ...common,
    entryPoints: ['runtime/main.ts'],
    outfile: path.join(outdir, 'gantry.js'),
    write: false,
    plugins: [nativeAddons(), embedBehindLoader()],
  },
];

async function main() {
  if (watch) {
    for (const options of builds) await (await esbuild.context(options)).watch();
    console.log('esbuild: watching');
    return;
  }
  await Promise.all(builds.map((options) => esbuild.build(options)));
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

module.exports = { common, nativeAddons };
