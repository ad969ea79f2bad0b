// UI checks of the Containers view with containers in it. test/ui/run.ts
// creates them through the API before (createUiContainers: one running,
// one that exited 3), then runs these after the Images checks and saves
// test-output/ui/containers.png, containers-logs.png, containers-inspect.png.
// The logs and inspect editors are opened as a user opens them: from the
// item's context menu.
import type { Page } from 'playwright-core';
import { RuntimeClient } from '../../runtime/client/client';
import { ContainerStatus } from '../../runtime/api/gen/gantry/v1/containers';
import { WAIT, menuItem, paneBody, paneHeader, pickFromContextMenu, type UiCheck } from './sidebar.ui';
import { waitFor } from '../helpers/waitFor';

export interface ContainersUiContext {
  page: Page;
}

export const RUNNING = 'web';
export const EXITED = 'nightly-job';

/** Creates and starts the two containers from `image`; resolves once `nightly-job` has exited. */
export async function createUiContainers(socket: string, image: string): Promise<void> {
  const client = RuntimeClient.forSocket(socket);
  try {
    const web = await client.containers.create(RUNNING, {
      image,
      cmd: ['sh', '-c', 'i=0; while true; do echo "GET /api/items/$i 200 $((i % 7 + 3))ms"; i=$((i+1)); sleep 0.5; done'],
      restartPolicy: { name: 'unless-stopped', maximumRetryCount: 0 },
    });
    await client.containers.start(web.id);
    const job = await client.containers.create(EXITED, {
      image,
      cmd: ['sh', '-c', 'echo "migrating…"; echo "error: table missing" >&2; exit 3'],
    });
    await client.containers.start(job.id);
    await waitFor(async () => (await client.containers.inspect(job.id)).container?.status === ContainerStatus.CONTAINER_STATUS_EXITED, {
      what: `${EXITED} to exit`,
      intervalMs: 100,
    });
  } finally {
    client.close();
  }
}

export const containersBody = (page: Page) => paneBody(paneHeader(page, 'Containers'));
export const row = (page: Page, name: string) =>
  containersBody(page).locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${name}$`) }) });

/** Right-clicks the container's row and picks `title` from its context menu. */
const contextMenu = (page: Page, name: string, title: string) => pickFromContextMenu(page, row(page, name).first(), title);

export const containersChecks: UiCheck<ContainersUiContext>[] = [
  {
    name: 'the Containers view lists the running container first, then the exited one',
    async run({ page }) {
      await row(page, RUNNING)
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await row(page, EXITED)
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      const labels = await containersBody(page).locator('.monaco-list-row .label-name').allTextContents();
      if (labels.indexOf(RUNNING) > labels.indexOf(EXITED)) throw new Error(`order: ${JSON.stringify(labels)}`);
    },
  },
  {
    name: 'items show image and status, with a state icon',
    async run({ page }) {
      await row(page, RUNNING)
        .filter({ hasText: /gantry-test\/busybox:latest · Up / })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await row(page, EXITED)
        .filter({ hasText: /· Exited \(3\) / })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await row(page, RUNNING)
        .locator('.codicon-vm-running')
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await row(page, EXITED)
        .locator('.codicon-error')
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'the title bar has Run… and Refresh buttons',
    async run({ page }) {
      const header = paneHeader(page, 'Containers');
      await header.hover();
      for (const title of ['Run…', 'Refresh Containers']) {
        await header.locator(`.actions a.action-label[aria-label="${title}"]`).waitFor({ state: 'attached', ...WAIT });
      }
    },
  },
  {
    name: "a running container's menu offers stop and shell, not start",
    async run({ page }) {
      await row(page, RUNNING).first().click({ button: 'right' });
      try {
        await menuItem(page, 'Open Shell in Container').waitFor({ state: 'visible', ...WAIT });
        await menuItem(page, 'Stop Container').waitFor({ state: 'visible', ...WAIT });
        if (await menuItem(page, 'Start Container').count()) throw new Error('Start is offered for a running container');
        if (await menuItem(page, 'Unpause Container').count()) throw new Error('Unpause is offered for a running container');
      } finally {
        await page.keyboard.press('Escape');
      }
    },
  },
];

/** Run after the containers.png screenshot: leaves the log editor open. */
export const containerLogsChecks: UiCheck<ContainersUiContext>[] = [
  {
    name: 'View Container Logs opens the log, which keeps following',
    async run({ page }) {
      await contextMenu(page, RUNNING, 'View Container Logs');
      const editor = page.locator('.editor-instance .view-lines');
      await page
        .locator('.tab', { hasText: `${RUNNING}.log` })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await editor
        .filter({ hasText: 'GET /api/items/' })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      // A line printed after the document opened (the container prints one every 0.5 s).
      const newest = async () =>
        Math.max(-1, ...[...((await editor.first().textContent()) ?? '').matchAll(/items\/(\d+)/g)].map((m) => Number(m[1])));
      const first = await newest();
      const deadline = Date.now() + WAIT.timeout;
      while ((await newest()) < first + 3) {
        if (Date.now() > deadline) throw new Error(`the log did not grow past line ${first}`);
        await page.waitForTimeout(200);
      }
    },
  },
];

/** Run after containers-logs.png: leaves the inspect editor open. */
export const containerInspectChecks: UiCheck<ContainersUiContext>[] = [
  {
    name: 'Inspect Container opens its JSON, state included',
    async run({ page }) {
      await contextMenu(page, EXITED, 'Inspect Container');
      await page
        .locator('.tab', { hasText: `${EXITED}.json` })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      const editor = page.locator('.editor-instance .view-lines');
      await editor
        .filter({ hasText: '"status": "exited"' })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await editor
        .filter({ hasText: '"exitCode": 3' })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
];
