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
const activityEntry = (page: Page) => page.locator('.part.activitybar a.action-label[class*="activity-workbench-view-extension-gantry-"]');

export const paneHeader = (page: Page, title: string) =>
  page.locator('.part.sidebar .pane-header', { has: page.locator('h3.title', { hasText: new RegExp(`^${title}$`, 'i') }) });

/** The body that belongs to a pane header (the next sibling in the split view). */
export const paneBody = (header: Locator) => header.locator('xpath=following-sibling::*[contains(@class,"pane-body")]');

/** An entry of the open context menu, by its exact title ("Start Container" is not "Restart Container"). */
export const menuItem = (page: Page, title: string, focused = false) =>
  page
    .locator(`.monaco-menu .action-item${focused ? '.focused' : ''}`, { has: page.locator(`.action-label[aria-label="${title}"]`) })
    .first();

/** Right-clicks a tree row and picks `title` from its context menu. */
export async function pickFromContextMenu(page: Page, row: Locator, title: string): Promise<void> {
  const item = menuItem(page, title);
  // A refresh that re-renders the tree between finding the row and the click
  // can put another row under the pointer: the menu then belongs to that row
  // (it has the focus). Close it and click again.
  for (let attempt = 1; ; attempt++) {
    await row.click({ button: 'right' });
    await item.waitFor({ state: 'visible', ...WAIT });
    if (attempt === 3 || (await row.evaluate((el) => el.classList.contains('focused')).catch(() => false))) break;
    await page.keyboard.press('Escape');
    await item.waitFor({ state: 'hidden', ...WAIT });
  }
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
      await body
        .locator('.monaco-list-row, .welcome-view-content')
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'the status bar shows Gantry and the daemon version',
    async run({ page, daemonVersion }) {
      const item = page.locator('.part.statusbar .statusbar-item', { hasText: /Gantry/ });
      await item
        .filter({ hasText: daemonVersion })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
];

/** For the checks of the views without a runtime: they stop the test daemon themselves. */
export interface DisconnectedUiContext extends UiContext {
  /** Stops the test daemon (a clean SIGTERM, as a person stopping it). */
  stopDaemon(): Promise<void>;
  /** Pids Start Runtime recorded (GANTRY_DAEMON_PIDS_FILE of the extension host). */
  startedPids(): number[];
}

export const statusBarItem = (page: Page) => page.locator('.part.statusbar .statusbar-item', { hasText: /Gantry/ }).first();
const welcome = (page: Page, view: string) => paneBody(paneHeader(page, view)).locator('.welcome-view-content');
export const welcomeButton = (page: Page, view: string, title: string) =>
  welcome(page, view).locator('.monaco-button', { hasText: new RegExp(`^${title}$`) });

/** Expands the view's pane if it is collapsed. */
export async function expand(page: Page, view: string): Promise<void> {
  const header = paneHeader(page, view);
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  await paneBody(header).waitFor({ state: 'visible', ...WAIT });
}

export const disconnectedChecks: UiCheck<DisconnectedUiContext>[] = [
  {
    name: 'with gantryd stopped, both views say in words that it is not running, with Start Runtime, Reconnect and Show Log',
    async run({ page, stopDaemon }) {
      await stopDaemon();
      for (const view of ['Images', 'Containers']) {
        await expand(page, view);
        // The daemon stopped while connected; the retry found its socket gone.
        await welcome(page, view)
          .filter({ hasText: "Gantry's runtime on this machine stopped" })
          .waitFor({ state: 'visible', ...WAIT });
        await paneHeader(page, view)
          .filter({ hasText: 'not running' })
          .waitFor({ state: 'visible', ...WAIT });
        for (const button of ['Start Runtime', 'Reconnect', 'Show Log']) {
          await welcomeButton(page, view, button).waitFor({ state: 'visible', ...WAIT });
        }
      }
      // gRPC's own words stay in the log.
      const raw = await page.locator('.part.sidebar', { hasText: /No connection established|ENOENT|Resolution note/ }).count();
      if (raw !== 0) throw new Error('the sidebar shows the raw gRPC error');
      await page.mouse.move(700, 450); // no hover in the screenshot
    },
  },
];

export const restartFromUiChecks: UiCheck<DisconnectedUiContext>[] = [
  {
    name: 'a click on the status-bar item offers Start Runtime',
    async run({ page }) {
      await statusBarItem(page).click();
      const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'Start Runtime' });
      await row.waitFor({ state: 'visible', ...WAIT });
      await page.keyboard.press('Escape');
      await row.waitFor({ state: 'hidden', ...WAIT });
    },
  },
  {
    name: 'Start Runtime in the Containers view starts gantryd, and the views list again',
    async run({ page, daemonVersion, startedPids }) {
      await welcomeButton(page, 'Containers', 'Start Runtime').click();
      await statusBarItem(page)
        .filter({ hasText: daemonVersion })
        .waitFor({ state: 'visible', ...WAIT });
      await paneBody(paneHeader(page, 'Containers'))
        .locator('.monaco-list-row')
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await paneBody(paneHeader(page, 'Images'))
        .locator('.monaco-list-row')
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      const pids = startedPids();
      if (pids.length !== 1) throw new Error(`Start Runtime recorded ${pids.length} daemons: ${pids.join(', ')}`);
    },
  },
];
