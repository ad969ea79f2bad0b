// Run… whose command cannot start, in a real workbench against the real
// gantryd: one message in user terms (the container's name, the command,
// not found or not executable, what became of the container), never the
// runtime's text ("create task <id>: … exec: …"), reported once, detached
// and attached alike. The Remove Container button is clicked in the UI
// suite (test/ui/runFlow.ui.ts).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { ContainerStatus as S } from '../../../runtime/api/gen/gantry/v1/containers';
import type { CommandFailure } from '../../../src/extension';
import type { RunResult } from '../../../src/commands/containers/runContainer';
import { ContainersHarness, PREFIX, waitFor } from './containersHarness';
import { expectFailure } from './commandFailures';

/** What no message for people should contain: an ID, runc's or Go's words. */
const RUNTIME_TEXT = /[0-9a-f]{64}|create task|exec:|stat |OCI runtime/;

describe('Run… that cannot start its command (code-server)', function () {
  this.timeout(120_000);
  const h = new ContainersHarness();

  before(() => h.setUp());
  after(() => h.tearDown());

  const leftCreated = async (name: string) => {
    const record = await h.daemon(name);
    assert.equal(record?.status, S.CONTAINER_STATUS_CREATED, `${name} is ${record && S[record.status]}`);
    let log = '';
    for await (const entry of h.client.containers.logs(record.id)) log += entry.data.toString();
    assert.equal(log, '', 'a container that never started has an empty log');
  };

  it('a command not in the image: one message naming the container and the command, saying it is left Created', async () => {
    const name = `${PREFIX}no-binary`;
    const failure = await expectFailure(h.api, 'gantry.images.run', h.image, { name, command: '/no/such/binary --flag' });
    assert.equal(
      failure.message,
      `Could not run ${name}: the command "/no/such/binary" was not found in the image ${h.image}. The container was left in Created, with an empty log.`,
    );
    assert.doesNotMatch(failure.message, RUNTIME_TEXT);
    await leftCreated(name);
  });

  it('a command that is not executable says so', async () => {
    const name = `${PREFIX}not-exec`;
    const failure = await expectFailure(h.api, 'gantry.images.run', h.image, { name, command: '/etc' });
    assert.equal(
      failure.message,
      `Could not run ${name}: the command "/etc" in the image ${h.image} is not executable. The container was left in Created, with an empty log.`,
    );
    await leftCreated(name);
  });

  it('attached: the terminal closes and the same single message is shown', async () => {
    const name = `${PREFIX}no-binary-attached`;
    const failures: CommandFailure[] = [];
    const subscription = h.api.onDidFailCommand((f) => failures.push(f));
    try {
      const result = await vscode.commands.executeCommand<RunResult>('gantry.images.run', h.image, {
        name,
        command: '/no/such/binary',
        attach: true,
      });
      assert.ok(result?.terminal, 'an attached run returns its terminal');
      const { terminal } = result.terminal;
      await waitFor(
        'the failure reported',
        () => failures[0],
        () => JSON.stringify(result.terminal?.session.output),
      );
      await waitFor('the terminal closed', () => (vscode.window.terminals.includes(terminal) ? undefined : true));
      assert.equal(failures.length, 1, JSON.stringify(failures));
      assert.equal(failures[0].command, 'gantry.images.run');
      assert.equal(
        failures[0].message,
        `Could not run ${name}: the command "/no/such/binary" was not found in the image ${h.image}. The container was left in Created, with an empty log.`,
      );
    } finally {
      subscription.dispose();
    }
    await leftCreated(name);
  });
});
