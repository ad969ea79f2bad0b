// UI checks of the Gantry sidebar, as a user sees it in the workbench.
// test/ui/run.ts prepares the page (gantryd, code-server, Chromium) and runs
// these in order; each one waits for what it needs (no wall-time assertions).
import type { Locator, Page } from 'playwright-core';

export interface UiContext {
  page: Page;
  /** The test daemon's version, as `gantry version --json` printed it. */
  daemonVersion: string;
}

export interface UiCheck<C = UiContext> {
  name: string;
  run(ctx: C): Promise<void>;
}

export const WAIT = { timeout: 60_000 };

// The activity-bar entry's class carries the view container id; its label is localizable.
const activityEntry = (page: Page) =>
  page.locator('.part.activitybar a.action-label[class*="activity-workbench-view-extension-gantry-"]');

export const paneHeader = (page: Page, title: string) =>
  page.locator('.part.sidebar .pane-header', { has: page.locator('h3.title', { hasText: new RegExp(`^${title}$`, 'i') }) });

/** The body that belongs to a pane header (the next sibling in the split view). */
export const paneBody = (header: Locator) => header.locator('xpath=following-sibling::*[contains(@class,"pane-body")]');

/** An entry of the open context menu, by its exact title ("Start Container" is not "Restart Container"). */
export const menuItem = (page: Page, title: string, focused = false) =>
  page.locator(`.monaco-menu .action-item${focused ? '.focused' : ''}`, { has: page.locator(`.action-label[aria-label="${title}"]`) }).first();

/** Right-clicks a tree row and picks `title` from its context menu. */
export async function pickFromContextMenu(page: Page, row: Locator, title: string): Promise<void> {
  await row.click({ button: 'right' });
  const item = menuItem(page, title);
  await item.waitFor({ state: 'visible', ...WAIT });
  // The workbench ignores a click that comes right after the menu opened (the right button's release);
  // hovering focuses the entry, and Enter runs it, as from the keyboard.
  await item.hover();
  await menuItem(page, title, true).waitFor({ state: 'visible', ...WAIT });
  await page.keyboard.press('Enter');
  // Off the tree, so the row under the closed menu shows no hover in the screenshots.
  await page.mouse.move(900, 300);
}

export const sidebarChecks: UiCheck[] = [
  {
    name: 'the Gantry activity-bar entry opens the Gantry sidebar',
    async run({ page }) {
      await activityEntry(page).waitFor({ state: 'visible', ...WAIT });
      await activityEntry(page).click();
      await page.locator('.part.sidebar .composite.title', { hasText: /gantry/i }).waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'the Images view header is visible',
    async run({ page }) {
      await paneHeader(page, 'Images').waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'the Containers view header is visible',
    async run({ page }) {
      await paneHeader(page, 'Containers').waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'the Images view shows content (tree items or a welcome message)',
    async run({ page }) {
      const body = paneBody(paneHeader(page, 'Images'));
      await body.locator('.monaco-list-row, .welcome-view-content').first().waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'the status bar shows Gantry and the daemon version',
    async run({ page, daemonVersion }) {
      const item = page.locator('.part.statusbar .statusbar-item', { hasText: /Gantry/ });
      await item.filter({ hasText: daemonVersion }).first().waitFor({ state: 'visible', ...WAIT });
    },
  },
];
