// UI checks of Kubernetes pods in the Containers view (docs/cri.md, "One
// runtime, two faces"), clicked as a person clicks: a pod made through the
// daemon's CRI socket, as a kubelet makes it, shows as `namespace/pod` with
// its container under it; the container's context menu offers logs, shell
// and inspect and nothing that would fight the kubelet; its logs and a
// shell open from there. test/ui/run.ts runs them after the other
// Containers checks and saves test-output/ui/containers-pods.png; the last
// check removes the pod (the views after it are pictured without it).
import type { Page } from 'playwright-core';
import { criClient, type CriClient } from '../helpers/criClient';
import { runTestPod, type TestPod } from '../helpers/criTestPod';
import { containersBody, row } from './containers.ui';
import { WAIT, menuItem, pickFromContextMenu, type UiCheck } from './sidebar.ui';

export interface PodsUiContext {
  page: Page;
  /** The test daemon's CRI socket (<state>/cri.sock). */
  criSocket: string;
  /** A pulled image: "HOST/gantry-test/busybox:latest". */
  image: string;
}

const NAMESPACE = 'shop';
const POD = 'web';
const CONTAINER = 'app';
const LINE = 'serving the shop on :8080';

let cri: CriClient | undefined;
let pod: TestPod | undefined;

/** The pod's row and its container's (one level down, as VS Code nests tree rows). */
const podRow = (page: Page) => row(page, `${NAMESPACE}/${POD}`).first();
const containerRow = (page: Page) => row(page, CONTAINER).and(containersBody(page).locator('.monaco-list-row[aria-level="2"]')).first();
const terminalText = (page: Page) => page.locator('.part.panel .xterm .xterm-rows');

export const podsChecks: UiCheck<PodsUiContext>[] = [
  {
    name: 'a pod made through the CRI shows as namespace/pod, ready, with its container under it',
    async run({ page, criSocket, image }) {
      cri = criClient(criSocket);
      pod = await runTestPod(cri, {
        namespace: NAMESPACE,
        name: POD,
        container: CONTAINER,
        image,
        script: `echo '${LINE}'; exec sleep 3600`,
      });
      await podRow(page)
        .filter({ hasText: /Ready · 1 container/ })
        .waitFor({ state: 'visible', ...WAIT });
      await podRow(page)
        .locator('.codicon-package')
        .waitFor({ state: 'visible', ...WAIT });
      await containerRow(page)
        .filter({ hasText: /gantry-test\/busybox:latest · Up / })
        .waitFor({ state: 'visible', ...WAIT });
      const labels = await containersBody(page).locator('.monaco-list-row .label-name').allTextContents();
      if (labels.some((l) => l.startsWith('k8s.io/'))) throw new Error(`a CRI record name is shown: ${JSON.stringify(labels)}`);
      await page.mouse.move(900, 300);
    },
  },
  {
    name: "the pod container's menu offers logs, shell and inspect, not stop or remove",
    async run({ page }) {
      await containerRow(page).click({ button: 'right' });
      try {
        for (const title of ['View Container Logs', 'Open Shell in Container', 'Inspect Container']) {
          await menuItem(page, title).waitFor({ state: 'visible', ...WAIT });
        }
        for (const title of ['Stop Container', 'Remove Container', 'Restart Container', 'Kill Container']) {
          if (await menuItem(page, title).count()) throw new Error(`${title} is offered for a container the kubelet owns`);
        }
      } finally {
        await page.keyboard.press('Escape');
      }
    },
  },
  {
    name: "View Container Logs on the pod's container shows the line it printed",
    async run({ page }) {
      await pickFromContextMenu(page, containerRow(page), 'View Container Logs');
      await page
        .locator('.tab', { hasText: `${NAMESPACE}_${POD}_${CONTAINER}.log` })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await page
        .locator('.editor-instance .view-lines')
        .filter({ hasText: LINE })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: "Open Shell in Container on the pod's container runs a command there",
    async run({ page }) {
      await pickFromContextMenu(page, containerRow(page), 'Open Shell in Container');
      const rows = terminalText(page);
      await rows.filter({ hasText: /\/\s#/ }).waitFor({ state: 'visible', ...WAIT });
      await page.locator('.part.panel .xterm-helper-textarea').focus();
      // $((…)) makes the output differ from the echoed input: "pod-42" shows only if the shell ran it.
      await page.keyboard.type('echo pod-$((40+2)); hostname');
      await page.keyboard.press('Enter');
      await rows.filter({ hasText: 'pod-42' }).waitFor({ state: 'visible', ...WAIT });
      await page.mouse.move(900, 300);
    },
  },
];

/** Run after containers-pods.png: closes the shell and removes the pod through the CRI; the view drops it. */
export const podsRemoveChecks: UiCheck<PodsUiContext>[] = [
  {
    name: 'removing the pod through the CRI takes it out of the view',
    async run({ page }) {
      await page.locator('.part.panel .xterm-helper-textarea').focus();
      await page.keyboard.type('exit');
      await page.keyboard.press('Enter');
      await terminalText(page).waitFor({ state: 'detached', ...WAIT });
      try {
        await pod?.remove();
        pod = undefined;
      } finally {
        cri?.close();
        cri = undefined;
      }
      await podRow(page).waitFor({ state: 'detached', ...WAIT });
    },
  },
];
