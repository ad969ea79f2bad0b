// The Containers view's terminals in a real VS Code workbench (code-server)
// against the real gantryd: Open Shell (an exec with a TTY) and Run…
// attached (create, then attach-and-start), both as Pseudoterminals fed by
// the daemon's gRPC stdio sessions. Input goes in as a user's would
// (Terminal.sendText → handleInput); the exit code is observed as VS Code
// reports it (onDidCloseTerminal → exitStatus).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { ContainerStatus as S } from '../../../runtime/api/gen/gantry/v1/containers';
import type { ContainerTerminal } from '../../../src/commands/containers/openContainerShell';
import type { RunResult } from '../../../src/commands/containers/runContainer';
import { ContainersHarness, PREFIX, waitFor } from './containersHarness';

/** Resolves with the exit status VS Code reports when `terminal` closes. */
function closed(terminal: vscode.Terminal): Promise<vscode.TerminalExitStatus | undefined> {
  return new Promise((resolve) => {
    const subscription = vscode.window.onDidCloseTerminal((t) => {
      if (t !== terminal) return;
      subscription.dispose();
      resolve(t.exitStatus);
    });
  });
}

/** The lines an attached run's terminal ends with (colours left out), as VS Code's tasks end theirs. */
const EXITED_LINE = (code: number) =>
  new RegExp(`\\r\\nThe container exited with code ${code}\\.\\r\\nPress any key to close the terminal\\.\\r\\n$`);
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

/** busybox ash's prompt for root in /, which it follows with line-editing escapes ("\x1b[6n", "\x1b[J"). */
const PROMPT = /\/ # /;

describe('Containers terminals: shell and attached run (code-server)', function () {
  this.timeout(120_000);
  const h = new ContainersHarness();
  const SHELL = `${PREFIX}shell`;

  before(async () => {
    await h.setUp();
    await vscode.commands.executeCommand('gantry.images.run', h.image, { name: SHELL, command: 'sleep 3600' });
    await h.daemonWhere(SHELL, 'running', (c) => c.status === S.CONTAINER_STATUS_RUNNING);
  });
  after(() => h.tearDown());

  it('opens a shell in a terminal; `exit 3` closes it with exit code 3', async () => {
    const { node } = await h.entry(SHELL, 'running', (e) => e.item.contextValue === 'runningContainer');
    const shell = await vscode.commands.executeCommand<ContainerTerminal>('gantry.containers.openShell', node);
    assert.ok(shell?.terminal && shell.session, 'openShell returned no terminal');
    const exit = closed(shell.terminal);
    await waitFor(
      'the shell prompt',
      () => (PROMPT.test(shell.session.output) ? true : undefined),
      () => JSON.stringify(shell.session.output),
    );
    // $((…)) makes the output differ from the echoed input: "hi-2" appears only if the shell ran it.
    shell.terminal.sendText('echo hi-$((1+1)); tty; exit 3');
    const status = await Promise.race([
      exit,
      waitFor(
        'the terminal to close',
        () => undefined,
        () => shell.session.output,
        30_000,
      ),
    ]);
    assert.equal(status?.code, 3, `exit status ${JSON.stringify(status)}; output ${JSON.stringify(shell.session.output)}`);
    assert.match(shell.session.output, /\r\nhi-2\r\n/);
    assert.match(shell.session.output, /\/dev\/pts\/\d+/, 'the shell has a TTY');
    assert.equal(await shell.session.exited, 3);
    // The exec ended; the container did not.
    assert.equal((await h.daemon(SHELL))?.status, S.CONTAINER_STATUS_RUNNING);
  });

  it('closing the shell terminal ends the exec', async () => {
    const shell = await vscode.commands.executeCommand<ContainerTerminal>('gantry.containers.openShell', SHELL);
    await waitFor(
      'the shell prompt',
      () => (PROMPT.test(shell.session.output) ? true : undefined),
      () => JSON.stringify(shell.session.output),
    );
    // A marker process that lives as long as the exec's shell.
    shell.terminal.sendText('exec sleep 4242');
    const marker = async () => (await h.client.containers.top(SHELL)).processes.some((p) => p.fields.join(' ').includes('sleep 4242'));
    await waitFor("the exec's process in the container", async () => ((await marker()) ? true : undefined));
    shell.terminal.dispose();
    assert.equal(await shell.session.exited, undefined, 'closed by the user: no exit code');
    await waitFor("the exec's process gone", async () => ((await marker()) ? undefined : true));
  });

  it('runs a container attached: no output lost, stdin reaches it, its exit is shown until a key closes the terminal', async () => {
    const name = `${PREFIX}attached`;
    const result = await vscode.commands.executeCommand<RunResult>('gantry.images.run', h.image, {
      name,
      command: `sh -c 'echo attached-hello; read answer; echo "got $answer"; exit 4'`,
      attach: true,
    });
    assert.ok(result.terminal, 'an attached run returns its terminal');
    const { terminal, session } = result.terminal;
    const exit = closed(terminal);
    // Printed at once on start: only an attach made before the start sees it.
    await waitFor(
      'the first line',
      () => (session.output.includes('attached-hello') ? true : undefined),
      () => JSON.stringify(session.output),
    );
    const record = await h.daemon(name);
    assert.equal(record?.tty, true);
    terminal.sendText('yes');
    assert.equal(await session.exited, 4);
    await waitFor(
      'the exit line',
      () => (EXITED_LINE(4).test(plain(session.output)) ? true : undefined),
      () => JSON.stringify(session.output),
    );
    assert.match(session.output, /got yes/);
    terminal.sendText('q', false);
    // Closed by the key press, not by the process: VS Code adds no "terminated with exit code" alert.
    assert.equal((await exit)?.code, undefined);
    const exited = await h.daemonWhere(name, 'exited', (c) => c.status === S.CONTAINER_STATUS_EXITED);
    assert.equal(exited.exitCode, 4);
    await h.entry(name, 'exited, shown as a failure', (e) => e.item.contextValue === 'exitedContainer');
  });

  it('an attached run of a short command keeps its terminal, output and exit code, until a key is pressed', async () => {
    const name = `${PREFIX}short`;
    const result = await vscode.commands.executeCommand<RunResult>('gantry.images.run', h.image, {
      name,
      command: `sh -c 'echo hi; exit 3'`,
      attach: true,
    });
    assert.ok(result.terminal, 'an attached run returns its terminal');
    const { terminal, session } = result.terminal;
    const exit = closed(terminal);
    await waitFor(
      'the exit line',
      () => (EXITED_LINE(3).test(plain(session.output)) ? true : undefined),
      () => JSON.stringify(session.output),
    );
    assert.match(session.output, /\r\nhi\r\n/);
    assert.equal(await session.exited, 3);
    assert.ok(vscode.window.terminals.includes(terminal), 'the terminal stays open');
    assert.equal(terminal.exitStatus, undefined, 'the terminal has not exited');
    terminal.sendText('x', false);
    assert.equal((await exit)?.code, undefined);
    assert.equal((await h.daemon(name))?.exitCode, 3);
  });
});
