// The admin and app-owner journeys of PRODUCT.md §1 in headless Chromium, and
// the page a person reads when conditional access blocks them. One script,
// the journey chosen by JOURNEY:
//
//   bulk     an admin signs in to the portal, uploads CSV_PATH on Bulk import,
//            reads the dry run, starts it, waits for the import to complete and
//            downloads the per-row results.
//            Env: BASE_URL, ADMIN_EMAIL, ADMIN_PASSWORD, CSV_PATH.
//   owner    an app owner signs in to My Apps, invites GUEST_EMAIL into the
//            self-service group GROUP_ID of the app they own; then the guest, in
//            a browser of their own, opens the emailed link (READY_FOR_LINK: the
//            driver answers with the link), gets a one-time code (READY_FOR_CODE),
//            accepts, and lands on My Apps with a tile for APP_NAME only. With
//            REQUESTER (a display name), the owner first approves that person's
//            pending request to join the group.
//            Env: BASE_URL, USER_EMAIL, USER_PASSWORD, GROUP_ID, GUEST_EMAIL, APP_NAME.
//   blocked  a person on an Android phone (USER_AGENT) signs in to an app a
//            policy blocks on Android: the page names POLICY_NAME, and its link
//            takes access_denied to the app (REDIRECT_URI, answered here).
//            Env: AUTHORIZE_URL, REDIRECT_URI, USER_EMAIL, USER_PASSWORD,
//            USER_AGENT, POLICY_NAME.
//
// CHROMIUM_PATH and SCREENSHOT_DIR (where a failure screenshot goes; the temp
// folder otherwise) are optional. Every Portico page is held to its CSP. Prints
// one JSON line last on success ({pages, cspViolations, ...}); exits 1 on failure.
import { check, driverLines, launch, recordViolations } from './lib.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync, unlinkSync } from 'node:fs';

const NEEDS = {
  bulk: ['BASE_URL', 'ADMIN_EMAIL', 'ADMIN_PASSWORD', 'CSV_PATH'],
  owner: ['BASE_URL', 'USER_EMAIL', 'USER_PASSWORD', 'GROUP_ID', 'GUEST_EMAIL', 'APP_NAME'],
  blocked: ['AUTHORIZE_URL', 'REDIRECT_URI', 'USER_EMAIL', 'USER_PASSWORD', 'USER_AGENT', 'POLICY_NAME'],
};
const env = process.env;
const journey = env.JOURNEY;
if (!NEEDS[journey]) {
  console.error(`e2e FAILED: JOURNEY must be one of ${Object.keys(NEEDS).join(', ')}`);
  process.exit(1);
}
const missing = NEEDS[journey].filter((k) => !env[k]);
if (missing.length) {
  console.error(`e2e FAILED: missing environment variables: ${missing.join(', ')}`);
  process.exit(1);
}
const executablePath = env.CHROMIUM_PATH || '/usr/bin/chromium';
const STEP_TIMEOUT = 15000;

const driver = driverLines();
function ask(prompt) {
  console.log(prompt);
  return driver.next();
}

// A browser context whose pages record CSP violations; `leave(name)` checks
// the current page before the journey moves on and notes it.
async function person(browser, pages, options = {}) {
  const context = await browser.newContext(options);
  await context.addInitScript(recordViolations);
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  const leave = async (name) => {
    const found = await page.evaluate(() => window.__cspViolations || []);
    check(found.length === 0, `CSP violations on the ${name} page (${page.url()}): ${JSON.stringify(found)}`);
    pages.push({ name, url: page.url() });
  };
  const text = async () => (await page.textContent('main')) || '';
  return { context, page, leave, text };
}

// Portico's sign-in form, as a person fills it.
async function signIn(p, email, password) {
  await p.page.waitForSelector('input[name="email"]');
  await p.leave('sign-in');
  await p.page.fill('input[name="email"]', email);
  await p.page.fill('input[name="password"]', password);
  await p.page.click('button[type="submit"]');
}

async function bulk(browser, pages) {
  const admin = await person(browser, pages);
  const { page } = admin;
  await page.goto(`${env.BASE_URL}/admin/signin`);
  await signIn(admin, env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  await page.waitForSelector('form[action="/admin/signout"]');
  await admin.leave('portal');
  await page.getByRole('link', { name: 'Bulk import' }).first().click();
  await page.waitForSelector('h1:has-text("Bulk invite from CSV")');
  await admin.leave('bulk import');
  await page.setInputFiles('input[name="file"]', env.CSV_PATH);
  await page.getByRole('button', { name: 'Upload and check' }).click();
  await page.waitForSelector('h2:has-text("Dry run")');
  const dryRun = await admin.text();
  check(dryRun.includes('Nobody has been invited yet'), `not a dry run:\n${dryRun}`);
  await admin.leave('dry run');
  const report = page.url();
  await page.getByRole('button', { name: 'Start import' }).click();
  // The report refreshes itself until the import is done.
  await page.waitForSelector('.status-completed', { timeout: 60000 });
  await admin.leave('import completed');
  const counts = {};
  for (const row of await page.locator('dl.counts > div').all()) {
    counts[((await row.locator('dt').textContent()) || '').trim()] = Number((await row.locator('dd').textContent()) || 'NaN');
  }
  const problems = await page.locator('section[aria-labelledby="problems-h"] tbody tr').allTextContents();
  // The per-row results, downloaded as the admin would.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the per-row results (CSV)' }).click(),
  ]);
  const saved = join(tmpdir(), `portico-e2e-results-${process.pid}.csv`);
  await download.saveAs(saved);
  const results = readFileSync(saved, 'utf8').trim().split(/\r?\n/);
  unlinkSync(saved);
  return { report, counts, problems: problems.map((t) => t.replace(/\s+/g, ' ').trim()), results, resultsFile: download.suggestedFilename() };
}

async function owner(browser, pages) {
  const owner = await person(browser, pages);
  await owner.page.goto(`${env.BASE_URL}/myapps`);
  await signIn(owner, env.USER_EMAIL, env.USER_PASSWORD);
  await owner.page.waitForSelector('h1:has-text("My Apps")');
  const panel = await owner.text();
  check(panel.includes('Applications you own'), `the owner's panel has no owned apps:\n${panel}`);
  await owner.leave('owner my apps');
  const form = owner.page.locator(`form[action="/myapps/groups/${env.GROUP_ID}/invite"]`);
  check(await form.count() === 1, `no invite form for the group ${env.GROUP_ID}`);
  await form.locator('input[name="email"]').fill(env.GUEST_EMAIL);
  await form.locator('input[name="display_name"]').fill('Gus Guest');
  await form.getByRole('button').click();
  await owner.page.waitForSelector(`text=was invited and added`);
  await owner.leave('owner invited');

  // A colleague asked to join the group: the owner approves it here.
  if (env.REQUESTER) {
    const approve = owner.page.getByRole('button', { name: `Approve ${env.REQUESTER} joining` });
    check(await approve.count() === 1, `no pending request from ${env.REQUESTER}:\n${await owner.text()}`);
    await approve.click();
    await owner.page.waitForLoadState();
    check(await owner.page.getByRole('button', { name: `Approve ${env.REQUESTER} joining` }).count() === 0,
      'the request is still pending after approval');
    await owner.leave('owner approved');
  }

  // The guest, on their own machine.
  const guest = await person(browser, pages);
  const link = (await ask('READY_FOR_LINK')).trim();
  check(link.startsWith(env.BASE_URL), `the driver sent "${link}", not a Portico link`);
  await guest.page.goto(link);
  await guest.page.waitForSelector('h1:has-text("You\'re invited")');
  await guest.leave('landing');
  await guest.page.getByRole('button', { name: `Email a code to ${env.GUEST_EMAIL}` }).click();
  const codeInput = guest.page.locator('input[name="code"]');
  await codeInput.waitFor();
  await guest.leave('code');
  const code = (await ask('READY_FOR_CODE')).trim();
  check(/^[0-9]{8}$/.test(code), `the driver sent "${code}", not an 8-digit code`);
  await codeInput.fill(code);
  await guest.page.getByRole('button', { name: 'Verify', exact: true }).click();
  await guest.page.waitForSelector('h1:has-text("Review permissions")');
  await guest.leave('consent');
  await guest.page.getByRole('button', { name: 'Accept', exact: true }).click();
  await guest.page.waitForSelector('h1:has-text("My Apps")');
  const tiles = (await guest.page.locator('li.tile').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
  await guest.leave('guest my apps');
  check(tiles.length === 1 && tiles[0].includes(env.APP_NAME), `the guest should see ${env.APP_NAME} only: ${JSON.stringify(tiles)}`);
  return { tiles };
}

async function blocked(browser, pages) {
  const phone = await person(browser, pages, { userAgent: env.USER_AGENT });
  let captured = null;
  await phone.context.route((url) => url.href.startsWith(env.REDIRECT_URI), async (route) => {
    captured = route.request().url();
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>app</h1>' });
  });
  await phone.page.goto(env.AUTHORIZE_URL);
  await signIn(phone, env.USER_EMAIL, env.USER_PASSWORD);
  await phone.page.waitForSelector('h1:has-text("We couldn\'t sign you in")');
  const message = await phone.text();
  check(message.includes(env.POLICY_NAME), `the page does not name the policy "${env.POLICY_NAME}":\n${message}`);
  await phone.leave('blocked');
  await phone.page.getByRole('link', { name: 'Return to the application' }).click();
  await phone.page.waitForURL((u) => u.href.startsWith(env.REDIRECT_URI));
  check(captured, 'the app was never reached');
  return { message: message.replace(/\s+/g, ' ').trim(), appUrl: captured };
}

async function main() {
  const browser = await launch(executablePath);
  const pages = [];
  try {
    const result = await { bulk, owner, blocked }[journey](browser, pages);
    console.log(JSON.stringify({ journey, pages, ...result }));
  } catch (e) {
    const open = browser.contexts().flatMap((c) => c.pages());
    const page = open[open.length - 1];
    if (page) {
      const path = join(env.SCREENSHOT_DIR || tmpdir(), `portico-e2e-${journey}-failure-${process.pid}.png`);
      try {
        await page.screenshot({ path, fullPage: true });
        e.message += `\nlast page: ${page.url()} (screenshot: ${path})\n${(await page.content()).slice(0, 1500)}`;
      } catch { /* the browser is gone: the error says enough */ }
    }
    throw e;
  } finally {
    await browser.close();
    driver.close();
  }
}

main().catch((e) => { console.error(`e2e FAILED: ${e.message || e}\n${e.stack || ''}`); process.exit(1); });
