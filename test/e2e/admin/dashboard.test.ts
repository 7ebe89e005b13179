import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { createProject } from '../../helpers/project.js';
import { startRuntime } from '../../helpers/runtime.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`dashboard test skipped: Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`);

let browser: Browser | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

describe.skipIf(!hasChromium)('the /_fngate/ dashboard in a real browser', () => {
  it('shows a card per function, and its numbers change under load', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  light:\n    routes: GET /light\n  busy:\n    routes: GET /busy\n    maxThreads: 1\n    concurrency: 1\n',
      'functions/light.ts': 'export default () => "ok";\n',
      'functions/busy.ts': 'export default () => { const end = Date.now() + 20; while (Date.now() < end); return "done"; };\n',
    });
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev', logRequests: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/_fngate/`);

    const light = page.locator('[data-function="light"]');
    const busy = page.locator('[data-function="busy"]');
    await light.waitFor();
    expect(await page.locator('[data-function]').evaluateAll((cards) => cards.map((card) => card.getAttribute('data-function')))).toEqual(['light', 'busy']);
    expect(await light.locator('[data-field="state"]').textContent()).toBe('serving');
    expect(await light.locator('[data-field="completed"]').textContent()).toBe('0');
    expect(await page.locator('#live-text').textContent()).toBe('live');

    // Load: 60 light requests, and the busy function kept saturated until the page shows it.
    for (let i = 0; i < 60; i++) expect((await server.fetch('/light')).status).toBe(200);
    let loading = true;
    const load = (async () => {
      while (loading) await Promise.all([server.fetch('/busy'), server.fetch('/busy')]);
    })();
    try {
      // Page-side expressions (strings: this project compiles without the DOM library).
      await page.waitForFunction(
        `Number(document.querySelector('[data-function="light"] [data-field="completed"]')?.textContent?.replace(/\\D/g, '')) >= 60`,
        undefined,
        { timeout: 20_000 },
      );
      await page.waitForFunction(
        `(() => {
          const card = document.querySelector('[data-function="busy"]');
          const utilization = parseInt(card?.querySelector('[data-field="utilization"]')?.textContent ?? '0', 10);
          const rps = Number(card?.querySelector('[data-field="rps"]')?.textContent ?? '0');
          return utilization > 0 && rps > 0 && card?.querySelector('.slot.busy') !== null;
        })()`,
        undefined,
        { timeout: 20_000 },
      );
    } finally {
      loading = false;
      await load;
    }
    expect(await busy.locator('[data-field="threads"]').textContent()).toMatch(/max 1$/);
    expect(Number((await busy.locator('[data-field="completed"]').textContent())!.replace(/\D/g, ''))).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it('asks for the token, and works with ?token=', async () => {
    const project = await createProject({
      'config.yaml': 'server:\n  admin: { token: dash-token }\nfunctions:\n  light:\n    routes: GET /light\n',
      'functions/light.ts': 'export default () => "ok";\n',
    });
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev', logRequests: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const page = await browser.newPage();
    expect((await page.goto(`${server.url}/_fngate/`))!.status()).toBe(401);
    await page.goto(`${server.url}/_fngate/?token=dash-token`);
    await page.locator('[data-function="light"]').waitFor();
    expect(await page.locator('#live-text').textContent()).toBe('live');
  });
});
