// UI checks of networking in the extension, clicked as a person clicks:
// the Networks view (collapsed at first: a click on its header opens it)
// lists the default network and, live, one made outside the window; Create
// Network… from its title bar checks the name as it is typed; Run… with a
// port publishes it (the page answers); and Open in Browser on the port's
// row opens the page: code-server's asExternalUri maps localhost:PORT to its
// own /proxy/PORT/ path, so the new browser tab shows the container's page.
// test/ui/run.ts runs these after runFlow.ui.ts and saves
// test-output/ui/networks.png.
import * as http from 'node:http';
import * as net from 'node:net';
import type { Page } from 'playwright-core';
import { acceptFirst, answer, focusedInput, quickInput, quickRow, quickTitle, withClient } from './pullRun.ui';
import { startRun } from './runFlow.ui';
import { row as containerRow } from './containers.ui';
import { WAIT, paneBody, paneHeader, type UiCheck } from './sidebar.ui';
import { waitFor } from '../helpers/waitFor';

export interface NetworksUiContext {
  page: Page;
  socket: string;
  /** A pulled image: "HOST/gantry-test/busybox:latest". */
  image: string;
}

const ELSEWHERE = 'ui-cli-net';
const CREATED = 'ui-net';
const WEB = 'ui-published';
const PAGE_TEXT = 'hello from a published port';
/** Chosen once, free when the checks start. */
let hostPort = 0;

const networksBody = (page: Page) => paneBody(paneHeader(page, 'Networks'));
const networkRow = (page: Page, name: string) =>
  networksBody(page).locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${name}$`) }) });

async function titleButton(page: Page, view: string, title: string): Promise<void> {
  const header = paneHeader(page, view);
  await header.hover();
  const button = header.locator(`.actions a.action-label[aria-label="${title}"]`);
  await button.waitFor({ state: 'visible', ...WAIT });
  await button.click();
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function httpGet(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

export const networksChecks: UiCheck<NetworksUiContext>[] = [
  {
    name: 'the Networks view opens from its header and lists the default network bridge, with its subnet',
    async run({ page, socket }) {
      const header = paneHeader(page, 'Networks');
      await header.waitFor({ state: 'visible', ...WAIT });
      if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
      const subnet = await withClient(socket, async (client) => (await client.networks.inspect('bridge')).subnet);
      await networkRow(page, 'bridge')
        .filter({ hasText: subnet })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'a network created outside the window (the API, as the CLI does) appears in the view by itself',
    async run({ page, socket }) {
      await withClient(socket, (client) => client.networks.create({ name: ELSEWHERE }));
      await networkRow(page, ELSEWHERE)
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'Create Network… from the title bar refuses a reserved name as it is typed, then creates the network',
    async run({ page }) {
      await titleButton(page, 'Networks', 'Create Network…');
      const title = 'Create Network';
      await quickTitle(page, `${title} (1/3)`).waitFor({ state: 'visible', ...WAIT });
      await focusedInput(page).waitFor({ state: 'visible', ...WAIT });
      await page.keyboard.type('host');
      await quickInput(page)
        .locator('.quick-input-message', { hasText: 'reserved' })
        .waitFor({ state: 'visible', ...WAIT });
      await focusedInput(page).fill('');
      await answer(page, `${title} (1/3)`, CREATED);
      await quickTitle(page, `${title} (2/3)`).waitFor({ state: 'visible', ...WAIT });
      await page.keyboard.press('Enter'); // a free subnet
      await acceptFirst(page, `${title} (3/3)`, 'Routed');
      await quickInput(page).waitFor({ state: 'hidden', ...WAIT });
      await networkRow(page, CREATED)
        .filter({ hasText: 'no containers' })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'Run… with a port on the new network publishes it: the page answers on the host',
    async run({ page, socket, image }) {
      hostPort = await freePort();
      await startRun(page, image);
      const title = `Run ${image}`;
      await answer(page, `${title} (1/7)`, WEB);
      await answer(page, `${title} (2/7)`, `sh -c "mkdir -p /www && echo '${PAGE_TEXT}' > /www/index.html && exec httpd -f -p 80 -h /www"`);
      await quickTitle(page, `${title} (3/7)`).waitFor({ state: 'visible', ...WAIT });
      await page.keyboard.press('Enter'); // no environment
      // A bad port is refused as typed, then the good one.
      await quickTitle(page, `${title} (4/7)`).waitFor({ state: 'visible', ...WAIT });
      await page.keyboard.type('80:http');
      await quickInput(page)
        .locator('.quick-input-message', { hasText: 'invalid port specification' })
        .waitFor({ state: 'visible', ...WAIT });
      await focusedInput(page).fill('');
      await answer(page, `${title} (4/7)`, `${hostPort}:80`);
      await quickTitle(page, `${title} (5/7)`).waitFor({ state: 'visible', ...WAIT });
      await page.keyboard.type(CREATED);
      await quickRow(page, new RegExp(`^\\s*${CREATED}`), true).waitFor({ state: 'visible', ...WAIT });
      await page.keyboard.press('Enter');
      await acceptFirst(page, `${title} (6/7)`, 'no');
      await acceptFirst(page, `${title} (7/7)`, 'Run detached');
      await quickInput(page).waitFor({ state: 'hidden', ...WAIT });

      const record = await withClient(socket, (client) =>
        waitFor(async () => (await client.containers.list(false)).find((c) => c.name === WEB && c.ports.length > 0), {
          what: `${WEB} running with a published port`,
          timeoutMs: WAIT.timeout,
          intervalMs: 200,
        }),
      );
      if (record.network !== CREATED) throw new Error(`${WEB} is on ${JSON.stringify(record.network)}, not ${CREATED}`);
      let body: string | undefined;
      await waitFor(async () => (body = await httpGet(`http://127.0.0.1:${hostPort}/`)) === `${PAGE_TEXT}\n`, {
        what: `the page on 127.0.0.1:${hostPort}`,
        timeoutMs: WAIT.timeout,
        intervalMs: 200,
        describe: () => JSON.stringify(body),
      });
      // The Networks view shows it under its network.
      await networkRow(page, CREATED)
        .filter({ hasText: '1 container' })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: "Open in Browser on the container's port row opens the published page in a new tab",
    async run({ page }) {
      const container = containerRow(page, WEB).first();
      await container.waitFor({ state: 'visible', ...WAIT });
      const portRow = paneBody(paneHeader(page, 'Containers'))
        .locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: `${hostPort} → 80/tcp` }) })
        .first();
      // Expanded from the keyboard, as a person may: select the row, then →. A refresh that
      // re-renders the tree in between can eat the key: try again until the port shows.
      await waitFor(
        async () => {
          if (await portRow.isVisible()) return true;
          await container.click();
          await page.keyboard.press('ArrowRight');
          return portRow.waitFor({ state: 'visible', timeout: 2_000 }).then(
            () => true,
            () => false,
          );
        },
        { what: `the port row ${hostPort} → 80/tcp under ${WEB}`, timeoutMs: WAIT.timeout, intervalMs: 200 },
      );
      await portRow.hover();
      const opened = page.context().waitForEvent('page', { timeout: WAIT.timeout });
      await portRow.locator('a.action-label[aria-label="Open in Browser"]').click();
      // The workbench may ask before opening an outside link: open it, as a person would.
      const dialog = page.locator('.monaco-dialog-box a.monaco-button', { hasText: /^Open$/ });
      const tab = await Promise.race([
        opened,
        dialog.waitFor({ state: 'visible', ...WAIT }).then(async () => {
          await dialog.click();
          return opened;
        }),
      ]);
      await tab.waitForLoadState('domcontentloaded', WAIT);
      const url = tab.url();
      if (!url.endsWith(`/proxy/${hostPort}/`) && url !== `http://localhost:${hostPort}/`)
        throw new Error(`the new tab is at ${url}, not the published port ${hostPort}`);
      await tab
        .locator('body', { hasText: PAGE_TEXT })
        .waitFor({ state: 'visible', ...WAIT })
        .catch(async (e) => {
          throw new Error(`the tab at ${url} does not show the page: ${JSON.stringify(await tab.content())}: ${e}`);
        });
      await tab.close();
      await page.bringToFront();
    },
  },
];
