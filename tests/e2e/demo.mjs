// The `portico demo` tour in headless Chromium, step by step as the demo prints it
// (PRODUCT.md §1 journey 1): the Contoso admin signs in to the portal and invites
// Alice -> the invitation in the demo's mailbox -> "Continue to Fabrikam" ->
// Fabrikam's sign-in and consent -> Contoso's "Review permissions" -> the sample
// app (the Rust `openidconnect` crate) signs Alice in as Contoso's guest.
//
// Configured by env: CONTOSO_URL, FABRIKAM_URL, APP_URL, ADMIN_EMAIL,
// ADMIN_PASSWORD, GUEST_EMAIL, GUEST_PASSWORD; CHROMIUM_PATH (optional);
// TOUR_DIR (optional: a screenshot of every step goes there, for the README);
// SCREENSHOT_DIR (optional: where a failure screenshot goes; the temp folder
// otherwise). Portico's pages (both organizations) are held to Portico's CSP.
// Prints one JSON line {welcome, cspViolations, steps} on success; exits 1 with
// "e2e FAILED: ..." on stderr on failure.
import { chromium } from 'playwright-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const need = ['CONTOSO_URL', 'FABRIKAM_URL', 'APP_URL', 'ADMIN_EMAIL', 'ADMIN_PASSWORD',
  'GUEST_EMAIL', 'GUEST_PASSWORD'];
const env = process.env;
const missing = need.filter((k) => !env[k]);
if (missing.length) {
  console.error(`e2e FAILED: missing environment variables: ${missing.join(', ')}`);
  process.exit(1);
}
const executablePath = env.CHROMIUM_PATH || '/usr/bin/chromium';
const porticos = [new URL(env.CONTOSO_URL).origin, new URL(env.FABRIKAM_URL).origin];
const STEP_TIMEOUT = 15000;

function check(cond, message) {
  if (!cond) throw new Error(message);
}

function recordViolations() {
  document.addEventListener('securitypolicyviolation', (e) => {
    const v = { directive: e.violatedDirective, blockedURI: e.blockedURI, line: e.lineNumber };
    if (typeof window.__reportCsp === 'function') window.__reportCsp(v).catch(() => {});
  });
}

async function main() {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  const steps = [];
  const cspViolations = [];
  let page;
  try {
    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
    await context.exposeBinding('__reportCsp', ({ frame }, v) => {
      const url = frame.url();
      if (porticos.some((o) => url.startsWith(o))) cspViolations.push({ page: url, ...v });
    });
    await context.addInitScript(recordViolations);
    page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    const shot = async (name) => {
      steps.push(name);
      if (env.TOUR_DIR) await page.screenshot({ path: join(env.TOUR_DIR, `${name}.png`) });
    };

    // 1. The admin signs in to Contoso's portal.
    await page.goto(`${env.CONTOSO_URL}/admin`);
    const adminForm = page.locator('form:has(input[name="password"])');
    await adminForm.locator('input[name="email"]').fill(env.ADMIN_EMAIL);
    await adminForm.locator('input[name="password"]').fill(env.ADMIN_PASSWORD);
    await adminForm.locator('button[type="submit"]').click();
    await page.waitForURL((u) => u.href.startsWith(`${env.CONTOSO_URL}/admin/`));

    // 2. Invite Alice.
    await page.click('a[href="/admin/invite"]');
    await page.fill('input[name="email"]', env.GUEST_EMAIL);
    await page.fill('input[name="display_name"]', 'Alice Fabrikam');
    await page.fill('input[name="redirect_url"]', `${env.APP_URL}/`);
    await shot('1-invite');
    await page.click('form[action="/admin/invite"] button[type="submit"]');
    await page.waitForLoadState();
    check(!(await page.locator('#invite-error').count()), `the invitation was refused: ${await page.content()}`);

    // 3. The mailbox: reload until the mail worker has written the invitation.
    const redeemLink = `a.link[href^="${env.CONTOSO_URL}/redeem?"]`;
    for (let i = 0; i < 50; i++) {
      await page.goto(`${env.APP_URL}/mail`);
      if (await page.locator(redeemLink).count()) break;
      await page.waitForTimeout(200);
    }
    await shot('2-mailbox');
    await page.click(redeemLink);

    // 4. Redemption through Fabrikam.
    await page.getByRole('button', { name: /Continue to Fabrikam/ }).click();
    await page.waitForURL((u) => u.href.startsWith(env.FABRIKAM_URL));
    // The password form (the page also offers guests an emailed code).
    const signIn = page.locator('form:has(input[name="password"])');
    await signIn.locator('input[name="email"]').fill(env.GUEST_EMAIL);
    await signIn.locator('input[name="password"]').fill(env.GUEST_PASSWORD);
    await shot('3-fabrikam-sign-in');
    await signIn.locator('button[type="submit"]').click();
    await page.click('button[value="accept"]');
    await page.waitForURL((u) => u.href.startsWith(env.CONTOSO_URL));
    await page.getByText('Review permissions').first().waitFor();
    await shot('4-contoso-review-permissions');
    await page.click('button[value="accept"]');
    await page.waitForURL((u) => u.href.startsWith(env.APP_URL));

    // 5. The sample app: single sign-on at Contoso, then its own consent.
    await page.click('a[href="/signin"]');
    await page.waitForLoadState();
    if (page.url().startsWith(env.CONTOSO_URL)) {
      await shot('5-app-consent');
      await page.click('button[value="accept"]');
    }
    await page.waitForSelector('#claims');
    await shot('6-signed-in');
    const welcome = await page.locator('h1').innerText();
    check(/Alice Fabrikam/.test(welcome), `the app did not greet Alice: ${welcome}`);
    console.log(JSON.stringify({ welcome, cspViolations, steps }));
  } catch (e) {
    if (page) {
      const path = join(env.SCREENSHOT_DIR || tmpdir(), 'portico-demo-failure.png');
      await page.screenshot({ path }).catch(() => {});
      throw new Error(`${e.message}\nat ${page.url()} after ${steps.join(', ')}; screenshot ${path}`);
    }
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(`e2e FAILED: ${e.stack || e}`); process.exit(1); });
