// The `portico demo` tour in headless Chromium, step by step as the demo prints it
// (PRODUCT.md §1 journey 1): the Contoso admin signs in to the portal and invites
// Alice into the sample app's group -> the invitation in the demo's mailbox ->
// "Continue to Fabrikam" -> Fabrikam's sign-in and consent -> Contoso's "Review
// permissions" -> the authenticator enrolment Contoso requires of guests (a real
// RFC 6238 code for the key the page shows) -> the recovery codes -> My Apps,
// whose tile for the sample app says why Alice has it -> the tile's launch link:
// the sample app (the Rust `openidconnect` crate) signs Alice in as Contoso's guest.
//
// Configured by env: CONTOSO_URL, FABRIKAM_URL, APP_URL, ADMIN_EMAIL,
// ADMIN_PASSWORD, GUEST_EMAIL, GUEST_PASSWORD, TRIALS_APP (the sample app's name),
// TRIALS_GROUP (the group that gives access to it); CHROMIUM_PATH (optional);
// TOUR_DIR (optional: a screenshot of every step goes there, for the README);
// SCREENSHOT_DIR (optional: where a failure screenshot goes; the temp folder
// otherwise). Portico's pages (both organizations) are held to Portico's CSP.
// Prints one JSON line {welcome, cspViolations, steps} on success; exits 1 with
// "e2e FAILED: ..." on stderr on failure.
import { check, launch, totp } from './lib.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const need = ['CONTOSO_URL', 'FABRIKAM_URL', 'APP_URL', 'ADMIN_EMAIL', 'ADMIN_PASSWORD',
  'GUEST_EMAIL', 'GUEST_PASSWORD', 'TRIALS_APP', 'TRIALS_GROUP'];
const env = process.env;
const missing = need.filter((k) => !env[k]);
if (missing.length) {
  console.error(`e2e FAILED: missing environment variables: ${missing.join(', ')}`);
  process.exit(1);
}
const executablePath = env.CHROMIUM_PATH || '/usr/bin/chromium';
const porticos = [new URL(env.CONTOSO_URL).origin, new URL(env.FABRIKAM_URL).origin];
const STEP_TIMEOUT = 15000;

// Reports to the test (not to the page): the demo holds both organizations'
// pages to Portico's CSP, and only theirs.
function recordViolations() {
  document.addEventListener('securitypolicyviolation', (e) => {
    const v = { directive: e.violatedDirective, blockedURI: e.blockedURI, line: e.lineNumber };
    if (typeof window.__reportCsp === 'function') window.__reportCsp(v).catch(() => {});
  });
}

async function main() {
  const browser = await launch(executablePath);
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

    // 2. Invite Alice into the sample app's group; the redirect URL stays
    // Contoso's own address, so she lands on My Apps.
    await page.click('a[href="/admin/invite"]');
    await page.fill('input[name="email"]', env.GUEST_EMAIL);
    await page.fill('input[name="display_name"]', 'Alice Fabrikam');
    await page.selectOption('select[name="group"]', { label: env.TRIALS_GROUP });
    const redirect = await page.inputValue('input[name="redirect_url"]');
    check(redirect === `${env.CONTOSO_URL}/`, `the redirect URL defaults to ${redirect}, not Contoso`);
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

    // Contoso requires MFA of guests: an authenticator app, set up now.
    await page.waitForSelector('h1:has-text("Set up an authenticator app")');
    check(await page.locator('figure.qr svg').count() === 1, 'no QR code on the enrolment page');
    const key = ((await page.textContent('#totp-secret')) || '').trim();
    await shot('5-authenticator');
    await page.locator('input[name="code"]').fill(totp(key, Date.now() / 1000));
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForSelector('h1:has-text("Save your recovery codes")');
    await page.getByRole('link', { name: 'I saved them, continue' }).click();

    // 5. My Apps: the sample app's tile, and why Alice has it.
    await page.waitForURL((u) => u.href.startsWith(`${env.CONTOSO_URL}/myapps`));
    const tile = page.locator('li.tile', { hasText: env.TRIALS_APP });
    await tile.waitFor();
    const why = (await tile.textContent()) || '';
    check(why.includes(`Through the group ${env.TRIALS_GROUP}`), `the tile does not say why:\n${why}`);
    await shot('6-my-apps');
    await tile.getByRole('link', { name: env.TRIALS_APP }).click();

    // The launch: the sample app's sign-in, single sign-on at Contoso, then
    // the app's own consent.
    await page.waitForURL((u) => !u.href.startsWith(`${env.CONTOSO_URL}/myapps`));
    if (page.url().startsWith(env.CONTOSO_URL)) {
      await page.getByText(env.TRIALS_APP).first().waitFor();
      await shot('7-app-consent');
      await page.click('button[value="accept"]');
    }
    await page.waitForSelector('#claims');
    check(page.url().startsWith(env.APP_URL), `signed in at ${page.url()}, not the sample app`);
    await shot('8-signed-in');
    const welcome = await page.locator('h1').innerText();
    check(/Alice Fabrikam/.test(welcome), `the app did not greet Alice: ${welcome}`);
    const claims = await page.locator('#claims').innerText();
    check(/amr\s+\["fed"/.test(claims), `the ID token's amr does not say federated:\n${claims}`);
    check(/refeds\.org\/profile\/mfa/.test(claims), `the ID token's acr is not MFA:\n${claims}`);
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
