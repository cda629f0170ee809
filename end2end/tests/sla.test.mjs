// An account manager's month-end in a real browser: open last month's report of the demo
// tenant (generated history with an outage), read the credit, review and issue it, and
// download the CSV; then the customer logs in and finds the issued report.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

async function waitForHydration(page) {
  await page.locator('body[data-hydrated=true]').waitFor({ state: 'attached', timeout: 30_000 });
}

// The calendar month before this one, as YYYY-MM (UTC), which the demo history fills.
function previousMonth() {
  const now = new Date();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return `${first.getUTCFullYear()}-${String(first.getUTCMonth() + 1).padStart(2, '0')}`;
}

test('an account manager issues a month with an outage and the customer sees it', async () => {
  const month = previousMonth();
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));

  await logIn(page, 'manager@factory.test', 'manager-demo-pass');
  await page.goto(`${BASE}/sla?month=${month}`);
  await page.click('[data-test=report-link-demo-history]');
  await page.waitForURL(new RegExp(`/sla/demo-history/${month}`));
  await waitForHydration(page);

  const status = page.locator('[data-test=report-status]');
  await status.filter({ hasText: /draft/i }).waitFor();
  const credit = (await page.locator('[data-test=credit-amount]').innerText()).trim();
  assert.match(credit, /EUR\s*[1-9][0-9,]*\.\d\d/, `a credit is owed: ${credit}`);

  await page.fill('[data-test=report-note]', 'outage on the control plane confirmed');
  await page.click('[data-test=review]');
  await status.filter({ hasText: /reviewed/i }).waitFor({ timeout: 30_000 });
  await page.fill('[data-test=report-note]', 'issued to the customer');
  await page.click('[data-test=issue]');
  await status.filter({ hasText: /issued/i }).waitFor({ timeout: 30_000 });

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-test=download-csv]'),
  ]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.match(csv, /^section,field,value/);
  assert.match(csv, /status,issued/);
  assert.ok(csv.includes(credit.replace(/^EUR\s*/, '').replace(/,/g, '')), `CSV has ${credit}`);
  assert.deepEqual(errors, []);
  await context.close();

  const customer = await (await browser.newContext()).newPage();
  await logIn(customer, 'customer@demo-history.test', 'demo-history-pass');
  await customer.goto(`${BASE}/sla?month=${month}`);
  await customer.click('[data-test=report-link-demo-history]');
  await customer.locator('[data-test=report-status]').filter({ hasText: /issued/i }).waitFor();
  const seen = (await customer.locator('[data-test=credit-amount]').innerText()).trim();
  assert.equal(seen, credit);
  // Staff actions are not offered to the customer.
  assert.equal(await customer.locator('[data-test=issue]').count(), 0);
});
