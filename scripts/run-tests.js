#!/usr/bin/env node
// Runs the test suites one after another, streams their output, and ends with
// one summary line "N passed, N failed" over all of them. Exit code 1 when any
// suite failed or did not report (a crash counts as a failure).
'use strict';
const { spawn } = require('node:child_process');

const SUITES = {
  lint: ['node', ['scripts/lint.js']], // eslint, prettier --check, folder cycles: scripts/lint.js
  unit: ['npx', ['mocha', '--config', 'test/.mocharc.unit.json']],
  integration: ['npx', ['mocha', '--config', 'test/.mocharc.integration.json']],
  vscode: ['node', ['out/test/vscode/run.js']],
  ui: ['node', ['out/test/ui/run.js']],
  'ui-rootless': ['node', ['out/test/ui/rootless.js']],
};

function run(name, [cmd, args]) {
  return new Promise((resolve) => {
    console.log(`\n=== ${name} ===`);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      output += chunk;
      if (output.length > 1 << 20) output = output.slice(-(1 << 19));
    });
    child.on('exit', (code, signal) => resolve({ name, code, signal, ...counts(output), failures: failures(output) }));
  });
}

// mocha's spec reporter: "  12 passing (4s)" / "  2 failing"; our runners: "N passed, N failed".
function counts(output) {
  const clean = output.replace(/\x1b\[[0-9;]*m/g, '');
  let passed = 0,
    failed = 0,
    reported = false;
  for (const m of clean.matchAll(/^\s*(\d+) passing\b/gm)) {
    passed += Number(m[1]);
    reported = true;
  }
  for (const m of clean.matchAll(/^\s*(\d+) failing\b/gm)) failed += Number(m[1]);
  for (const m of clean.matchAll(/^(?:\w+: )?(\d+) passed, (\d+) failed\b/gm)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
    reported = true;
  }
  return { passed, failed, reported };
}

// What failed, repeated after the summary: a CI log is often read from its
// tail, and mocha prints its failure list in the middle of a long run. Mocha
// lists them after "N failing"; the UI runner prints "  ✘ name" and the error under it.
function failures(output) {
  const clean = output.replace(/\x1b\[[0-9;]*m/g, '');
  const found = [];
  const mocha = clean.match(/^\s*\d+ failing\b[\s\S]*/m);
  if (mocha) found.push(...mocha[0].split('\n').slice(0, 80));
  const lines = clean.split('\n');
  lines.forEach((line, i) => {
    if (!/^\s*[✗✖✘] /.test(line)) return;
    found.push(line);
    for (let j = i + 1; j < lines.length && j <= i + 10 && /^ {6}/.test(lines[j]); j++) found.push(lines[j]);
  });
  return found;
}

async function main() {
  const names = process.argv.slice(2);
  for (const n of names) if (!SUITES[n]) throw new Error(`unknown suite ${n} (${Object.keys(SUITES).join(', ')})`);
  const results = [];
  for (const name of names.length ? names : Object.keys(SUITES)) results.push(await run(name, SUITES[name]));
  console.log('\n=== summary ===');
  let passed = 0,
    failed = 0,
    broken = false;
  for (const r of results) {
    const ok = r.code === 0 && r.reported && r.failed === 0;
    if (!ok) broken = true;
    passed += r.passed;
    failed += r.failed;
    console.log(
      `${r.name}: ${r.passed} passed, ${r.failed} failed${r.code === 0 ? '' : ` (exit ${r.code ?? r.signal})`}${r.reported ? '' : ' (no result reported)'}`,
    );
  }
  for (const r of results) {
    if (!r.failures.length) continue;
    console.log(`\n--- ${r.name}: what failed ---`);
    for (const line of r.failures) console.log(line);
  }
  if (broken && failed === 0) failed = results.filter((r) => r.code !== 0 || !r.reported).length;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(broken ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
