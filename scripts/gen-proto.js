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
  console.log(`generated ${path.relative(root, outDir)}`);
}
