// UI checks of the Images view with images in it. test/ui/run.ts pulls them
// with the CLI (from a registry it starts) before the workbench opens, runs
// the sidebar checks, then these, and saves test-output/ui/images.png.
import type { Page } from 'playwright-core';
import { WAIT, paneBody, paneHeader, type UiCheck } from './sidebar.ui';

export interface ImagesUiContext {
  page: Page;
  /** "127.0.0.1:PORT": the registry the images came from. */
  registry: string;
}

const imagesBody = (page: Page) => paneBody(paneHeader(page, 'Images'));
const row = (page: Page, text: string | RegExp) => imagesBody(page).locator('.monaco-list-row', { hasText: text });

export const imagesChecks: UiCheck<ImagesUiContext>[] = [
  {
    name: 'the Images view groups the pulled images by repository',
    async run({ page, registry }) {
      await row(page, `${registry}/gantry-test/busybox`)
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await row(page, /^\s*gantry-test\/app\s*$/)
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'image items show their tag, size and age',
    async run({ page }) {
      const latest = row(page, /latest/).first();
      await latest.waitFor({ state: 'visible', ...WAIT });
      await latest.filter({ hasText: /\d(\.\d+)?[kM]?B · .+ ago/ }).waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'an untagged image shows as <none> with its short digest',
    async run({ page }) {
      await row(page, /<none>/)
        .filter({ hasText: /[0-9a-f]{12} · / })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'the title bar has Pull, Filter and Refresh buttons',
    async run({ page }) {
      const header = paneHeader(page, 'Images');
      await header.hover();
      for (const title of ['Pull Image…', 'Filter Images…', 'Refresh Images']) {
        await header.locator(`.actions a.action-label[aria-label="${title}"]`).waitFor({ state: 'attached', ...WAIT });
      }
    },
  },
];

/** Widens the sidebar so long repository names fit, and hovers the Images header so its buttons show. */
export async function frameImagesView(page: Page): Promise<void> {
  const sidebar = await page.locator('.part.sidebar').boundingBox();
  if (sidebar) {
    const edge = sidebar.x + sidebar.width;
    await page.mouse.move(edge, sidebar.y + sidebar.height / 2);
    await page.mouse.down();
    await page.mouse.move(edge + 220, sidebar.y + sidebar.height / 2, { steps: 5 });
    await page.mouse.up();
  }
  await paneHeader(page, 'Images').locator('h3.title').hover();
  await page.waitForTimeout(500); // let the sash's drag highlight fade
}

/** Run after frameImagesView: leaves the tooltip open for a screenshot. */
export const imageTooltipChecks: UiCheck<ImagesUiContext>[] = [
  {
    name: 'hovering an image shows its details, inspected on demand',
    async run({ page }) {
      await row(page, /latest/)
        .first()
        .locator('.label-name')
        .hover();
      const hover = page.locator('.monaco-hover', { hasText: 'Digest' });
      await hover.first().waitFor({ state: 'visible', ...WAIT });
      await hover
        .filter({ hasText: 'linux/amd64' })
        .filter({ hasText: '/bin/sh' })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
];
