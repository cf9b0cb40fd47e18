import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobServerApp } from './job-server-app';

// The dashboard in a real browser (Debian's chromium, headless, driven by
// playwright-core) against the job server's app with the dashboard registered.
const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));
const API_KEY = 'sesame';
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: install Debian's chromium package`);
  console.warn(
    `\n[dashboard] SKIPPING the browser test: ${CHROMIUM} is missing (apt-get install -y chromium)\n`,
  );
}

let server: Awaited<ReturnType<typeof startJobServerApp>>;
let browser: Browser;
let page: Page;
const foreignRequests: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!available) return;
  await mkdir(OUTPUT, { recursive: true });
  server = await startJobServerApp({ AU_API_KEYS: API_KEY });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.on('request', (request) => {
    if (!request.url().startsWith(server.url)) foreignRequests.push(request.url());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function submit(task: string, fields: Record<string, string>): Promise<string> {
  const form = page.locator('#submit');
  await form.locator('select[name="task"]').selectOption(task);
  for (const [name, value] of Object.entries(fields)) await form.locator(`[name="${name}"]`).fill(value);
  const before = await page.evaluate(() => location.hash);
  await form.getByRole('button', { name: `Run ${task}` }).click();
  await page.waitForFunction(
    (previous) => location.hash !== previous && location.hash.startsWith('#/tasks/'),
    before,
  );
  return decodeURIComponent((await page.evaluate(() => location.hash)).slice('#/tasks/'.length));
}

describe.runIf(available)('the dashboard in a browser', () => {
  describe('when opened on a server that needs an API key', () => {
    it('should ask for the key once and then list computations', async () => {
      await page.goto(`${server.url}/`);
      expect(page.url()).toBe(`${server.url}/ui/`);
      const dialog = page.locator('#key-dialog');
      await expect.poll(() => dialog.isVisible()).toBe(true);
      await page.locator('#key-input').fill(API_KEY);
      await page.getByRole('button', { name: 'Use this key' }).click();
      await expect.poll(() => dialog.isVisible()).toBe(false);
      await expect.poll(() => page.locator('#list').textContent()).toContain('No computations yet');
      expect(await page.evaluate(() => sessionStorage.getItem('au.apiKey'))).toBe(API_KEY);
    });
  });

  describe('when a task is submitted from the form', () => {
    it('should open it and move its progress bar live until the result', async () => {
      const id = await submit('sleep', { seconds: '2.5' });
      const bar = page.locator('#detail [role="progressbar"]');
      const seen = new Set<string>();
      await expect
        .poll(
          async () => {
            const value = await bar.getAttribute('data-progress');
            if (value) seen.add(value);
            return page.locator('#detail .badge').textContent();
          },
          { timeout: 15_000, interval: 100 },
        )
        .toBe('completed');
      // Several distinct values on the way: the bar moved with the events, no reload.
      expect(seen.size).toBeGreaterThanOrEqual(3);
      expect(await bar.getAttribute('data-progress')).toBe('100');
      expect(await page.locator('#detail pre.result').textContent()).toContain('"slept": 2.5');
      expect(await page.locator('#detail pre.input').textContent()).toContain('"seconds": 2.5');
      const row = page.locator(`#list tr[data-id="${id}"]`);
      await expect.poll(() => row.getAttribute('data-status')).toBe('completed');
    });
  });

  describe('when a running computation is cancelled', () => {
    it('should show it cancelled in the detail and in the list', async () => {
      const id = await submit('sleep', { seconds: '60' });
      await expect.poll(() => page.locator('#detail .badge').textContent()).toBe('running');
      await page.locator('#detail button[name="cancel"]').click();
      await expect.poll(() => page.locator('#detail .badge').textContent()).toBe('cancelled');
      expect(await page.locator('#detail button[name="cancel"]').isDisabled()).toBe(true);
      await expect
        .poll(() => page.locator(`#list tr[data-id="${id}"]`).getAttribute('data-status'))
        .toBe('cancelled');
    });
  });

  describe('when a computation fails', () => {
    it('should show its error with the remote stack', async () => {
      const id = await submit('fail', { message: 'boom from the browser' });
      await expect.poll(() => page.locator('#detail .badge').textContent()).toBe('failed');
      await expect.poll(() => page.locator('#detail .error-box').textContent()).toContain('SAMPLE_FAILURE');
      expect(await page.locator('#detail .error-box').textContent()).toContain('boom from the browser');
      expect(await page.locator('#detail .stack pre').textContent()).toContain('sample-tasks');
      await expect
        .poll(() => page.locator(`#list tr[data-id="${id}"]`).getAttribute('data-status'))
        .toBe('failed');
    });
  });

  describe('when the list is filtered', () => {
    it('should show only the matching computations', async () => {
      await submit('factorial', { n: '25' });
      await page.locator('#list select[name="status"]').selectOption('failed');
      await expect.poll(() => page.locator('#list tbody tr').count()).toBe(1);
      expect(await page.locator('#list tbody tr').getAttribute('data-status')).toBe('failed');
      await page.locator('#list select[name="status"]').selectOption('');
      await page.locator('#list select[name="task"]').selectOption('sleep');
      await expect.poll(() => page.locator('#list tbody tr').count()).toBe(2);
      await page.locator('#list select[name="task"]').selectOption('');
      await expect.poll(() => page.locator('#list tbody tr').count()).toBe(4);
    });
  });

  describe('when the form is given invalid input', () => {
    it('should say what is wrong without submitting', async () => {
      const form = page.locator('#submit');
      await form.locator('select[name="task"]').selectOption('primes');
      await form.getByRole('button', { name: 'Run primes' }).click();
      expect(await form.locator('.form-message').textContent()).toBe('limit is required');
      await form.locator('[name="limit"]').fill('1');
      await form.getByRole('button', { name: 'Run primes' }).click();
      await expect.poll(() => form.locator('.form-message').textContent()).toContain('limit:');
    });
  });

  describe('when the page is reloaded', () => {
    it('should keep the key for the tab, fetch nothing from elsewhere, and look finished', async () => {
      const failed = await page.locator('#list tr[data-status="failed"]').getAttribute('data-id');
      await page.goto(`${server.url}/ui/#/tasks/${failed}`);
      await expect.poll(() => page.locator('#list tbody tr').count()).toBe(4);
      expect(await page.locator('#key-dialog').isVisible()).toBe(false);
      await expect.poll(() => page.locator('#detail .stack pre').isVisible()).toBe(true);
      await page.locator('#submit select[name="task"]').selectOption('sleep');
      await page.screenshot({ path: `${OUTPUT}dashboard.png`, fullPage: true });
      expect(existsSync(`${OUTPUT}dashboard.png`)).toBe(true);
      expect(foreignRequests).toEqual([]);
      expect(pageErrors).toEqual([]);
    });
  });

  describe('when there are more computations than a page holds', () => {
    it('should page through them with the cursor', async () => {
      await page.evaluate(async (key) => {
        for (let n = 0; n < 20; n++) {
          await fetch(`/factorial?async=true`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ n }),
          });
        }
      }, API_KEY);
      // The newest computation, as the API lists it: the first page shows it first once
      // the refresh landed (rows the event stream added before it may be in another order).
      const newest = await page.evaluate(async (key) => {
        const response = await fetch('/tasks?limit=1', { headers: { authorization: `Bearer ${key}` } });
        return ((await response.json()) as { items: { taskId: string }[] }).items[0]?.taskId;
      }, API_KEY);
      await page.locator('#list button', { hasText: 'Refresh' }).click();
      await expect.poll(() => page.locator('#list tbody tr').count()).toBe(20);
      await expect.poll(() => page.locator('#list tbody tr').first().getAttribute('data-id')).toBe(newest);
      const firstPage = newest;
      await page.locator('#list button[name="older"]').click();
      await expect.poll(() => page.locator('#list tbody tr').count()).toBe(4);
      expect(await page.locator('#list .pager').textContent()).toContain('page 2');
      expect(await page.locator('#list button[name="older"]').isDisabled()).toBe(true);
      await page.locator('#list button[name="newer"]').click();
      await expect.poll(() => page.locator('#list tbody tr').first().getAttribute('data-id')).toBe(firstPage);
    });
  });
});
