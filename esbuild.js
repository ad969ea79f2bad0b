#!/usr/bin/env node
// Bundles the two shipped artefacts:
//   dist/extension.js — the VS Code extension (vscode is provided by the host)
//   dist/gantry.js    — gantryd + the CLI, runnable with plain `node`, no node_modules
// Usage: node esbuild.js [--production] [--watch]
'use strict';
const esbuild = require('esbuild');
const { execFileSync } = require('node:child_process');
const { version } = require('./package.json');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

function revision() {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
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

const builds = [
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  { ...common, entryPoints: ['runtime/main.ts'], outfile: 'dist/gantry.js', banner: { js: '#!/usr/bin/env node' } },
];

async function main() {
  if (watch) {
    for (const options of builds) await (await esbuild.context(options)).watch();
    console.log('esbuild: watching');
    return;
  }
  await Promise.all(builds.map((options) => esbuild.build(options)));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
