#!/usr/bin/env node
// Fails when two folders under runtime/ or src/ import each other. A folder is
// the directory of a file; an import of a folder's index counts as an import
// of that folder. A folder's index re-exporting its own subfolders is the
// package's door, not a dependency, so those edges do not count. File cycles are ESLint's (import-x/no-cycle); this catches
// the coarser knot: two concepts that each reach into the other, which
// docs/architecture.md's "one concept per folder" rules out.
//
// Known cycles wait in scripts/folder-cycles.allow, one a line:
//   runtime/a <-> runtime/b   # why it is still there
// A listed cycle that no longer exists fails too, so the list only shrinks.
//
//   node scripts/check-folder-cycles.js          check (exit 1 on a new or stale cycle)
//   node scripts/check-folder-cycles.js --list   print every cycle found, allowed or not
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const TOP = ['runtime', 'src'];
const ALLOW_FILE = path.join(__dirname, 'folder-cycles.allow');
const EXTS = ['.ts', '.js'];

function sourceFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

// Module specifiers of import/export ... from, side-effect imports, require()
// and import() (also `typeof import('…')`): type-only imports couple folders too.
function specifiers(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out = [];
  const res = [
    /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\b(?:require|import)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of res) for (const m of code.matchAll(re)) out.push(m[1]);
  return out;
}

/** The folder (relative to the repo, '/'-separated) a relative specifier lands in. */
function targetFolder(fromFile, spec) {
  const p = path.resolve(path.dirname(fromFile), spec);
  const isFile = (f) => fs.existsSync(f) && fs.statSync(f).isFile();
  let folder;
  if (isFile(p) || EXTS.some((x) => isFile(p + x))) folder = path.dirname(p);
  else if (EXTS.some((x) => isFile(path.join(p, 'index' + x)))) folder = p;
  else folder = path.dirname(p); // not there (yet): judge by the path
  return path.relative(ROOT, folder).split(path.sep).join('/');
}

function folderGraph() {
  const edges = new Map(); // folder -> Map(folder -> example "file -> spec")
  for (const top of TOP) {
    for (const file of sourceFiles(path.join(ROOT, top))) {
      const from = path.relative(ROOT, path.dirname(file)).split(path.sep).join('/');
      for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const to = targetFolder(file, spec);
        if (to === from || !TOP.some((t) => to === t || to.startsWith(t + '/'))) continue;
        if (/^index\.[cm]?[jt]s$/.test(path.basename(file)) && to.startsWith(from + '/')) continue;
        if (!edges.has(from)) edges.set(from, new Map());
        const out = edges.get(from);
        if (!out.has(to)) out.set(to, `${path.relative(ROOT, file)} imports '${spec}'`);
      }
    }
  }
  return edges;
}

function cycles(edges) {
  const found = [];
  for (const [a, outs] of edges) {
    for (const [b, why] of outs) {
      if (a < b && edges.get(b)?.has(a)) found.push({ key: `${a} <-> ${b}`, why: [why, edges.get(b).get(a)] });
    }
  }
  return found.sort((x, y) => x.key.localeCompare(y.key));
}

function allowList() {
  if (!fs.existsSync(ALLOW_FILE)) return new Map();
  const allowed = new Map();
  for (const line of fs.readFileSync(ALLOW_FILE, 'utf8').split('\n')) {
    const m = /^\s*([^#\s]+)\s*<->\s*([^#\s]+)\s*(?:#\s*(.*))?$/.exec(line);
    if (!m) continue;
    const [a, b] = [m[1], m[2]].sort();
    allowed.set(`${a} <-> ${b}`, m[3] ?? '');
  }
  return allowed;
}

function main() {
  const found = cycles(folderGraph());
  if (process.argv.includes('--list')) {
    for (const c of found) console.log(`${c.key}\n    ${c.why.join('\n    ')}`);
    console.log(`${found.length} folder cycle(s)`);
    return 0;
  }
  const allowed = allowList();
  const fresh = found.filter((c) => !allowed.has(c.key));
  const stale = [...allowed.keys()].filter((k) => !found.some((c) => c.key === k));
  for (const c of fresh) console.error(`folder cycle: ${c.key}\n    ${c.why.join('\n    ')}`);
  for (const k of stale) console.error(`folder cycle gone, delete its line from scripts/folder-cycles.allow: ${k}`);
  console.log(
    `folder cycles: ${found.length} found, ${found.length - fresh.length} allowed, ${fresh.length} new, ${stale.length} stale in the allow-list`,
  );
  return fresh.length || stale.length ? 1 : 0;
}

process.exitCode = main();
