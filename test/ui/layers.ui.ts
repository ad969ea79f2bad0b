// UI checks of the layer explorer, clicked as a person clicks: in the
// Images view the layered image's repository opens, the image expands into
// its layers (`#n size` and the command that made each), the second layer
// into what it changed (folders, A/C/D badges), `app` into its changes and
// `etc` into passwd, which a click opens read-only in an editor.
// test/ui/run.ts pulls the image (test/helpers/layeredImage.ts) and runs
// these after the Files checks, then saves test-output/ui/layers.png.
import type { Page } from 'playwright-core';
import { WAIT, paneBody, paneHeader, type UiCheck } from './sidebar.ui';
import { waitFor } from '../helpers/waitFor';

export interface LayersUiContext {
  page: Page;
  /** "127.0.0.1:PORT": the registry the layered image came from. */
  registry: string;
}

const imagesBody = (page: Page) => paneBody(paneHeader(page, 'Images'));
const row = (page: Page, name: string | RegExp) =>
  imagesBody(page).locator('.monaco-list-row', {
    has: page.locator('.label-name', {
      hasText: typeof name === 'string' ? new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) : name,
    }),
  });

async function setViewOpen(page: Page, view: string, open: boolean): Promise<void> {
  const header = paneHeader(page, view);
  await header.waitFor({ state: 'visible', ...WAIT });
  if (((await header.getAttribute('aria-expanded')) === 'true') !== open) await header.click();
}

/** Scrolls the Images view with the wheel until the row is drawn, then expands it with a click on its twistie. */
async function expand(page: Page, name: string | RegExp): Promise<void> {
  const body = imagesBody(page);
  await waitFor(
    async () => {
      if (await row(page, name).count()) return true;
      await body.hover();
      await page.mouse.wheel(0, 120);
      return undefined;
    },
    { what: `the row ${String(name)} in the Images view`, intervalMs: 150, timeoutMs: 30_000 },
  );
  const target = row(page, name).first();
  await target.waitFor({ state: 'visible', ...WAIT });
  if ((await target.getAttribute('aria-expanded')) !== 'true') await target.locator('.monaco-tl-twistie').click();
}

export const layersChecks: UiCheck<LayersUiContext>[] = [
  {
    name: 'the layered image expands into its layers: #n, size and the command that made each',
    async run({ page, registry }) {
      // Room for the tree: Containers and Networks closed (reopened by layersRestoreChecks).
      await setViewOpen(page, 'Containers', false);
      await setViewOpen(page, 'Networks', false);
      await setViewOpen(page, 'Images', true);
      const open = imagesBody(page).locator('.monaco-list-row[aria-expanded="true"][aria-level="1"]');
      while ((await open.count()) > 0) await open.first().locator('.monaco-tl-twistie').click();
      await expand(page, `${registry}/gantry-test/layered`);
      await expand(page, '1');
      await row(page, '#1 66B')
        .filter({ hasText: 'ADD file:0123456789abcdef' })
        .waitFor({ state: 'visible', ...WAIT });
      await row(page, '#3 30B')
        .filter({ hasText: 'COPY gone /gone' })
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'a layer expands into its changes, and app into what the opaque directory did: a changed, fresh added, sub deleted',
    async run({ page }) {
      await expand(page, '#2 108B');
      await row(page, 'gone')
        .filter({ hasText: 'deleted' })
        .waitFor({ state: 'visible', ...WAIT });
      await expand(page, 'app');
      await row(page, 'sub')
        .filter({ hasText: 'deleted' })
        .waitFor({ state: 'visible', ...WAIT });
      await row(page, 'fresh')
        .filter({ hasText: 'added' })
        .waitFor({ state: 'visible', ...WAIT });
      await row(page, 'a')
        .filter({ hasText: 'changed' })
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'a click on a file of the layer opens it read-only with the layer’s content',
    async run({ page }) {
      await expand(page, 'etc');
      await row(page, 'passwd').first().click();
      await page
        .locator('.tab', { hasText: 'passwd' })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await page
        .locator('.monaco-editor .view-lines', { hasText: 'user:x:1000' })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await page.mouse.move(700, 450);
    },
  },
];

/** After the layers.png screenshot. */
export const layersRestoreChecks: UiCheck<LayersUiContext>[] = [
  {
    name: 'the sidebar is put back: Containers and Networks open again',
    async run({ page }) {
      await setViewOpen(page, 'Containers', true);
      await setViewOpen(page, 'Networks', true);
    },
  },
];
