// UI checks of the Volumes view, clicked as a person clicks: the view
// (collapsed at first: a click on its header opens it) lists a volume with
// its size and the container using it; a click on its twistie lists its
// files (the daemon's files service, rooted in the volume), a folder opens
// the same way, and a click on a file opens it in an editor through
// gantry-files://volume/…. test/ui/run.ts runs these after the Files checks
// and saves test-output/ui/volumes.png (the expanded volume and the open
// file), then puts the sidebar back.
import type { Page } from 'playwright-core';
import { withClient } from './pullRun.ui';
import { WAIT, paneBody, paneHeader, type UiCheck } from './sidebar.ui';
import { waitFor } from '../helpers/waitFor';

export interface VolumesUiContext {
  page: Page;
  socket: string;
  image: string;
}

const VOLUME = 'ui-data';
const USER = 'ui-volume-user';
const CONTENT = 'written by a container into its volume';

const volumesBody = (page: Page) => paneBody(paneHeader(page, 'Volumes'));
const volumeRow = (page: Page, name: string) =>
  volumesBody(page).locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${name}$`) }) });

async function setViewOpen(page: Page, view: string, open: boolean): Promise<void> {
  const header = paneHeader(page, view);
  await header.waitFor({ state: 'visible', ...WAIT });
  if (((await header.getAttribute('aria-expanded')) === 'true') !== open) await header.click();
}

async function expand(page: Page, name: string): Promise<void> {
  const target = volumeRow(page, name).first();
  await target.waitFor({ state: 'visible', ...WAIT });
  if ((await target.getAttribute('aria-expanded')) !== 'true') await target.locator('.monaco-tl-twistie').click();
}

export const volumesChecks: UiCheck<VolumesUiContext>[] = [
  {
    name: 'the Volumes view opens from its header and lists a volume with its size and the container using it',
    async run({ page, socket, image }) {
      await withClient(socket, async (client) => {
        await client.volumes.create({ name: VOLUME });
        const c = await client.containers.create(USER, {
          image,
          cmd: ['sh', '-c', `mkdir -p /data/conf && echo '${CONTENT}' > /data/conf/app.txt && echo 1 > /data/version`],
          network: 'none',
          volumeMounts: [
            { name: VOLUME, destination: '/data', readOnly: false, noCopy: false, volumeOptions: {}, volumeLabels: {}, anonymous: false },
          ],
        });
        await client.containers.start(c.id);
        await waitFor(async () => ((await client.containers.list(true)).find((x) => x.id === c.id)?.finishedAt ? true : undefined), {
          what: `${USER} to finish writing`,
          intervalMs: 200,
        });
      });
      // Room for the tree: the other views closed (put back by volumesRestoreChecks).
      for (const view of ['Images', 'Containers', 'Networks']) await setViewOpen(page, view, false);
      await setViewOpen(page, 'Volumes', true);
      await volumeRow(page, VOLUME)
        .filter({ hasText: USER })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'the volume expands into its files, a folder into its own, and a click opens a file in an editor',
    async run({ page }) {
      await expand(page, VOLUME);
      await volumeRow(page, 'version')
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await expand(page, 'conf');
      await volumeRow(page, 'app.txt').first().click();
      await page
        .locator('.tab', { hasText: 'app.txt' })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await page
        .locator('.monaco-editor .view-lines', { hasText: CONTENT })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
];

/** After the volumes.png screenshot. */
export const volumesRestoreChecks: UiCheck<VolumesUiContext>[] = [
  {
    name: 'the sidebar is put back: Volumes closed, Images, Containers and Networks open',
    async run({ page, socket }) {
      await page.keyboard.press('Escape');
      await setViewOpen(page, 'Volumes', false);
      for (const view of ['Images', 'Containers', 'Networks']) await setViewOpen(page, view, true);
      await withClient(socket, async (client) => {
        await client.containers.remove(USER, true).catch(() => undefined);
        await client.volumes.remove(VOLUME, { force: true }).catch(() => undefined);
      });
    },
  },
];
