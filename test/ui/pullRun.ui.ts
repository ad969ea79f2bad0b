// UI checks that pull an image and run it through the workbench only, as a
// user would: the Images view's Pull Image… button and its quick input, then
// the pulled image's Run… menu entry and its five prompts. test/ui/run.ts
// pushes the image (not pulled) and runs these after the Images checks, in
// three lists with screenshots between them:
//
//   pullChecks       leave the progress notification up (the layer held by
//                    gatedRegistry.ts)      → test-output/ui/pull-progress.png
//   pulledChecks     let the layer through, find the image in the view and
//                    the daemon, dismiss the "Pulled" notification
//   runFromUiChecks  Run… → the `ui-run` container running → run-from-ui.png
//
// The container stays (containers.ui.ts's checks run with it listed); the
// test daemon's cleanup removes it.
import * as fs from 'node:fs';
import type { Page } from 'playwright-core';
import { RuntimeClient } from '../../runtime/client/client';
import { ContainerStatus } from '../../runtime/api/gen/gantry/v1/containers';
import type { GatedRegistry } from './gatedRegistry';
import { WAIT, paneBody, paneHeader, pickFromContextMenu, type UiCheck } from './sidebar.ui';
import { waitFor, within } from '../helpers/waitFor';

export interface PullRunUiContext {
  page: Page;
  /** The test daemon's socket, to check through the API what the UI did. */
  socket: string;
  /** "HOST/gantry-test/ui-pull:v1", HOST being the gate in front of the registry. */
  reference: string;
  /** The manifest digest the registry serves for `reference`. */
  manifestDigest: string;
  gate: GatedRegistry;
}

export const RUN_NAME = 'ui-run';
const RUN_COMMAND = 'sh -c "echo hello from the UI; sleep 300"';
const RUN_ENV = 'MODE=ui';
const GREETING = 'hello from the UI';

const imagesBody = (page: Page) => paneBody(paneHeader(page, 'Images'));
// Tree rows carry the item's accessibility label: "<name>, <details>".
const imageRow = (page: Page, name: string) => imagesBody(page).locator(`.monaco-list-row[aria-label^="${name}, "]`);
const repositoryRow = (page: Page, repository: string) => imagesBody(page).locator(`.monaco-list-row[aria-label="${repository}"]`);
export const containerRow = (page: Page, name: string) =>
  paneBody(paneHeader(page, 'Containers')).locator(`.monaco-list-row[aria-label^="${name}, "]`);

export const quickInput = (page: Page) => page.locator('.quick-input-widget');
export const quickTitle = (page: Page, text: string) => quickInput(page).locator('.quick-input-title', { hasText: text });
export const focusedInput = (page: Page) => quickInput(page).locator('.quick-input-box input:focus');
export const quickRow = (page: Page, text: string | RegExp, focused = false) =>
  quickInput(page).locator(`.quick-input-list .monaco-list-row${focused ? '.focused' : ''}`, { hasText: text });
export const toast = (page: Page, text: string | RegExp) => page.locator('.notification-toast', { hasText: text });

/** Waits for the quick input titled `title`, types `text` into it (focused first) and accepts it. */
export async function answer(page: Page, title: string, text: string): Promise<void> {
  await quickTitle(page, title).waitFor({ state: 'visible', ...WAIT });
  await focusedInput(page).waitFor({ state: 'visible', ...WAIT });
  await page.keyboard.type(text);
  const value = await focusedInput(page).inputValue();
  if (value !== text) throw new Error(`the input "${title}" holds ${JSON.stringify(value)}, not ${JSON.stringify(text)}`);
  await page.keyboard.press('Enter');
}

/** Waits for the quick pick titled `title`, checks that `label` is the focused (first) item, and accepts it. */
export async function acceptFirst(page: Page, title: string, label: string): Promise<void> {
  await quickTitle(page, title).waitFor({ state: 'visible', ...WAIT });
  await focusedInput(page).waitFor({ state: 'visible', ...WAIT });
  await quickRow(page, new RegExp(`^\\s*${label}`), true).waitFor({ state: 'visible', ...WAIT });
  await page.keyboard.press('Enter');
}

export async function withClient<T>(socket: string, fn: (client: RuntimeClient) => Promise<T>): Promise<T> {
  const client = RuntimeClient.forSocket(socket);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

export const pullChecks: UiCheck<PullRunUiContext>[] = [
  {
    name: 'Pull Image… takes a typed reference and checks it as it is typed',
    async run({ page, reference }) {
      const header = paneHeader(page, 'Images');
      await header.hover();
      await header.locator('.actions a.action-label[aria-label="Pull Image…"]').click();
      await quickTitle(page, 'Pull Image').waitFor({ state: 'visible', ...WAIT });
      await focusedInput(page).waitFor({ state: 'visible', ...WAIT });
      await page.keyboard.type(reference);
      // The typed text as the first item, described as valid by the extension's parser.
      await quickRow(page, `pull ${reference}`).waitFor({ state: 'visible', ...WAIT });
      await page.keyboard.press('Enter');
      await quickInput(page).waitFor({ state: 'hidden', ...WAIT });
    },
  },
  {
    name: 'the pull shows a progress notification with bytes and blobs',
    async run({ page, reference, gate }) {
      await within(gate.held, { what: 'the daemon to fetch the layer', timeoutMs: WAIT.timeout });
      const notification = toast(page, `Pulling ${reference}`);
      await notification.waitFor({ state: 'visible', ...WAIT });
      // Some bytes of the held layer are in: "312kB / 1.1MB · 2 of 3 blobs".
      await notification
        .filter({ hasText: /[1-9][\d.]*[kMG]?B \/ [\d.]+[kMG]?B · \d+ of \d+ blobs/ })
        .waitFor({ state: 'visible', ...WAIT });
      await page.mouse.move(900, 300); // off the view's title bar
    },
  },
];

export const pulledChecks: UiCheck<PullRunUiContext>[] = [
  {
    name: 'once the layer is in, the image shows in the Images view under its repository',
    async run({ page, reference, gate }) {
      gate.release();
      const repository = reference.slice(0, reference.lastIndexOf(':'));
      const tag = imageRow(page, reference);
      await tag.waitFor({ state: 'visible', ...WAIT });
      await repositoryRow(page, repository).waitFor({ state: 'visible', ...WAIT });
      const index = async (row: typeof tag) => Number(await row.getAttribute('data-index'));
      if ((await index(tag)) !== (await index(repositoryRow(page, repository))) + 1) {
        throw new Error(`the v1 row does not follow the ${repository} row`);
      }
      const label = (await tag.locator('.label-name').textContent())?.trim();
      if (label !== 'v1') throw new Error(`the image row is labelled ${JSON.stringify(label)}, not "v1"`);
    },
  },
  {
    name: 'the daemon has the image the registry serves',
    async run({ socket, reference, manifestDigest }) {
      const images = await withClient(socket, (client) => client.images.list());
      const image = images.find((i) => i.name === reference);
      if (!image) throw new Error(`no ${reference} among ${JSON.stringify(images.map((i) => i.name))}`);
      if (image.target?.digest !== manifestDigest) throw new Error(`pulled ${image.target?.digest}, the registry serves ${manifestDigest}`);
    },
  },
  {
    name: 'a notification says the image was pulled (then dismissed)',
    async run({ page, reference }) {
      const notification = toast(page, `Pulled ${reference}`);
      await notification.waitFor({ state: 'visible', ...WAIT });
      await notification.hover();
      await notification.locator('a.action-label[aria-label^="Clear Notification"]').click();
      await notification.waitFor({ state: 'detached', ...WAIT });
      await page.mouse.move(900, 300);
    },
  },
];

export const runFromUiChecks: UiCheck<PullRunUiContext>[] = [
  {
    name: 'Run… on the pulled image asks for name, command, environment, ports, network, restart policy and mode',
    async run({ page, reference }) {
      await pickFromContextMenu(page, imageRow(page, reference).first(), 'Run…');
      const title = `Run ${reference}`;
      await answer(page, `${title} (1/7)`, RUN_NAME);
      await answer(page, `${title} (2/7)`, RUN_COMMAND);
      await answer(page, `${title} (3/7)`, RUN_ENV);
      await quickTitle(page, `${title} (4/7)`).waitFor({ state: 'visible', ...WAIT });
      await page.keyboard.press('Enter'); // no port to publish
      await acceptFirst(page, `${title} (5/7)`, 'bridge');
      await acceptFirst(page, `${title} (6/7)`, 'no');
      await acceptFirst(page, `${title} (7/7)`, 'Run detached');
      await quickInput(page).waitFor({ state: 'hidden', ...WAIT });
      // Focus is back on the image row, left selected (its inline buttons would show in every later
      // screenshot): Escape clears the selection, as it does for a user, and a click on the empty
      // editor area takes the focus (and its outline) off the view.
      await imagesBody(page)
        .locator('.monaco-list:focus-within')
        .waitFor({ state: 'visible', ...WAIT });
      await page.keyboard.press('Escape');
      await imagesBody(page)
        .locator('.monaco-list-row.selected')
        .waitFor({ state: 'detached', ...WAIT });
      await page
        .locator('.part.editor .editor-group-container')
        .first()
        .click({ position: { x: 20, y: 20 } });
      await imagesBody(page)
        .locator('.monaco-list:focus-within')
        .waitFor({ state: 'detached', ...WAIT });
    },
  },
  {
    name: 'the new container shows in the Containers view, running',
    async run({ page, reference }) {
      const row = containerRow(page, RUN_NAME);
      await row
        .filter({ hasText: `${reference} · Up ` })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await row
        .locator('.codicon-vm-running')
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'the daemon runs it with the command and environment typed, and it printed its greeting',
    async run({ socket }) {
      await withClient(socket, async (client) => {
        const summary = (await client.containers.list(true)).find((c) => c.name === RUN_NAME);
        if (!summary) throw new Error(`the daemon has no container named ${RUN_NAME}`);
        const { container, config } = await client.containers.inspect(summary.id);
        if (container?.status !== ContainerStatus.CONTAINER_STATUS_RUNNING)
          throw new Error(`${RUN_NAME} is ${container?.status}, not running`);
        const expectedCmd = ['sh', '-c', 'echo hello from the UI; sleep 300'];
        if (JSON.stringify(config?.cmd) !== JSON.stringify(expectedCmd)) throw new Error(`cmd ${JSON.stringify(config?.cmd)}`);
        if (!config?.env.includes(RUN_ENV)) throw new Error(`env ${JSON.stringify(config?.env)} lacks ${RUN_ENV}`);
        if (config.restartPolicy?.name !== 'no') throw new Error(`restart policy ${config.restartPolicy?.name}`);
        if (config.tty) throw new Error('run detached, yet with a TTY');
        // What the process itself got, not only what the record says.
        const environ = fs.readFileSync(`/proc/${container.pid}/environ`, 'utf8').split('\0');
        if (!environ.includes(RUN_ENV)) throw new Error(`the process's environment lacks ${RUN_ENV}: ${JSON.stringify(environ)}`);

        let text = '';
        await waitFor(
          async () => {
            text = '';
            for await (const entry of client.containers.logs(summary.id)) text += entry.data.toString();
            return text.includes(GREETING);
          },
          { what: `"${GREETING}" in the logs`, timeoutMs: WAIT.timeout, intervalMs: 200, describe: () => text },
        );
      });
    },
  },
];
