// Mocha runner inside the VS Code extension host: the workbench loads this
// module (extensionTestsPath) and calls run(); a rejection makes the whole
// test run exit 1.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/** *.test.js files under `dir`, sorted (plain fs: no glob dependency). */
function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(full));
    else if (entry.name.endsWith('.test.js')) found.push(full);
  }
  return found.sort();
}

export function run(): Promise<void> {
  return runMochaIn(__dirname);
}

/** Runs every *.test.js under `dir` (also used by the untrusted suite's index). */
export async function runMochaIn(dir: string): Promise<void> {
  // The output goes through the workbench to the launcher's stdout: no colours.
  // GANTRY_TEST_GREP runs only the tests whose full title matches (while developing).
  const grep = process.env.GANTRY_TEST_GREP;
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, ...(grep ? { grep } : {}) });
  const files = findTests(dir);
  if (files.length === 0) throw new Error(`no *.test.js files under ${dir}`);
  for (const f of files) mocha.addFile(f);
  const failures = await new Promise<number>((resolve, reject) => {
    try {
      mocha.run(resolve);
    } catch (e) {
      reject(e);
    }
  });
  if (failures > 0) throw new Error(`${failures} test(s) failed`);
}
