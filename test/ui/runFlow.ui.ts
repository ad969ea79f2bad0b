// UI checks of Run… from the Containers view's title bar, as a person runs
// it: typing in the quick inputs, reading notifications and the terminal.
// test/ui/run.ts runs them last (the containers they leave would otherwise
// show in the other views' screenshots), in three lists:
//
//   failedRunChecks    a command not in the image: one notification in user
//                      terms, with Remove Container  → run-failed.png
//   attachedRunChecks  `sh -c 'echo hi; exit 3'` attached: the terminal keeps
//                      the output and the exit code  → run-attached-exit.png
//   pullAndRunChecks   a reference that is not pulled yet: "Pull and run"
//
// The terminal's text is read from the DOM: run.ts turns GPU rendering off
// (terminal.integrated.gpuAcceleration), so xterm draws rows as elements.
import type { Page } from 'playwright-core';
import { ContainerStatus } from '../../runtime/api/gen/gantry/v1/containers';
import { acceptFirst, answer, containerRow, focusedInput, quickInput, quickRow, quickTitle, toast, withClient } from './pullRun.ui';
import { WAIT, paneHeader, type UiCheck } from './sidebar.ui';
import { waitFor } from '../helpers/waitFor';

export interface RunFlowUiContext {
  page: Page;
  socket: string;
  /** A pulled image: "HOST/gantry-test/busybox:latest". */
  image: string;
  /** Pushed, never pulled: "HOST/gantry-test/pull-and-run:v1". */
  unpulled: string;
}

const FAILED = 'ui-no-binary';
const SHORT = 'ui-short';
const PULLED = 'ui-pulled';

/** Clicks Run… in the Containers view's title bar and picks `image` (typed, then the focused row). */
export async function startRun(page: Page, image: string, row: string | RegExp = image): Promise<void> {
  const header = paneHeader(page, 'Containers');
  await header.hover();
  await header.locator('.actions a.action-label[aria-label="Run…"]').click();
  await focusedInput(page).waitFor({ state: 'visible', ...WAIT });
  await page.keyboard.type(image);
  await quickRow(page, row, true).waitFor({ state: 'visible', ...WAIT });
  await page.keyboard.press('Enter');
}

/** The seven prompts of Run…; `attached` picks the second mode. */
async function answerPrompts(page: Page, image: string, name: string, command: string, attached: boolean): Promise<void> {
  const title = `Run ${image}`;
  await answer(page, `${title} (1/7)`, name);
  await answer(page, `${title} (2/7)`, command);
  await quickTitle(page, `${title} (3/7)`).waitFor({ state: 'visible', ...WAIT });
  await page.keyboard.press('Enter'); // no environment
  await quickTitle(page, `${title} (4/7)`).waitFor({ state: 'visible', ...WAIT });
  await page.keyboard.press('Enter'); // no port to publish
  await acceptFirst(page, `${title} (5/7)`, 'bridge');
  await acceptFirst(page, `${title} (6/7)`, 'no');
  if (attached) {
    await quickTitle(page, `${title} (7/7)`).waitFor({ state: 'visible', ...WAIT });
    await page.keyboard.press('ArrowDown');
    await acceptFirst(page, `${title} (7/7)`, 'Run attached in a terminal').catch(async (e) => {
      throw new Error(`the attached mode is not focused after ArrowDown: ${e}`);
    });
  } else {
    await acceptFirst(page, `${title} (7/7)`, 'Run detached');
  }
  await quickInput(page).waitFor({ state: 'hidden', ...WAIT });
}

const containerOf = (socket: string, name: string) =>
  withClient(socket, async (client) => (await client.containers.list(true)).find((c) => c.name === name));

export const failedRunChecks: UiCheck<RunFlowUiContext>[] = [
  {
    name: 'a run whose command is not in the image shows one notification in user terms, offering removal',
    async run({ page, image }) {
      await startRun(page, image);
      await answerPrompts(page, image, FAILED, '/no/such/binary', false);
      const message = `Could not run ${FAILED}: the command "/no/such/binary" was not found in the image ${image}. The container was left in Created, with an empty log.`;
      const notification = toast(page, message);
      await notification.waitFor({ state: 'visible', ...WAIT });
      await notification.locator('a.monaco-button', { hasText: 'Remove Container' }).waitFor({ state: 'visible', ...WAIT });
      const all = await page.locator('.notification-toast').allTextContents();
      if (all.length !== 1) throw new Error(`${all.length} notifications, not one: ${JSON.stringify(all)}`);
      await page.mouse.move(700, 450);
    },
  },
];

/** Run after run-failed.png. */
export const removeFailedChecks: UiCheck<RunFlowUiContext>[] = [
  {
    name: 'its Remove Container button removes the container',
    async run({ page, socket }) {
      const notification = toast(page, `Could not run ${FAILED}`);
      await notification.locator('a.monaco-button', { hasText: 'Remove Container' }).click();
      await notification.waitFor({ state: 'detached', ...WAIT });
      await containerRow(page, FAILED)
        .first()
        .waitFor({ state: 'detached', ...WAIT });
      // The row changes (Removing…) before the daemon is done: wait for the daemon, not for a time.
      await waitFor(async () => (await containerOf(socket, FAILED)) === undefined, {
        what: `${FAILED} removed by the daemon`,
        intervalMs: 100,
      });
    },
  },
];

const terminalText = (page: Page) => page.locator('.part.panel .xterm .xterm-rows');

export const attachedRunChecks: UiCheck<RunFlowUiContext>[] = [
  {
    name: 'an attached run of a short command keeps its output and exit code in the terminal',
    async run({ page, image }) {
      await startRun(page, image);
      await answerPrompts(page, image, SHORT, `sh -c 'echo hi; exit 3'`, true);
      const rows = terminalText(page);
      await rows.filter({ hasText: 'Press any key to close the terminal.' }).waitFor({ state: 'visible', ...WAIT });
      const text = (await rows.innerText()).replace(/\u00a0/g, ' ');
      if (!/^hi$/m.test(text)) throw new Error(`no "hi" line in the terminal: ${JSON.stringify(text)}`);
      if (!/The container exited with code 3\./.test(text)) throw new Error(`no exit code in the terminal: ${JSON.stringify(text)}`);
      const alerts = await page.locator('.notification-toast', { hasText: /terminal process/i }).count();
      if (alerts) throw new Error('VS Code reported the terminal process as failed');
      await page.mouse.move(900, 300); // no Run… tooltip in the picture
    },
  },
];

/** Run after run-attached-exit.png. */
export const closeAttachedChecks: UiCheck<RunFlowUiContext>[] = [
  {
    name: 'a key press closes it, with no "terminal process" alert',
    async run({ page, socket }) {
      // The terminal has the focus since Run… showed it; the keys go to its input element.
      await page.locator('.part.panel .xterm-helper-textarea').focus();
      await page.keyboard.press('q');
      await terminalText(page).waitFor({ state: 'detached', ...WAIT });
      const alerts = await page.locator('.notification-toast', { hasText: /terminal process/i }).allTextContents();
      if (alerts.length) throw new Error(`VS Code says: ${JSON.stringify(alerts)}`);
      const record = await containerOf(socket, SHORT);
      if (record?.status !== ContainerStatus.CONTAINER_STATUS_EXITED || record.exitCode !== 3) {
        throw new Error(`${SHORT}: ${JSON.stringify(record && { status: record.status, exitCode: record.exitCode })}`);
      }
    },
  },
];

export const pullAndRunChecks: UiCheck<RunFlowUiContext>[] = [
  {
    name: 'Run… with a reference not pulled offers "Pull and run", pulls it and goes on with the prompts',
    async run({ page, unpulled }) {
      await startRun(page, unpulled, `Pull and run ${unpulled}`);
      await answerPrompts(page, unpulled, PULLED, 'sh -c "echo pulled and running; sleep 300"', false);
    },
  },
  {
    name: 'the pulled image runs',
    async run({ page, socket, unpulled }) {
      await containerRow(page, PULLED)
        .filter({ hasText: `${unpulled} · Up ` })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      const record = await containerOf(socket, PULLED);
      if (record?.status !== ContainerStatus.CONTAINER_STATUS_RUNNING) throw new Error(`${PULLED} is not running`);
      const images = await withClient(socket, (client) => client.images.list());
      if (!images.some((i) => i.name === unpulled)) throw new Error(`${unpulled} was not pulled`);
    },
  },
];
