/**
 * Opens a self-contained HTML file (report, comparison) in headless Chromium with no network, recording
 * console errors/warnings, page errors and every request, so a test can assert that the page renders on its
 * own and asks for nothing but itself. The browser and its throw-away profile are closed after the test.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Page } from 'playwright-core';

/** Debian's chromium, installed by report/setup-chromium.sh (the test command runs it). */
export const CHROMIUM = '/usr/bin/chromium';

export interface OfflinePage {
  page: Page;
  /** The file:// URL the page was loaded from. */
  url: string;
  /** Console errors and warnings, and uncaught page errors, in order. */
  problems: string[];
  /** Every URL the page requested (itself included). */
  requests: string[];
}

export async function openOffline(t: TestContext, file: string): Promise<OfflinePage> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run report/setup-chromium.sh`);
  const profile = await mkdtemp(join(tmpdir(), 'scalenet-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 900 },
  });
  t.after(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  const url = `file://${file}`;
  await page.goto(url, { waitUntil: 'load' });
  return { page, url, problems, requests };
}
