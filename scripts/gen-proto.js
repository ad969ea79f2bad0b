#!/usr/bin/env node
// Regenerates runtime/api/gen/ from runtime/api/proto/ (gantry.v1) and
// runtime/cri/gen/ from runtime/cri/proto/ (the Kubernetes CRI, runtime.v1)
// with protoc + ts-proto.
// The generated files are committed (like containerd's *.pb.go) so building
// Gantry needs neither protoc nor the plugin; run `npm run proto` after
// editing a .proto file.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const trees = [
  { protoDir: path.join(root, 'runtime/api/proto'), outDir: path.join(root, 'runtime/api/gen') },
  // The CRI carries nanosecond timestamps (int64 ≈ 1.8e18), beyond a double's
  // exact integers: its 64-bit fields are bigint.
  { protoDir: path.join(root, 'runtime/cri/proto'), outDir: path.join(root, 'runtime/cri/gen'), forceLong: 'bigint' },
];
const plugin = path.join(root, 'node_modules/.bin/protoc-gen-ts_proto');

function protoFiles(protoDir, dir = protoDir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return protoFiles(protoDir, p);
    return e.name.endsWith('.proto') ? [path.relative(protoDir, p)] : [];
  });
}

const options = (forceLong) =>
  [
    'outputServices=grpc-js',
    'esModuleInterop=true',
    'env=node',
    `forceLong=${forceLong}`,
    'oneof=unions-value',
    'useDate=true',
    'useOptionals=none',
    'outputPartialMethods=false',
    'useExactTypes=false',
  ].join(',');
for (const { protoDir, outDir, forceLong = 'number' } of trees) {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  execFileSync(
    'protoc',
    [
      `--plugin=protoc-gen-ts_proto=${plugin}`,
      `--ts_proto_out=${outDir}`,
      `--ts_proto_opt=${options(forceLong)}`,
      `-I${protoDir}`,
      ...protoFiles(protoDir),
    ],
    { stdio: 'inherit' },
  );
  for (const file of generatedFiles(outDir)) viewInsteadOfCopy(file);
  console.log(`generated ${path.relative(root, outDir)}`);
}

function generatedFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? generatedFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

// ts-proto wraps every encoded message and every decoded bytes field in
// Buffer.from(Uint8Array), which copies. The encoded bytes are a fresh array
// and a decoded field lies inside the message's own received buffer, so a
// view serves: a 50 MiB ReadFile went from ~224 to ~150 ms without the two
// copies (docs/performance.md, the files benchmark).
function viewInsteadOfCopy(file) {
  const text = fs.readFileSync(file, 'utf8');
  const viewed = text
    .replace(/Buffer\.from\((\w+)\.encode\(value\)\.finish\(\)\)/g, 'bufferView($1.encode(value).finish())')
    .replace(/Buffer\.from\(reader\.bytes\(\)\)/g, 'bufferView(reader.bytes())');
  if (viewed === text) return;
  const helper = [
    '',
    '/** A Buffer over the same memory, not a copy (scripts/gen-proto.js). */',
    'function bufferView(bytes: Uint8Array): Buffer {',
    '  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);',
    '}',
    '',
  ].join('\n');
  fs.writeFileSync(file, viewed.trimEnd() + '\n' + helper);
}
