// Mocha runner for the Restricted Mode suite: test/vscode/run.ts opens a
// second, untrusted workspace in its own code-server and points
// extensionTestsPath here.
import { runMochaIn } from '../suite/index';

export function run(): Promise<void> {
  return runMochaIn(__dirname);
}
