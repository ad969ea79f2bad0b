#!/usr/bin/env node
// Bundles the shipped artefacts:
//   dist/extension.js — the VS Code extension (vscode is provided by the host)
//   dist/gantry.js    — gantryd + the CLI, runnable with plain `node`, no node_modules:
//                       a loader that runs dist/gantry-cli.js or dist/gantryd.js
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

/** Writes the loader executable: it is the file users and units run. */
function executable() {
  return {
    name: 'executable',
    setup(build) {
      build.onEnd((result) => {
        if (!result.errors.length) fs.chmodSync(build.initialOptions.outfile, 0o755);
      });
    },
  };
}

/**
 * The runtime is three files (runtime/loader/bundles.ts): dist/gantry.js, a
 * small loader, runs dist/gantry-cli.js or dist/gantryd.js with a V8 code
 * cache (runtime/loader/codeCache.ts). Two bundles, so a CLI call reads and
 * compiles only client code. The loader has no source map: it is short and
 * is read as it is.
 */
const runtimeBuilds = [
  { ...common, entryPoints: ['runtime/cli/entry.ts'], outfile: path.join(outdir, 'gantry-cli.js') },
  { ...common, entryPoints: ['runtime/daemon/entry.ts'], outfile: path.join(outdir, 'gantryd.js'), plugins: [nativeAddons()] },
  {
    ...common,
    entryPoints: ['runtime/loader/main.ts'],
    outfile: path.join(outdir, 'gantry.js'),
    sourcemap: false,
    banner: { js: '#!/usr/bin/env node' },
    plugins: [executable()],
  },
];

const builds = [
  ...(runtimeOnly
    ? []
    : [{ ...common, entryPoints: ['src/extension.ts'], outfile: path.join(outdir, 'extension.js'), external: ['vscode'] }]),
  ...runtimeBuilds,
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
