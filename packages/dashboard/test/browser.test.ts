import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed, startDashboardApp } from './browser-app';

// The dashboard's operations in a real browser (Debian's chromium, headless, driven by
// playwright-core) against @au/http + @au/dashboard on Fastify, behind an API key.
// Screenshots go to test/screenshots/ (ignored by git) for a person to look at.
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const API_KEY = 'open-sesame';
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: install Debian's chromium package`);
  console.warn(
    `\n[dashboard] SKIPPING the browser test: ${CHROMIUM} is missing (apt-get install -y chromium)\n`,
  );
}

let server: Awaited<ReturnType<typeof startDashboardApp>>;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const requests: string[] = [];

beforeAll(async () => {
  if (!available) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  server = await startDashboardApp(API_KEY);
  await seed(server.store, server.backend);
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
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => requests.push(new URL(request.url()).pathname));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const rows = () => page.locator('#list tbody tr');
const count = (status: string) =>
  page.locator(`#counts .count[data-status="${status}"] strong`).textContent();

/** What the page's own script would get from the API with the key it holds. */
function apiFetch(path: string, init: { method?: string; body?: unknown } = {}) {
  return page.evaluate(
    async ({ path, init, key }) => {
      const response = await fetch(path, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${key}`,
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      return { status: response.status, text: await response.text() };
    },
    { path, init, key: API_KEY },
  );
}

async function noHorizontalOverflow(): Promise<number> {
  return page.evaluate(() => document.scrollingElement!.scrollWidth);
}

describe.runIf(available)('the dashboard, operating a server', () => {
  describe('when the server needs an API key', () => {
    it('should show no data without it, ask for it, then show the counts and the list', async () => {
      await page.goto(`${server.url}/ui/`);
      await expect.poll(() => page.locator('#key-dialog').isVisible()).toBe(true);
      // Behind the key like the API: the page's own calls are refused without it.
      const refused = await page.evaluate(async () => (await fetch('/tasks')).status);
      expect(refused).toBe(401);
      expect(await rows().count()).toBe(0);
      await page.locator('#key-input').fill(API_KEY);
      await page.getByRole('button', { name: 'Use this key' }).click();
      await expect.poll(() => rows().count()).toBe(5);
      await expect.poll(() => count('completed')).toBe('4');
      expect(await count('failed')).toBe('1');
      expect(await count('pending')).toBe('0');
      expect(await page.locator('#counts tr[data-task="work"]').textContent()).toContain('4');
      await page.screenshot({ path: `${SCREENSHOTS}1-list.png`, fullPage: true });
    });
  });

  describe('when a task is submitted', () => {
    it('should show it live in the list and the counts, and open it with its input and times', async () => {
      const form = page.locator('#submit');
      await form.locator('select[name="task"]').selectOption('work');
      await form.locator('[name="ms"]').fill('1500');
      await form.getByRole('button', { name: 'Run work' }).click();
      await page.waitForFunction(() => location.hash.startsWith('#/tasks/'));
      const id = decodeURIComponent((await page.evaluate(() => location.hash)).slice('#/tasks/'.length));
      const row = page.locator(`#list tr[data-id="${id}"]`);
      await expect.poll(() => row.getAttribute('data-status')).toBe('running');
      await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).toBe('completed');
      await expect.poll(() => count('completed')).toBe('5');
      const detail = page.locator('#detail');
      await expect.poll(() => detail.locator('.badge').textContent()).toBe('completed');
      expect(await detail.locator('pre.input').textContent()).toContain('"ms": 1500');
      // Readable times: relative text, the absolute local time and the ISO instant on hover.
      const created = detail.locator('dd time').first();
      expect(await created.textContent()).toMatch(
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \((just now|\d+ s ago)\)$/,
      );
      expect(await created.getAttribute('title')).toMatch(/local · \d{4}-\d\d-\d\dT/);
      const facts = await detail.locator('dl.facts').textContent();
      expect(facts).toMatch(/queue wait\s*\d+(\.\d)? ?m?s/);
      expect(facts).toMatch(/ran\s*1\.\d s/);
      expect(await row.locator('td.ran').textContent()).toMatch(/^1\.\d s$/);
      // The task's ctx.log lines, and the list fed by the server-wide event stream.
      await expect.poll(() => detail.locator('.logs .log').count()).toBe(2);
      expect(await detail.locator('.logs .log[data-level="warn"] .message').textContent()).toBe(
        'done, tired',
      );
      expect(await detail.locator('.logs .log').first().textContent()).toContain('working for 1500 ms');
      expect(requests).toContain('/events');
      // Exact counts and what the server ran recently, from GET /stats.
      expect(requests).toContain('/stats');
      await expect.poll(() => page.locator('#counts .recent').textContent()).toMatch(/\d+% succeeded/);
      await page.screenshot({ path: `${SCREENSHOTS}2-detail.png`, fullPage: true });
    });
  });

  describe('when a task hides its input', () => {
    it('should say so, and the server should not send it', async () => {
      const launched = await apiFetch('/login?wait=5', {
        method: 'POST',
        body: { user: 'ada', password: 'hunter2' },
      });
      const { taskId } = JSON.parse(launched.text);
      await page.evaluate((id) => {
        location.hash = `#/tasks/${id}`;
      }, taskId);
      await expect.poll(() => page.locator('#detail .input-hidden').isVisible()).toBe(true);
      expect(await page.locator('#detail').textContent()).not.toContain('hunter2');
      expect((await apiFetch(`/tasks/${taskId}`)).text).not.toContain('hunter2');
    });
  });

  describe('when a running computation is cancelled from its detail', () => {
    it('should end cancelled', async () => {
      const { taskId } = JSON.parse(
        (await apiFetch('/work?async=true', { method: 'POST', body: { ms: 60_000 } })).text,
      );
      await page.evaluate((id) => {
        location.hash = `#/tasks/${id}`;
      }, taskId);
      await expect.poll(() => page.locator('#detail .badge').textContent()).toBe('running');
      await page.locator('#detail button[name="cancel"]').click();
      await expect.poll(() => page.locator('#detail .badge').textContent()).toBe('cancelled');
      await expect
        .poll(() => page.locator(`#list tr[data-id="${taskId}"]`).getAttribute('data-status'))
        .toBe('cancelled');
      await expect.poll(() => count('cancelled')).toBe('1');
    });
  });

  describe('when searching', () => {
    it('should open a computation by id, and filter by a tag', async () => {
      const search = page.locator('#list input[name="search"]');
      await search.fill('seed-adhoc');
      await search.press('Enter');
      await expect.poll(() => page.evaluate(() => location.hash)).toBe('#/tasks/seed-adhoc');
      await expect.poll(() => page.locator('#detail .tags').textContent()).toBe('adhoc');
      await search.fill('nightly');
      await search.press('Enter');
      await expect.poll(() => rows().count()).toBe(3);
      expect(await page.locator('#list .chip').textContent()).toContain('tag: nightly');
      for (const tags of await rows().locator('td.task .tag').allTextContents()) expect(tags).toBe('nightly');
    });
  });

  describe('when several computations are selected and deleted', () => {
    it('should ask to confirm, then delete them from the store and the list', async () => {
      await page.locator('#list input[name="select-all"]').check();
      await expect.poll(() => page.locator('#list .selected-count').textContent()).toBe('3 selected');
      const remove = page.locator('#list button[name="bulk-delete"]');
      await remove.click();
      expect(await remove.textContent()).toContain('confirm');
      expect(await rows().count()).toBe(3);
      await remove.click();
      await expect.poll(() => page.locator('#list .bulk-message').textContent()).toBe('Deleted 3.');
      await expect.poll(() => page.locator('#list .empty').textContent()).toContain('No computations match');
      for (const n of [1, 2, 3]) expect(await server.store.get(`seed-nightly-${n}`)).toBeUndefined();
      await page.locator('#list .chip-close').click();
      await expect.poll(() => rows().count()).toBe(5);
      await expect.poll(() => count('completed')).toBe('3');
    });
  });

  describe('when a count is clicked', () => {
    it('should filter the list by that status', async () => {
      await page.locator('#counts .count[data-status="failed"]').click();
      await expect.poll(() => rows().count()).toBe(1);
      expect(await rows().getAttribute('data-id')).toBe('seed-failed');
      expect(await page.locator('#list select[name="status"]').inputValue()).toBe('failed');
      await page.locator('#list select[name="status"]').selectOption('');
      await expect.poll(() => rows().count()).toBe(5);
    });
  });

  describe('when computations failed for good', () => {
    it('should retry one from its detail, then list, retry, redrive and purge the dead letters', async () => {
      await page.evaluate(() => {
        location.hash = '#/tasks/seed-failed';
      });
      const retry = page.locator('#detail button[name="retry"]');
      await retry.click();
      await expect.poll(() => page.locator('#detail .history li').count()).toBe(1);
      await expect.poll(() => page.locator('#detail .badge').first().textContent()).toBe('failed');
      expect(await page.locator('#detail .history').textContent()).toContain('ALWAYS: this one always fails');
      const tab = page.locator('#tabs a[data-page="dead-letters"]');
      await expect.poll(() => tab.locator('.tab-count').textContent()).toBe('1');
      await tab.click();
      const rows = page.locator('#dead-letters tbody tr');
      await expect.poll(() => rows.count()).toBe(1);
      expect(await rows.getAttribute('data-id')).toBe('seed-failed');
      expect(await rows.locator('td.error').textContent()).toContain('ALWAYS');
      await rows.locator('input[name="select"]').check();
      await page.locator('#dead-letters button[name="bulk-retry"]').click();
      await expect.poll(() => page.locator('#dead-letters .bulk-message').textContent()).toBe('Retried 1.');
      await page.locator('#dead-letters button[name="redrive"]').click();
      await expect.poll(() => page.locator('#dead-letters .bulk-message').textContent()).toBe('Redrove 1.');
      await expect.poll(async () => (await server.store.get('seed-failed'))?.history?.length).toBe(3);
      await page.screenshot({ path: `${SCREENSHOTS}5-dead-letters.png` });
      const purge = page.locator('#dead-letters button[name="purge"]');
      await expect.poll(() => purge.isEnabled()).toBe(true);
      await purge.click();
      expect(await purge.textContent()).toContain('confirm');
      await purge.click();
      await expect.poll(() => page.locator('#dead-letters .bulk-message').textContent()).toBe('Purged 1.');
      await expect.poll(() => page.locator('#dead-letters .empty').isVisible()).toBe(true);
      expect(await server.store.get('seed-failed')).toBeUndefined();
      await expect.poll(() => tab.locator('.tab-count').count()).toBe(0);
    });
  });

  describe('when schedules are managed', () => {
    it('should list them, pause and resume one, and delete one after a confirm', async () => {
      for (const body of [
        { id: 'nightly-report', task: 'work', cron: '0 3 * * *', input: { ms: 0 }, tags: ['nightly'] },
        { id: 'login-check', task: 'login', every: 86_400_000, input: { user: 'ada', password: 'hunter2' } },
      ]) {
        expect((await apiFetch('/schedules', { method: 'POST', body })).status).toBe(201);
      }
      await page.locator('#tabs a[data-page="schedules"]').click();
      const schedules = page.locator('#schedules tbody tr');
      await expect.poll(() => schedules.count()).toBe(2);
      expect(await page.locator('#page-computations').isHidden()).toBe(true);
      const nightly = page.locator('#schedules tr[data-schedule="nightly-report"]');
      expect(await nightly.locator('td.when').textContent()).toContain('0 3 * * *');
      expect(await nightly.locator('td.next time').getAttribute('datetime')).toMatch(/T03:00:00/);
      const login = page.locator('#schedules tr[data-schedule="login-check"]');
      expect(await login.textContent()).toContain('input hidden');
      expect(await login.textContent()).toContain('every 1 d');
      expect(await page.locator('#schedules').textContent()).not.toContain('hunter2');
      await nightly.locator('button[name="pause"]').click();
      await expect.poll(() => nightly.getAttribute('data-paused')).toBe('true');
      expect(JSON.parse((await apiFetch('/schedules/nightly-report')).text).paused).toBe(true);
      await nightly.locator('button[name="resume"]').click();
      await expect.poll(() => nightly.getAttribute('data-paused')).toBe('false');
      await page.screenshot({ path: `${SCREENSHOTS}6-schedules.png` });
      await login.locator('button[name="delete"]').click();
      expect(await schedules.count()).toBe(2);
      await login.locator('button[name="delete"]').click();
      await expect.poll(() => schedules.count()).toBe(1);
      expect((await apiFetch('/schedules/login-check')).status).toBe(404);
      await page.locator('#tabs a[data-page="computations"]').click();
      await expect.poll(() => page.locator('#page-computations').isVisible()).toBe(true);
    });
  });

  describe('when a task is submitted with launch options', () => {
    it('should read its input schema through component refs, and launch with tags, priority, delay and key', async () => {
      const form = page.locator('#submit');
      await form.locator('select[name="task"]').selectOption('triage');
      // `level` is a `$ref` to the `Level` component: resolved, it is a select of its values.
      const level = form.locator('select[name="level"]');
      expect(await level.locator('option').allTextContents()).toEqual(['"low"', '"high"']);
      await level.selectOption({ label: '"high"' });
      await form.locator('.launch-options summary').click();
      await form.locator('[name="key"]').fill('not a key');
      await form.getByRole('button', { name: 'Run triage' }).click();
      expect(await form.locator('.form-message').textContent()).toContain('key: use 1 to 200');
      await form.locator('[name="key"]').fill('triage-1');
      await form.locator('[name="tags"]').fill('urgent, ops');
      await form.locator('[name="priority"]').fill('7');
      await form.locator('[name="delay"]').fill('60000');
      await form.getByRole('button', { name: 'Run triage' }).click();
      await expect.poll(() => page.evaluate(() => location.hash)).toBe('#/tasks/triage-1');
      const record = await server.store.get('triage-1');
      expect(record?.tags).toEqual(['urgent', 'ops']);
      expect(record?.priority).toBe(7);
      expect(record?.status).toBe('pending');
      expect((record?.runAt ?? 0) - (record?.createdAt ?? 0)).toBeGreaterThanOrEqual(59_000);
      await expect.poll(() => page.locator('#detail .tags').textContent()).toBe('urgentops');
      // The same key with another input is refused (409 KEY_CONFLICT), and the form says why.
      await level.selectOption({ label: '"low"' });
      await form.getByRole('button', { name: 'Run triage' }).click();
      await expect.poll(() => form.locator('.form-message').textContent()).toContain('triage-1');
      expect(await form.locator('.form-message').getAttribute('class')).toContain('error-text');
      expect((await apiFetch('/tasks/triage-1?purge=true', { method: 'DELETE' })).status).toBe(200);
      expect(await server.store.get('triage-1')).toBeUndefined();
    });
  });

  describe('when a task and then the queue are paused from the page', () => {
    it('should keep new work pending with a paused badge until resumed, then run it', async () => {
      await page.evaluate(() => {
        location.hash = '#/';
      });
      const control = page.locator('#pauses tr[data-task="work"]');
      await expect.poll(() => control.getAttribute('data-paused')).toBe('false');
      await page.getByRole('button', { name: 'pause work' }).click();
      await expect.poll(() => control.getAttribute('data-paused')).toBe('true');
      expect(JSON.parse((await apiFetch('/pauses')).text)).toEqual({ queue: false, tasks: ['work'] });

      const { taskId } = JSON.parse(
        (await apiFetch('/work?async=true', { method: 'POST', body: { ms: 0 } })).text,
      );
      const row = page.locator(`#list tr[data-id="${taskId}"]`);
      await expect.poll(() => row.locator('.badge.paused').count()).toBe(1);
      expect(await row.getAttribute('data-status')).toBe('pending');
      await page.locator('#pauses').screenshot({ path: `${SCREENSHOTS}8-pauses.png` });

      await page.getByRole('button', { name: 'resume work' }).click();
      await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).toBe('completed');
      expect(await row.locator('.badge.paused').count()).toBe(0);
      expect(await control.getAttribute('data-paused')).toBe('false');

      const queue = page.locator('#pauses .pause-queue');
      await page.getByRole('button', { name: 'pause the queue' }).click();
      await expect.poll(() => queue.getAttribute('data-paused')).toBe('true');
      expect(JSON.parse((await apiFetch('/pauses')).text)).toEqual({ queue: true, tasks: [] });
      await page.getByRole('button', { name: 'resume the queue' }).click();
      await expect.poll(() => queue.getAttribute('data-paused')).toBe('false');
      expect(pageErrors).toEqual([]);
    });
  });

  describe('when the window is 420 px wide', () => {
    it('should fit without scrolling sideways, list and detail', async () => {
      await page.setViewportSize({ width: 420, height: 900 });
      await page.evaluate(() => {
        location.hash = '#/';
      });
      await expect.poll(() => page.locator('#detail').isHidden()).toBe(true);
      expect(await noHorizontalOverflow()).toBeLessThanOrEqual(420);
      expect(await page.locator('#list tr[data-status="completed"] .bar').first().isVisible()).toBe(true);
      await page.screenshot({ path: `${SCREENSHOTS}3-narrow-list.png`, fullPage: true });
      const { taskId: failed } = JSON.parse(
        (await apiFetch('/fail?wait=5', { method: 'POST', body: {} })).text,
      );
      await page.evaluate((id) => {
        location.hash = `#/tasks/${id}`;
      }, failed);
      await expect.poll(() => page.locator('#detail .stack pre').isVisible()).toBe(true);
      expect(await noHorizontalOverflow()).toBeLessThanOrEqual(420);
      await page.locator('#detail').screenshot({ path: `${SCREENSHOTS}4-narrow-detail.png` });
      await page.locator('#list input[name="select"]').first().check();
      expect(await noHorizontalOverflow()).toBeLessThanOrEqual(420);
      await page.evaluate(() => {
        location.hash = '#/schedules';
      });
      await expect.poll(() => page.locator('#schedules tbody tr').count()).toBe(1);
      expect(await noHorizontalOverflow()).toBeLessThanOrEqual(420);
      await page.screenshot({ path: `${SCREENSHOTS}7-narrow-schedules.png` });
      expect(pageErrors).toEqual([]);
    });
  });
});
