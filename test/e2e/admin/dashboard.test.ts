import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { createProject } from '../../helpers/project.js';
import { startRuntime, type StartedRuntime } from '../../helpers/runtime.js';
import { waitFor } from '../../helpers/wait.js';

// The dashboard at /_fngate/ in a real browser, against the real runtime. Nothing here sleeps:
// every wait polls what the page shows, with a deadline.

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`dashboard test skipped: Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);

let browser: Browser | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

const TWO_FUNCTIONS = {
  'config.yaml': [
    'functions:',
    '  light:',
    '    routes: GET /light',
    '  busy:',
    '    routes: GET /busy',
    '    maxThreads: 1',
    '    concurrency: 1',
    '',
  ].join('\n'),
  'functions/light.ts': 'export default (req: Request) => "ok";\n',
  // Computes for ~20 ms: one thread, one request at a time, so concurrent requests queue.
  'functions/busy.ts': 'export default (req: Request) => {\n  const end = Date.now() + 20;\n  while (Date.now() < end);\n  return "done";\n};\n',
};

async function openDashboard(server: StartedRuntime, query = ''): Promise<{ page: Page; pageErrors: string[] }> {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('dialog', (dialog) => {
    pageErrors.push(`unexpected dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  const response = await page.goto(`${server.url}/_fngate/${query}`);
  expect(response?.status(), 'GET /_fngate/ should serve the dashboard').toBe(200);
  return { page, pageErrors };
}

/** The exact number behind a card's field (data-value), or its text with the separators removed. */
async function numberIn(card: Locator, field: string): Promise<number> {
  const node = card.locator(`[data-field="${field}"]`);
  const exact = await node.getAttribute('data-value');
  return Number(exact ?? (await node.textContent())?.replace(/[^\d.]/g, ''));
}

describe.skipIf(!hasChromium)('the /_fngate/ dashboard in a real browser', () => {
  it('shows a card per function in config order, and its numbers follow the load', async () => {
    const project = await createProject(TWO_FUNCTIONS);
    const server = await startRuntime({ cwd: project.dir, mode: 'dev', logRequests: false });
    const { page, pageErrors } = await openDashboard(server);

    const light = page.locator('[data-function="light"]');
    const busy = page.locator('[data-function="busy"]');
    await light.waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-function]').evaluateAll((cards) => cards.map((card) => card.getAttribute('data-function')))).toEqual([
      'light',
      'busy',
    ]);
    expect(await light.locator('[data-field="name"]').textContent()).toBe('light');
    expect(await busy.locator('[data-field="name"]').textContent()).toBe('busy');
    expect(await light.locator('[data-field="state"]').textContent()).toBe('serving');
    expect(await light.locator('[data-field="routes"]').textContent()).toContain('GET /light');
    expect(await busy.locator('[data-field="max-threads"]').textContent()).toBe('1');
    expect(await busy.locator('.slot').count()).toBe(1);
    expect(await numberIn(light, 'completed')).toBe(0);
    expect(await page.locator('#live-text').textContent()).toBe('live');
    expect(await page.locator('#mode').textContent()).toBe('dev');
    expect(await page.locator('#rss').textContent()).toMatch(/^\d[\d,]* MB$/);

    // 50 requests to `light`, ten at a time: the card counts at least as many.
    let lightSent = 0;
    for (let round = 0; round < 5; round++) {
      const responses = await Promise.all(Array.from({ length: 10 }, () => server.fetch('/light')));
      for (const response of responses) expect(await response.text()).toBe('ok');
      lightSent += responses.length;
    }
    await waitFor(async () => (await numberIn(light, 'completed')) >= lightSent, { timeoutMs: 15_000, what: `light's card to show ${lightSent} completed` });
    expect(Number((await light.locator('[data-field="completed"]').textContent())!.replace(/\D/g, ''))).toBeGreaterThanOrEqual(lightSent);

    // `busy` kept saturated (four at a time on one thread) until the card shows the work.
    let loading = true;
    let busySent = 0;
    const busyStatuses = new Set<number>();
    const load = (async () => {
      while (loading) {
        const responses = await Promise.all(Array.from({ length: 4 }, () => server.fetch('/busy')));
        for (const response of responses) {
          busyStatuses.add(response.status);
          await response.arrayBuffer();
        }
        busySent += responses.length;
      }
    })();
    try {
      await waitFor(
        async () =>
          (await numberIn(busy, 'rps')) > 0 &&
          (await numberIn(busy, 'utilization')) > 0 &&
          (await busy.locator('[data-field="utilization"]').textContent()) !== '0%' &&
          (await numberIn(busy, 'busy')) >= 1 &&
          (await busy.locator('.slot.busy').count()) === 1,
        { timeoutMs: 20_000, what: "busy's card to show req/s, utilization and a busy thread under load" },
      );
      // The sparkline has drawn the req/s history.
      expect(await busy.locator('[data-field="sparkline"] path.line').getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+L/);
    } finally {
      loading = false;
      await load;
    }
    expect([...busyStatuses]).toEqual([200]);
    await waitFor(async () => (await numberIn(busy, 'completed')) >= busySent, { timeoutMs: 15_000, what: `busy's card to show ${busySent} completed` });
    // Once the load stops, the card says so too.
    await waitFor(async () => (await numberIn(busy, 'busy')) === 0 && (await numberIn(busy, 'queue')) === 0, {
      timeoutMs: 15_000,
      what: "busy's card to show an idle thread and an empty queue",
    });
    expect(await numberIn(light, 'failed-total')).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it("suggests settings from the traffic once there is enough of it, with a button that copies them as config.yaml lines", async () => {
    const project = await createProject(TWO_FUNCTIONS);
    const server = await startRuntime({ cwd: project.dir, mode: 'dev', logRequests: false });
    const { page, pageErrors } = await openDashboard(server);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    const busy = page.locator('[data-function="busy"]');
    await busy.waitFor({ timeout: 10_000 });
    // Too little traffic yet: no suggestion.
    expect(await busy.locator('[data-field="suggest"]').isHidden()).toBe(true);

    // 100 answered requests (the least the status recommends from), four at a time on busy's one thread.
    for (let round = 0; round < 25; round++) {
      const responses = await Promise.all(Array.from({ length: 4 }, () => server.fetch('/busy')));
      for (const response of responses) expect(await response.text()).toBe('done');
    }
    const suggested = busy.locator('[data-field="suggested"]');
    await waitFor(async () => /^maxThreads \d+, concurrency (\d+|auto)( \(as now\))?$/.test((await suggested.textContent()) ?? ''), {
      timeoutMs: 15_000,
      what: "busy's card to show the suggested settings",
    });
    const advice = server.runtime.status().functions.find((fn) => fn.name === 'busy')!.recommendation!;
    expect(await suggested.textContent()).toContain(`maxThreads ${advice.settings.maxThreads}, concurrency ${advice.settings.concurrency}`);
    expect(await busy.locator('[data-field="suggested-more"]').textContent()).toBe(`memoryLimit ${advice.settings.memoryLimit} · timeout ${advice.settings.timeout}`);
    // The reasons, in a tooltip (their figures move with the window, so only their shape is checked).
    expect(await busy.locator('[data-field="suggest"]').getAttribute('title')).toMatch(/^From the last \d+s of traffic:\nmaxThreads: .+\nconcurrency: .+\nmemoryLimit: peak heap .+\ntimeout: p99 .+$/);

    await busy.locator('[data-field="copy-yaml"]').click();
    await waitFor(async () => (await busy.locator('[data-field="copy-yaml"]').textContent()) === 'copied', { timeoutMs: 5000, what: 'the button to say copied' });
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(advice.yaml);
    expect(advice.yaml).toMatch(/^busy:\n  maxThreads: \d+\n  concurrency: (\d+|auto)\n  memoryLimit: \d+mb\n  timeout: \d+s\n$/);
    expect(pageErrors).toEqual([]);
  });

  it('tells to raise maxQueue when requests were refused with QUEUE_FULL, after the queue emptied', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  tight:\n    routes: GET /tight\n    maxThreads: 1\n    maxQueue: 0\n    concurrency: 1\n',
      'functions/tight.ts': 'import { setTimeout as sleep } from "node:timers/promises";\nexport default async () => { await sleep(300); return "ok"; };\n',
    });
    const server = await startRuntime({ cwd: project.dir, mode: 'dev', logRequests: false });
    const statuses = (await Promise.all([server.fetch('/tight'), server.fetch('/tight')])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 503]);
    const { page, pageErrors } = await openDashboard(server);
    const hint = page.locator('[data-function="tight"] [data-field="hint"]');
    await waitFor(async () => /1 request refused with QUEUE_FULL in the last minute: raise maxQueue \(now 0\)/.test((await hint.textContent()) ?? ''), {
      timeoutMs: 10_000,
      what: 'the QUEUE_FULL hint',
    });
    expect(pageErrors).toEqual([]);
  });

  it("shows a scheduled function's schedule, its runs and failures", async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  cron:\n    schedule: "* * * * * *"\n',
      'functions/cron.ts': 'let n = 0;\nexport const scheduled = () => { if (++n % 2 === 0) throw new Error("every other run"); };\n',
    });
    const server = await startRuntime({ cwd: project.dir, mode: 'dev', logRequests: false });
    const { page, pageErrors } = await openDashboard(server);
    const schedule = page.locator('[data-function="cron"] [data-field="schedule"]');
    await waitFor(async () => /⏱ "\* \* \* \* \* \*" UTC.*\d+ runs.*\d+ failed.*last/.test((await schedule.textContent()) ?? ''), { timeoutMs: 15_000, what: 'the schedule line' });
    expect(pageErrors).toEqual([]);
  });

  it('shows errors as text, never as markup', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  thrower:\n    routes: GET /thrower\n',
      'functions/thrower.ts':
        'export default (req: Request) => {\n  throw new Error(\'<img src=x onerror="globalThis.injected = 1"><b id="injected">bold</b>\');\n};\n',
    });
    const server = await startRuntime({ cwd: project.dir, mode: 'dev', logRequests: false });
    expect((await server.fetch('/thrower')).status).toBe(500);
    const { page, pageErrors } = await openDashboard(server);
    const card = page.locator('[data-function="thrower"]');
    const message = card.locator('[data-field="errors"] li .msg').first();
    await message.waitFor({ timeout: 10_000 });
    expect(await message.textContent()).toContain('<img src=x onerror="globalThis.injected = 1"><b id="injected">bold</b>');
    expect(await card.locator('[data-field="errors"] li').first().textContent()).toContain('FNGATE_FUNCTION_ERROR');
    expect(await card.locator('[data-field="failed"] [data-code="FNGATE_FUNCTION_ERROR"]').textContent()).toMatch(/FUNCTION_ERROR\s*1$/);
    expect(await numberIn(card, 'failed-total')).toBe(1);
    expect(await page.locator('#injected').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate('globalThis.injected')).toBeUndefined();
    expect(pageErrors).toEqual([]);
  });

  it('says "disconnected" when a poll fails, and recovers by itself', async () => {
    const project = await createProject(TWO_FUNCTIONS);
    const server = await startRuntime({ cwd: project.dir, mode: 'dev', logRequests: false });
    const { page, pageErrors } = await openDashboard(server);
    const liveText = page.locator('#live-text');
    await waitFor(async () => (await liveText.textContent()) === 'live', { timeoutMs: 10_000, what: 'the page to be live' });

    await page.route('**/_fngate/status', (route) => route.abort('connectionrefused'));
    await waitFor(async () => (await liveText.textContent()) === 'disconnected', { timeoutMs: 10_000, what: 'the page to show "disconnected"' });
    expect(await page.locator('[data-function="light"]').count()).toBe(1); // the last numbers stay, dimmed

    await page.unroute('**/_fngate/status');
    await waitFor(async () => (await liveText.textContent()) === 'live', { timeoutMs: 10_000, what: 'the page to be live again' });
    expect(pageErrors).toEqual([]);
  });

  it('asks for the token, and sends ?token= as a bearer token on every poll', async () => {
    const project = await createProject({
      'config.yaml': 'server:\n  admin: { token: dash-token }\nfunctions:\n  light:\n    routes: GET /light\n',
      'functions/light.ts': 'export default (req: Request) => "ok";\n',
    });
    const server = await startRuntime({ cwd: project.dir, mode: 'dev', logRequests: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const page = await browser.newPage();
    expect((await page.goto(`${server.url}/_fngate/`))!.status()).toBe(401);

    const polls: (string | undefined)[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/_fngate/status') polls.push(request.headers()['authorization']);
    });
    expect((await page.goto(`${server.url}/_fngate/?token=dash-token`))!.status()).toBe(200);
    await page.locator('[data-function="light"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#live-text').textContent()).toBe('live');
    expect(polls.length).toBeGreaterThan(0);
    expect(new Set(polls)).toEqual(new Set(['Bearer dash-token']));
  });
});

describe.skipIf(!hasChromium)('the dashboard with a hundred functions', () => {
  it('shows one row per function, busiest first, with a filter, and a chosen function\'s card', { timeout: 120_000 }, async () => {
    const files: Record<string, string> = {};
    const lines = ['defaults:', '  minThreads: 0', '  maxThreads: 1', 'functions:'];
    for (let i = 0; i < 100; i++) {
      lines.push(`  f${i}:`, `    routes: GET /f${i}`);
      files[`functions/f${i}.ts`] = `export default () => ({ fn: ${i} });\n`;
    }
    const project = await createProject({ ...files, 'config.yaml': `${lines.join('\n')}\n` });
    const server = await startRuntime({ cwd: project.dir, mode: 'dev' });
    const { page, pageErrors } = await openDashboard(server);
    const rows = page.locator('#rows tr:not([hidden])');
    await waitFor(async () => (await rows.count()) === 100, { timeoutMs: 20_000, what: 'a row per function' });
    // No card is drawn until one is chosen.
    expect(await page.locator('main .card').count()).toBe(0);

    // Traffic on f42 only: it moves to the top.
    let stop = false;
    const load = (async () => {
      while (!stop) await (await server.fetch('/f42')).text();
    })();
    try {
      await waitFor(async () => (await rows.first().getAttribute('data-function')) === 'f42', { timeoutMs: 20_000, what: 'f42 to be the busiest row' });
    } finally {
      stop = true;
      await load;
    }

    await page.fill('#filter', 'f4');
    await waitFor(async () => (await rows.count()) === 11, { timeoutMs: 10_000, what: 'the rows matching "f4"' });
    expect((await page.locator('#compact-count').textContent()) ?? '').toMatch(/^11 of 100 functions/);

    await page.fill('#filter', '/f7');
    await page.locator('#rows tr[data-function="f7"]').click();
    const card = page.locator('main .card[data-function="f7"]');
    await card.waitFor({ timeout: 10_000 });
    expect(await card.isVisible()).toBe(true);
    expect(await page.locator('main .card').count()).toBe(1);

    // The cards view is one click away.
    await page.click('#view-cards');
    await waitFor(async () => (await page.locator('main .card').count()) === 100, { timeoutMs: 20_000, what: 'every card' });
    expect(pageErrors).toEqual([]);
  });
});
