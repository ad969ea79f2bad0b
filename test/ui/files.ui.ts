// UI checks of a container's files, clicked as a person clicks: the
// container's row expands into Files, Files into the root folder, `etc`
// into its files; a click on `hostname` opens it in an editor (read by the
// daemon, nothing run in the container); an edit typed there and saved with
// Ctrl+S is what the container reads at once. test/ui/run.ts runs these
// after the Networks checks and saves test-output/ui/files.png (the tree
// and the edited file), then opens the other views again.
import type { Page } from 'playwright-core';
import { row } from './containers.ui';
import { withClient } from './pullRun.ui';
import { WAIT, paneBody, paneHeader, type UiCheck } from './sidebar.ui';
import { execStdout } from '../helpers/containerExec';
import { waitFor } from '../helpers/waitFor';

export interface FilesUiContext {
  page: Page;
  socket: string;
  image: string;
}

const NAME = 'ui-files';
const ADDED = 'typed in the editor';
let containerId = '';

/** Opens or closes a sidebar view by a click on its header. */
async function setViewOpen(page: Page, view: string, open: boolean): Promise<void> {
  const header = paneHeader(page, view);
  await header.waitFor({ state: 'visible', ...WAIT });
  if (((await header.getAttribute('aria-expanded')) === 'true') !== open) await header.click();
}

/**
 * Scrolls the Containers view with the mouse wheel until the row is drawn
 * (the tree draws only the rows in sight), as a person scrolls to find it.
 */
async function scrollTo(page: Page, name: string): Promise<void> {
  const body = paneBody(paneHeader(page, 'Containers'));
  await waitFor(
    async () => {
      if (await row(page, name).count()) return true;
      await body.hover();
      await page.mouse.wheel(0, 120);
      return undefined;
    },
    { what: `the row ${name} in the Containers view`, intervalMs: 150, timeoutMs: 30_000 },
  );
}

/** Clicks a collapsed row's twistie so it expands. */
async function expand(page: Page, name: string): Promise<void> {
  await scrollTo(page, name);
  const target = row(page, name).first();
  await target.waitFor({ state: 'visible', ...WAIT });
  if ((await target.getAttribute('aria-expanded')) !== 'true') await target.locator('.monaco-tl-twistie').click();
}

export const filesChecks: UiCheck<FilesUiContext>[] = [
  {
    name: 'a container expands into Files, Files into its root folder, etc into its files',
    async run({ page, socket, image }) {
      containerId = await withClient(socket, async (client) => {
        const c = await client.containers.create(NAME, { image, cmd: ['sleep', '3600'], network: 'none' });
        await client.containers.start(c.id);
        return c.id;
      });
      // Room for the tree: Images and Networks closed (reopened by the last check).
      await setViewOpen(page, 'Images', false);
      await setViewOpen(page, 'Networks', false);
      // Other containers closed, so the only Files row is this container's.
      const open = paneBody(paneHeader(page, 'Containers')).locator('.monaco-list-row[aria-expanded="true"][aria-level="1"]');
      while ((await open.count()) > 0) await open.first().locator('.monaco-tl-twistie').click();
      await expand(page, NAME);
      await expand(page, 'Files');
      await expand(page, 'etc');
      await scrollTo(page, 'hostname');
      await row(page, 'hostname')
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'a click on hostname opens it in an editor with the container’s hostname',
    async run({ page }) {
      await row(page, 'hostname').first().click();
      await page
        .locator('.tab', { hasText: 'hostname' })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await page
        .locator('.monaco-editor .view-lines', { hasText: containerId.slice(0, 12) })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'an edit typed in the editor and saved with Ctrl+S is what the container reads',
    async run({ page, socket }) {
      const editor = page.locator('.monaco-editor .view-lines', { hasText: containerId.slice(0, 12) }).first();
      await editor.click();
      await page.keyboard.press('Control+End');
      await page.keyboard.type(ADDED);
      await page.keyboard.press('Control+S');
      await withClient(socket, (client) =>
        waitFor(async () => ((await execStdout(client, containerId, ['cat', '/etc/hostname'])).includes(ADDED) ? true : undefined), {
          what: 'the container to read the saved edit',
          intervalMs: 200,
        }),
      );
      // Saved: the tab has no "dirty" mark any more.
      await page.locator('.tab.dirty', { hasText: 'hostname' }).waitFor({ state: 'detached', ...WAIT });
    },
  },
];

/** After the files.png screenshot. */
export const filesRestoreChecks: UiCheck<FilesUiContext>[] = [
  {
    name: 'the sidebar is put back: Images and Networks open again',
    async run({ page }) {
      await setViewOpen(page, 'Images', true);
      await setViewOpen(page, 'Networks', true);
    },
  },
];
