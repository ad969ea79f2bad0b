#!/usr/bin/env node
// `npm run lint`, and the `lint` suite of scripts/run-tests.js: ESLint
// (eslint.config.mjs), the formatting check (prettier --check) and
// scripts/check-folder-cycles.js, one after another. Ends with the line
// "lint: N passed, N failed" (one per check) that run-tests.js counts.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);

const CHECKS = [
  { name: 'eslint', cmd: bin('eslint'), args: ['.'] },
  { name: 'prettier', cmd: bin('prettier'), args: ['--check', '.', '--log-level', 'warn'] },
  { name: 'folder cycles', cmd: process.execPath, args: [path.join(__dirname, 'check-folder-cycles.js')] },
];

let passed = 0;
let failed = 0;
for (const check of CHECKS) {
  console.log(`lint: ${check.name}`);
  const r = spawnSync(check.cmd, check.args, { cwd: ROOT, stdio: 'inherit' });
  const ok = r.status === 0;
  if (ok) passed++;
  else failed++;
  console.log(`lint: ${check.name} ${ok ? 'passed' : `failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`})`}`);
}
console.log(`lint: ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
