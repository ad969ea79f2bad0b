// UI checks of issue 16's extension side, clicked as a user clicks: Push
// Image… from an image's context menu shows a progress notification (the
// upload held by pushGate.ts until it has been seen), then "Pushed", and the
// registry has the tag; the Registries view (collapsed at first) opens from
// its header and lists the test registry (run.ts writes it into the Docker
// config the daemon and code-server share), which expands into its
// repositories and a repository into its tags. run.ts then takes
// test-output/ui/push-progress.png and registries.png.
import type { Page } from 'playwright-core';
import type { PushGate } from './pushGate';
import { toast, withClient } from './pullRun.ui';
import { WAIT, paneBody, paneHeader, pickFromContextMenu, type UiCheck } from './sidebar.ui';
import { waitFor, within } from '../helpers/waitFor';

export interface RegistriesUiContext {
  page: Page;
  socket: string;
  /** "127.0.0.1:PORT" of the test registry, listed in the Docker config. */
  registry: string;
  /** A local image to push: "HOST/gantry-test/busybox:latest". */
  image: string;
  gate: PushGate;
}

export const PUSHED_REPOSITORY = 'gantry-test/ui-push';

const imagesBody = (page: Page) => paneBody(paneHeader(page, 'Images'));
const registriesBody = (page: Page) => paneBody(paneHeader(page, 'Registries'));
const registryRow = (page: Page, label: string) =>
  registriesBody(page).locator('.monaco-list-row', {
    has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/\./g, '\\.')}$`) }),
  });

const pushed = ({ gate }: RegistriesUiContext) => `${gate.host}/${PUSHED_REPOSITORY}:v1`;

/** Opens or closes a sidebar pane by clicking its header. */
async function setPane(page: Page, title: string, expanded: boolean): Promise<void> {
  const header = paneHeader(page, title);
  await header.waitFor({ state: 'visible', ...WAIT });
  if (((await header.getAttribute('aria-expanded')) === 'true') !== expanded) await header.click();
  await waitFor(async () => ((await header.getAttribute('aria-expanded')) === 'true') === expanded, {
    what: `the ${title} view ${expanded ? 'open' : 'closed'}`,
    timeoutMs: WAIT.timeout,
  });
}

async function titleButton(page: Page, view: string, title: string): Promise<void> {
  const header = paneHeader(page, view);
  await header.hover();
  const button = header.locator(`.actions a.action-label[aria-label="${title}"]`);
  await button.waitFor({ state: 'visible', ...WAIT });
  await button.click();
}

async function expand(page: Page, label: string): Promise<void> {
  const row = registryRow(page, label).first();
  await row.waitFor({ state: 'visible', ...WAIT });
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
}

export const pushChecks: UiCheck<RegistriesUiContext>[] = [
  {
    name: 'Push Image… on an image’s context menu shows the push’s progress',
    async run(ctx) {
      const { page, socket, image, gate } = ctx;
      await withClient(socket, (client) => client.images.tag(image, pushed(ctx)));
      // Room for the Images view, narrowed to the image to push.
      await setPane(page, 'Containers', false);
      await setPane(page, 'Networks', false);
      await titleButton(page, 'Images', 'Filter Images…');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', ...WAIT });
      await input.fill('ui-push');
      await page.keyboard.press('Enter');
      const row = imagesBody(page)
        .locator(`.monaco-list-row[aria-label^="${pushed(ctx)}, "]`)
        .first();
      await row.waitFor({ state: 'visible', ...WAIT });
      // A refresh of the view between the menu opening and the command running
      // leaves the workbench holding a stale row: the command then gets no node
      // and asks which image, as from the palette. A person would close that and
      // use the menu again; so does the test (at most three times).
      // The picker says so in its input's placeholder (an attribute, not text a hasText filter sees).
      const askedWhich = page.locator('.quick-input-widget input[placeholder="Select the image to push"]');
      for (let attempt = 1; ; attempt++) {
        await pickFromContextMenu(page, row, 'Push Image…');
        const outcome = await Promise.race([
          within(gate.held, { what: 'the daemon to upload a blob', timeoutMs: WAIT.timeout }).then(() => 'held' as const),
          askedWhich.waitFor({ state: 'visible', ...WAIT }).then(() => 'asked' as const),
        ]);
        if (outcome === 'held') break;
        if (attempt === 3) throw new Error('Push Image… on the row lost its image three times');
        await page.keyboard.press('Escape');
        await askedWhich.waitFor({ state: 'hidden', ...WAIT });
      }
      await toast(page, `Pushing ${pushed(ctx)}`)
        .filter({ hasText: /[\d.]+[kMG]?B \/ [\d.]+[kMG]?B · \d+ of \d+ blobs/ })
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
];

export const pushedChecks: UiCheck<RegistriesUiContext>[] = [
  {
    name: 'once the upload goes through, "Pushed" is shown and the registry has the tag',
    async run(ctx) {
      const { page, socket, gate } = ctx;
      gate.release();
      await toast(page, `Pushed ${pushed(ctx)}`).waitFor({ state: 'visible', ...WAIT });
      const tags = await withClient(socket, (client) => client.images.listTags(`${gate.host}/${PUSHED_REPOSITORY}`));
      if (tags.join() !== 'v1') throw new Error(`the registry lists ${JSON.stringify(tags)} for ${PUSHED_REPOSITORY}`);
    },
  },
];

export const registriesChecks: UiCheck<RegistriesUiContext>[] = [
  {
    name: 'the Registries view opens from its header and lists the registry of the Docker config',
    async run({ page, registry }) {
      await setPane(page, 'Images', false);
      await setPane(page, 'Registries', true);
      await registryRow(page, registry)
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'the registry expands into its repositories (the pushed one too), a repository into its tags',
    async run({ page, registry }) {
      await expand(page, registry);
      await registryRow(page, PUSHED_REPOSITORY)
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await expand(page, 'gantry-test/busybox');
      for (const tag of ['1.36', 'latest'])
        await registryRow(page, tag)
          .first()
          .waitFor({ state: 'visible', ...WAIT });
      await page.mouse.move(900, 300);
    },
  },
];

/** After the screenshot: the sidebar as the later checks expect it (every view but Registries open, unfiltered). */
export const registriesRestoreChecks: UiCheck<RegistriesUiContext>[] = [
  {
    name: 'the sidebar is put back: Registries closed, the other views open, Images unfiltered',
    async run({ page }) {
      await setPane(page, 'Registries', false);
      for (const title of ['Images', 'Containers', 'Networks']) await setPane(page, title, true);
      await titleButton(page, 'Images', 'Clear Images Filter');
      await paneHeader(page, 'Images')
        .locator('.description', { hasText: 'filter:' })
        .waitFor({ state: 'detached', ...WAIT });
      await page.mouse.move(900, 300);
    },
  },
];
