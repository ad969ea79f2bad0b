// UI checks of the Images view's actions, clicked as a user clicks them:
// the title bar's Pull Image… with an image selected (it must ask), Pull on
// an image's menu, a failed pull (what it says, and that it is not offered
// again), a repository's menu, removing an image (the summary names it) and
// one a container uses (Remove Anyway), and Group By in the view's … menu.
// test/ui/run.ts runs these after the Images checks, with the images it
// pulled (busybox:latest and :1.36 from `registry`, gantry-test/app:v1 a
// second name of latest) and the `web` container running from latest.
// Leaves the repository menu's screenshot to run.ts: images-repository-menu.png.
import type { Page } from 'playwright-core';
import { RuntimeClient } from '../../runtime/client/client';
import { WAIT, menuItem, paneBody, paneHeader, pickFromContextMenu, type UiCheck } from './sidebar.ui';

export interface ImageActionsUiContext {
  page: Page;
  /** The test daemon's socket, to check through the API what the UI did. */
  socket: string;
  /** "127.0.0.1:PORT": the registry the images came from. */
  registry: string;
}

/** The DOM's Element.getAnimations (the tests compile without the DOM lib). */
type Animated = { getAnimations(options: { subtree: boolean }): { finished: Promise<unknown> }[] };

const imagesHeader = (page: Page) => paneHeader(page, 'Images');
const imagesBody = (page: Page) => paneBody(imagesHeader(page));
// Tree rows carry the item's accessibility label: "<name>, <details>"; a repository's is its name.
const imageRow = (page: Page, name: string) => imagesBody(page).locator(`.monaco-list-row[aria-label^="${name}, "]`).first();
const repositoryRow = (page: Page, repository: string) => imagesBody(page).locator(`.monaco-list-row[aria-label="${repository}"]`).first();
const quickInput = (page: Page) => page.locator('.quick-input-widget');
const toast = (page: Page, text: string | RegExp) => page.locator('.notification-toast', { hasText: text });
const dialog = (page: Page) => page.locator('.monaco-dialog-box');
const dialogButton = (page: Page, label: string) => dialog(page).locator('.monaco-button', { hasText: new RegExp(`^${label}$`) });

async function clickPullButton(page: Page): Promise<void> {
  await imagesHeader(page).hover();
  await imagesHeader(page).locator('.actions a.action-label[aria-label="Pull Image…"]').click();
}

async function waitForPullInput(page: Page): Promise<void> {
  await quickInput(page)
    .locator('.quick-input-title', { hasText: 'Pull Image' })
    .waitFor({ state: 'visible', ...WAIT });
  await quickInput(page)
    .locator('.quick-input-box input:focus')
    .waitFor({ state: 'visible', ...WAIT });
}

/** Clears the toast; an information toast may also hide by itself meanwhile: either way it is gone. */
async function dismiss(page: Page, text: string | RegExp): Promise<void> {
  const notification = toast(page, text).first();
  const clear = notification.locator('a.action-label[aria-label^="Clear Notification"]');
  await notification
    .hover({ timeout: 5_000 })
    .then(() => clear.click({ timeout: 5_000 }))
    .catch(() => undefined);
  await notification.waitFor({ state: 'detached', ...WAIT });
  await page.mouse.move(900, 300);
}

async function withClient<T>(socket: string, fn: (client: RuntimeClient) => Promise<T>): Promise<T> {
  const client = RuntimeClient.forSocket(socket);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/**
 * Opens the Images view's … menu and picks `entry` in its `submenu`, whose
 * entries are `entries` in order. The mouse opens the menus; the keyboard
 * picks in the submenu: a hover leaves the keyboard's focus (and Enter) in
 * the parent menu, and a click on a submenu entry did not run it here.
 */
async function pickFromViewMenu(page: Page, submenu: string, entries: readonly string[], entry: string): Promise<void> {
  try {
    await imagesHeader(page).hover();
    await imagesHeader(page).locator('.actions .codicon-toolbar-more').click();
    const parent = menuItem(page, submenu);
    await parent.waitFor({ state: 'visible', ...WAIT });
    await parent.hover();
    await menuItem(page, submenu, true).waitFor({ state: 'visible', ...WAIT });
    // ArrowRight opens the submenu with its first entry focused; on a busy
    // machine the first press can land before the menu takes keys: press again.
    for (let attempt = 1; ; attempt++) {
      await page.keyboard.press('ArrowRight');
      try {
        await menuItem(page, entries[0], true).waitFor({ state: 'visible', timeout: 5_000 });
        break;
      } catch (e) {
        if (attempt === 5) throw e;
        await parent.hover();
      }
    }
    for (let i = 1; i <= entries.indexOf(entry); i++) {
      await page.keyboard.press('ArrowDown');
      await menuItem(page, entries[i], true).waitFor({ state: 'visible', ...WAIT });
    }
    await page.keyboard.press('Enter');
    await parent.waitFor({ state: 'detached', ...WAIT });
  } finally {
    // A failure here leaves no menu open over the later checks.
    for (let i = 0; i < 3 && (await page.locator('.monaco-menu').count()); i++) await page.keyboard.press('Escape');
    await page.mouse.move(900, 300);
  }
}

const GROUP_BY = ['Repository', 'None'];

export const imageActionChecks: UiCheck<ImageActionsUiContext>[] = [
  {
    name: "with an image row selected, the title bar's Pull Image… asks for a reference and pulls nothing",
    async run({ page, registry }) {
      const latest = imageRow(page, `${registry}/gantry-test/busybox:latest`);
      await latest.click();
      await imagesBody(page)
        .locator('.monaco-list-row.selected.focused')
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      // VS Code passes the focused row to the title button's command: it must still ask.
      await clickPullButton(page);
      await waitForPullInput(page);
      if (await toast(page, /Pulling|Pulled/).count()) throw new Error('the button pulled instead of asking');
      await page.keyboard.press('Escape');
      await quickInput(page).waitFor({ state: 'hidden', ...WAIT });
      if (await toast(page, /Pulling|Pulled/).count()) throw new Error('a pull started after the input box was dismissed');
    },
  },
  {
    name: "an image's menu has Pull, which pulls that image again",
    async run({ page, registry }) {
      const name = `${registry}/gantry-test/busybox:latest`;
      await pickFromContextMenu(page, imageRow(page, name), 'Pull');
      await toast(page, `Pulled ${name}`).waitFor({ state: 'visible', ...WAIT });
      await dismiss(page, `Pulled ${name}`);
    },
  },
  {
    name: 'a pull of a missing tag says it was not found on that registry, and is not offered again',
    async run({ page, registry }) {
      const missing = `${registry}/gantry-test/busybox:nope`;
      await clickPullButton(page);
      await waitForPullInput(page);
      await page.keyboard.type(missing);
      await quickInput(page)
        .locator('.quick-input-list .monaco-list-row', { hasText: `pull ${missing}` })
        .waitFor({ state: 'visible', ...WAIT });
      await page.keyboard.press('Enter');
      const expected = `Could not pull ${missing}: the tag or the repository was not found on registry ${registry}.`;
      await toast(page, expected).waitFor({ state: 'visible', ...WAIT });
      await dismiss(page, expected);

      await clickPullButton(page);
      await waitForPullInput(page);
      const rows = quickInput(page).locator('.quick-input-list .monaco-list-row');
      // The pull that succeeded (the menu's Pull, above) is offered; the one that failed is not.
      await rows
        .filter({ hasText: `${registry}/gantry-test/busybox:latest` })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      const offered = await rows.allTextContents();
      await page.keyboard.press('Escape');
      await quickInput(page).waitFor({ state: 'hidden', ...WAIT });
      if (offered.some((t) => t.includes(':nope'))) throw new Error(`the failed reference is offered: ${JSON.stringify(offered)}`);
    },
  },
  {
    name: "a repository's menu has Pull All Tags and Remove All Tags…",
    async run({ page, registry }) {
      await repositoryRow(page, `${registry}/gantry-test/busybox`).click({ button: 'right' });
      for (const title of ['Pull All Tags', 'Remove All Tags…']) await menuItem(page, title).waitFor({ state: 'visible', ...WAIT });
      // Left open for run.ts's screenshot (run.ts closes it), once its fade-in is over.
      await page
        .locator('.monaco-menu-container')
        .first()
        .evaluate((el) => Promise.all((el as unknown as Animated).getAnimations({ subtree: true }).map((a) => a.finished)));
    },
  },
];

export const imageRemoveChecks: UiCheck<ImageActionsUiContext>[] = [
  {
    name: 'removing an image asks, then names what it removed',
    async run({ page }) {
      await pickFromContextMenu(page, imageRow(page, 'gantry-test/app:v1'), 'Remove Image…');
      await dialog(page)
        .filter({ hasText: 'Remove image gantry-test/app:v1?' })
        .waitFor({ state: 'visible', ...WAIT });
      await dialogButton(page, 'Remove').click();
      await toast(page, 'Removed gantry-test/app:v1; reclaimed ').waitFor({ state: 'visible', ...WAIT });
      await dismiss(page, 'Removed gantry-test/app:v1');
      // The view has listed again (a refresh re-renders the rows, and would close a menu opened meanwhile).
      await imagesBody(page)
        .locator('.monaco-list-row[aria-label="gantry-test/app"]')
        .waitFor({ state: 'detached', ...WAIT });
    },
  },
  {
    name: 'removing an image a container uses names the container and offers Remove Anyway',
    async run({ page, socket, registry }) {
      const name = `${registry}/gantry-test/busybox:latest`;
      try {
        await pickFromContextMenu(page, imageRow(page, name), 'Remove Image…');
        await dialog(page)
          .filter({ hasText: `Remove image ${name}?` })
          .waitFor({ state: 'visible', ...WAIT });
        await dialogButton(page, 'Remove').click();
        // Both containers run.ts made come from latest: web (running) and nightly-job (exited).
        const refused = dialog(page)
          .filter({ hasText: `${name} is used by containers ` })
          .filter({ hasText: /\bweb\b/ })
          .filter({ hasText: /\bnightly-job\b/ });
        await refused.waitFor({ state: 'visible', ...WAIT });
        await dialogButton(page, 'Remove Anyway').waitFor({ state: 'visible', ...WAIT });
        const text = (await refused.textContent()) ?? '';
        if (/--force|cannot be removed/.test(text)) throw new Error(`the dialog speaks CLI: ${JSON.stringify(text)}`);
        await dialogButton(page, 'Cancel').click();
        await dialog(page).waitFor({ state: 'detached', ...WAIT });
      } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : e}\ndialogs open: ${JSON.stringify(await dialog(page).allTextContents())}`);
      } finally {
        if (await dialog(page).count()) await page.keyboard.press('Escape'); // so a failure here fails no later check
      }
      // Cancelled: the image stays, and no error is reported for a choice the user made.
      const names = await withClient(socket, async (client) => (await client.images.list()).map((i) => i.name));
      if (!names.includes(name)) throw new Error(`${name} was removed`);
      if (await toast(page, /--force|Could not remove/).count()) throw new Error('keeping the image was reported as a failure');
      await page.mouse.move(900, 300);
    },
  },
  {
    name: "Group By in the view's … menu flattens the view, and groups it again",
    async run({ page, registry }) {
      const name = `${registry}/gantry-test/busybox:1.36`;
      const label = async () => (await imageRow(page, name).locator('.label-name').textContent())?.trim();
      await pickFromViewMenu(page, 'Group By', GROUP_BY, 'None');
      await imagesBody(page)
        .locator(`.monaco-list-row[aria-label^="${name}, "] .label-name`, { hasText: name })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await pickFromViewMenu(page, 'Group By', GROUP_BY, 'Repository');
      await repositoryRow(page, `${registry}/gantry-test/busybox`).waitFor({ state: 'visible', ...WAIT });
      await imagesBody(page)
        .locator(`.monaco-list-row[aria-label^="${name}, "] .label-name`, { hasText: /^\s*1\.36\s*$/ })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      if ((await label()) !== '1.36') throw new Error(`grouped again, the row is labelled ${await label()}`);
    },
  },
];
