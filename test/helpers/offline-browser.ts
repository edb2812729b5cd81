// Headless Chromium (Debian's, driven by playwright-core) for the tests that open our self-contained
// HTML from file:// with the network blocked: every request other than file: is aborted and recorded,
// console errors and warnings and page errors are collected. Tests skip, saying why, where no
// Chromium exists (CI installs it: .ci/run).

import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.MOTSIM_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumMissing = !fs.existsSync(CHROMIUM);

/** Why a browser test is skipped, printed once by each file that skips one. */
export function chromiumSkipReason(what: string): string {
  return `no Chromium at ${CHROMIUM} (install Debian's chromium package, or set MOTSIM_CHROMIUM): ${what} is SKIPPED`;
}

export interface OfflinePage {
  page: Page;
  /** Console errors and warnings, page errors. */
  problems: string[];
  /** URLs the page asked for other than file: ones (aborted). */
  requests: string[];
  close(): Promise<void>;
}

/** A fresh browser profile and one page in it, offline. */
export async function openOfflinePage(viewport = { width: 1360, height: 900 }): Promise<OfflinePage> {
  // A fresh user-data dir: launchPersistentContext is playwright's way to name one.
  const userDataDir = fs.mkdtempSync(join(os.tmpdir(), 'motsim-chromium-'));
  let browser: BrowserContext | undefined;
  try {
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport,
      deviceScaleFactor: 1,
    });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const requests: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    const opened = browser;
    return {
      page,
      problems,
      requests,
      close: async () => {
        await opened.close();
        fs.rmSync(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await browser?.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw e;
  }
}
