// A customer's whole journey in a real browser: log in, submit a library run from the
// form, watch it reach `succeeded` without reloading, download the artifact and find the
// generated Cargo.toml inside it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.FACTORY_URL ?? 'http://127.0.0.1:3123';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
});

async function logIn(page, email, password) {
  await page.goto(`${BASE}/login`);
  await page.fill('[data-test=login-email]', email);
  await page.fill('[data-test=login-password]', password);
  await Promise.all([page.waitForURL(/\/runs/), page.click('[data-test=login-submit]')]);
}

// The hydrate crate marks <body> once the wasm app has taken over the server-rendered page.
async function waitForHydration(page) {
  await page.locator('body[data-hydrated=true]').waitFor({ state: 'attached', timeout: 30_000 });
}

// Admins pause and resume pools on the Pools page; the change reaches the workers within
// seconds.
async function setPaused(page, pool, paused, note) {
  await page.goto(`${BASE}/pools`);
  await waitForHydration(page);
  const row = poolRow(page, pool);
  await row.locator('[data-test=pool-pause-note]').fill(note);
  await row.locator(paused ? '[data-test=pool-pause]' : '[data-test=pool-resume]').click();
  // The page refetches after the change: the other button replaces this one.
  await row.locator(paused ? '[data-test=pool-resume]' : '[data-test=pool-pause]').waitFor();
}

function poolRow(page, pool) {
  return page.locator(`[data-test=pool-row][data-pool=${pool}]`);
}

test('a customer submits a library run and watches it succeed live', async () => {
  const admin = await browser.newContext();
  const adminPage = await admin.newPage();
  await logIn(adminPage, 'admin@factory.test', 'admin-demo-pass');
  // Hold the generate pool so the run is visibly queued before it runs.
  await setPaused(adminPage, 'generate', true, 'e2e: hold the queue');

  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));

  await logIn(page, 'customer@acme.test', 'acme-demo-pass');
  await page.goto(`${BASE}/runs/new?type=library`);
  await waitForHydration(page);
  await page.fill('[data-test=param-crate_name]', 'e2e_widgets');
  await Promise.all([
    page.waitForURL(/\/runs\/[0-9a-f-]{36}$/, { timeout: 30_000 }),
    page.click('[data-test=submit-run]'),
  ]);
  const status = page.locator('[data-test=run-status]');
  await status.filter({ hasText: 'queued' }).waitFor({ timeout: 30_000 });
  await waitForHydration(page);

  // From here on the page must update itself: count full navigations to prove no reload.
  let navigations = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations += 1;
  });
  await setPaused(adminPage, 'generate', false, 'e2e: release the queue');
  await status.filter({ hasText: 'succeeded' }).waitFor({ timeout: 90_000 });
  assert.equal(navigations, 0, 'the run page reached succeeded without a reload');
  assert.equal(await page.locator('[data-test=job-row]').count(), 3);
  assert.ok(await page.locator('[data-test=log-line]').count() > 3, 'log lines arrived');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-test=artifact-link]'),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'factory-e2e-'));
  const file = join(dir, download.suggestedFilename());
  await download.saveAs(file);
  const listing = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).split('\n');
  assert.ok(listing.some((path) => path.endsWith('/Cargo.toml')), `Cargo.toml in ${listing}`);
  const manifest = execFileSync('tar', ['-xzOf', file, '--wildcards', '*/Cargo.toml'], { encoding: 'utf8' });
  assert.match(manifest, /name = "e2e_widgets"/);

  assert.deepEqual(errors, [], 'no script errors on the page');
  await context.close();
  await admin.close();
});

test('an admin is told why pool bounds are refused, then saves them and sees the change', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await logIn(page, 'admin@factory.test', 'admin-demo-pass');
  await page.goto(`${BASE}/pools`);
  await waitForHydration(page);
  const row = poolRow(page, 'verify');
  await row.locator('[data-test=pool-health]').waitFor();

  await row.locator('[data-test=pool-min-input]').fill('6');
  await row.locator('[data-test=pool-max-input]').fill('4');
  await row.locator('[data-test=pool-save]').click();
  const refusal = row.locator('[data-test=field-error-min_size]');
  await refusal.waitFor({ timeout: 30_000 });
  assert.match(await refusal.innerText(), /maximum size \(4\)/);
  // What was typed stays in the form, through the page's refreshes, for the admin to fix.
  await page.waitForTimeout(6_000);
  assert.equal(await row.locator('[data-test=pool-min-input]').inputValue(), '6');

  await row.locator('[data-test=pool-min-input]').fill('2');
  await row.locator('[data-test=pool-note-input]').fill('e2e: two at least');
  await row.locator('[data-test=pool-save]').click();
  await row.locator('[data-test=pool-saved]').waitFor({ timeout: 30_000 });
  await row.locator('[data-test=pool-size]').filter({ hasText: 'bounds 2–4' }).waitFor();
  const change = page.locator('[data-test=pool-change]').first();
  await change.filter({ hasText: 'e2e: two at least' }).waitFor();
  assert.match(await change.innerText(), /verify/);
  assert.match(await change.innerText(), /admin@factory\.test|Admin/i);
  assert.deepEqual(errors, [], 'no script errors on the page');
  await context.close();
});

test('invalid parameters are shown beside their field and nothing is submitted', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page, 'customer@acme.test', 'acme-demo-pass');
  await page.goto(`${BASE}/runs/new?type=library`);
  await waitForHydration(page);
  await page.fill('[data-test=param-crate_name]', 'Not A Crate!');
  await page.click('[data-test=submit-run]');
  const fieldError = page.locator('[data-test=field-error-crate_name]');
  await fieldError.waitFor({ timeout: 30_000 });
  assert.match(await fieldError.innerText(), /must/);
  assert.match(page.url(), /\/runs\/new/);
  await context.close();
});

test('a wrong password is refused with a message', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/login`);
  await page.fill('[data-test=login-email]', 'customer@acme.test');
  await page.fill('[data-test=login-password]', 'not-the-password');
  await page.click('[data-test=login-submit]');
  await page.locator('[data-test=login-error]').waitFor();
  assert.match(page.url(), /error=invalid/);
  await context.close();
});
