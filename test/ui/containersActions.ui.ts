// UI checks of the Containers view's newer actions, clicked as a person
// clicks them: Copy Container Name from an item's context menu, the Filter
// and Clear Filter title buttons, and a Stop from the context menu, which
// the item shows while it is in flight (and whose menu then offers no
// Pause), ending as a stopped container, not a failed one. test/ui/run.ts
// runs these after containers.ui.ts's checks and saves
// test-output/ui/containers-filtered.png and containers-stopping.png.
import type { Page } from 'playwright-core';
import { EXITED, RUNNING, containersBody, row, type ContainersUiContext } from './containers.ui';
import { WAIT, menuItem, paneHeader, pickFromContextMenu, type UiCheck } from './sidebar.ui';

/** Clicks a title-bar button of the Containers view. */
async function titleButton(page: Page, title: string): Promise<void> {
  const header = paneHeader(page, 'Containers');
  await header.hover();
  const button = header.locator(`.actions a.action-label[aria-label="${title}"]`);
  await button.waitFor({ state: 'visible', ...WAIT });
  await button.click();
}

export const containerCopyFilterChecks: UiCheck<ContainersUiContext>[] = [
  {
    name: 'Copy Container Name from the context menu puts the name on the clipboard',
    async run({ page }) {
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
      await page.evaluate("navigator.clipboard.writeText('nothing yet')");
      await pickFromContextMenu(page, row(page, EXITED).first(), 'Copy Container Name');
      const deadline = Date.now() + WAIT.timeout;
      let text = '';
      while ((text = await page.evaluate<string>('navigator.clipboard.readText()')) !== EXITED) {
        if (Date.now() > deadline) throw new Error(`the clipboard holds ${JSON.stringify(text)}, not ${EXITED}`);
        await page.waitForTimeout(100);
      }
    },
  },
  {
    name: 'the Filter button narrows the view to the matching containers, and says so in its header',
    async run({ page }) {
      await titleButton(page, 'Filter Containers…');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', ...WAIT });
      await input.fill('nightly');
      await page.keyboard.press('Enter');
      await row(page, RUNNING)
        .first()
        .waitFor({ state: 'detached', ...WAIT });
      await row(page, EXITED)
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await paneHeader(page, 'Containers')
        .locator('.description', { hasText: 'filter: nightly' })
        .waitFor({ state: 'visible', ...WAIT });
      await page.mouse.move(700, 450);
    },
  },
];

export const containerClearFilterChecks: UiCheck<ContainersUiContext>[] = [
  {
    name: 'the Clear Filter button shows every container again',
    async run({ page }) {
      await titleButton(page, 'Clear Containers Filter');
      await row(page, RUNNING)
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await row(page, EXITED)
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
];

/** Leaves the stop in flight (the container ignores SIGTERM: the stop takes its 10 s timeout) for a screenshot. */
export const containerStoppingChecks: UiCheck<ContainersUiContext>[] = [
  {
    name: 'Stop from the context menu shows the container as stopping, and its menu then offers no Pause',
    async run({ page }) {
      await pickFromContextMenu(page, row(page, RUNNING).first(), 'Stop Container');
      const busy = row(page, RUNNING).filter({ hasText: 'Stopping…' }).first();
      await busy.waitFor({ state: 'visible', ...WAIT });
      await busy.locator('.codicon-loading').waitFor({ state: 'visible', ...WAIT });
      await busy.click({ button: 'right' });
      try {
        await menuItem(page, 'Inspect Container').waitFor({ state: 'visible', ...WAIT });
        for (const title of ['Pause Container', 'Stop Container', 'Restart Container', 'Open Shell in Container']) {
          if (await menuItem(page, title).count()) throw new Error(`${title} is offered while the container stops`);
        }
      } finally {
        await page.keyboard.press('Escape');
      }
      await page.mouse.move(700, 450);
    },
  },
];

export const containerStoppedChecks: UiCheck<ContainersUiContext>[] = [
  {
    name: 'once stopped by the user it shows as exited (137) with the stopped icon, not the error one',
    async run({ page }) {
      const stopped = row(page, RUNNING)
        .filter({ hasText: /· Exited \(137\) / })
        .first();
      await stopped.waitFor({ state: 'visible', ...WAIT });
      await stopped.locator('.codicon-circle-slash').waitFor({ state: 'visible', ...WAIT });
      // The one that failed on its own keeps the error icon.
      await row(page, EXITED)
        .locator('.codicon-error')
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      if (!(await containersBody(page).locator('.monaco-list-row').count())) throw new Error('the view is empty');
    },
  },
];
