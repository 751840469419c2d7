// A guest without a home IdP redeeming an invitation in headless Chromium
// (PRODUCT.md §1, journey 2): the emailed link -> "Email a code" -> the code
// from the email -> Review permissions -> Accept -> the invitation's redirect URL.
//
// Configured by env: REDEEM_URL (the link from the invitation email), REDIRECT_URL
// (the invitation's inviteRedirectUrl), EXPECT_MFA (optional: the authenticator
// enrolment comes after consent), GUEST_EMAIL, INVITER (the inviter's display
// name), ORGANIZATION, PRIVACY_URL, CHROMIUM_PATH (optional), SCREENSHOT_DIR (optional:
// where a failure screenshot goes; the temp folder otherwise). With MYAPPS_APP, the
// redirect URL is My Apps: its tile for that app must say MYAPPS_REASON, and its
// launch link must open LAUNCH_URL.
//
// The one-time code is only emailed once the browser asks for it, so the script
// and its driver hand it over on stdio: once the code page is shown, the script
// prints the line `READY_FOR_CODE` and reads the code as one line from stdin.
// Prints one JSON line {url, pages, cspViolations} last on success; exits 1 on failure.
import { check, driverLines, launch, recordViolations } from './lib.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const need = ['REDEEM_URL', 'REDIRECT_URL', 'GUEST_EMAIL', 'INVITER', 'ORGANIZATION', 'PRIVACY_URL'];
const missing = need.filter((k) => !process.env[k]);
if (missing.length) {
  console.error(`e2e FAILED: missing environment variables: ${missing.join(', ')}`);
  process.exit(1);
}
const env = process.env;
const executablePath = env.CHROMIUM_PATH || '/usr/bin/chromium';
const STEP_TIMEOUT = 15000;

const driver = driverLines();
const nextLine = () => driver.next();

async function pageViolations(page) {
  return page.evaluate(() => window.__cspViolations || []);
}

async function main() {
  const browser = await launch(executablePath);
  let page;
  try {
    const context = await browser.newContext();
    await context.addInitScript(recordViolations);
    page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    const cspViolations = [];
    // Chromium also logs violations to the console: a second witness.
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push({ page: page.url(), console: m.text() });
    });
    const pages = [];
    // Every page of the journey is checked before the browser leaves it.
    const leave = async (name) => {
      const found = await pageViolations(page);
      check(found.length === 0, `CSP violations on the ${name} page (${page.url()}): ${JSON.stringify(found)}`);
      pages.push({ name, url: page.url() });
    };
    const text = async () => (await page.textContent('main')) || '';

    // 1. The link from the email: who invited whom.
    const landingResponse = await page.goto(env.REDEEM_URL);
    check(landingResponse && landingResponse.status() === 200, `the redeem link answered ${landingResponse && landingResponse.status()}`);
    await page.waitForSelector('h1:has-text("You\'re invited")');
    const cssLoaded = await page.evaluate(() => getComputedStyle(document.querySelector('main')).borderRadius !== '0px');
    check(cssLoaded, 'the landing page stylesheet did not load');
    const landing = await text();
    check(landing.includes(env.INVITER), `the landing page does not name the inviter "${env.INVITER}":\n${landing}`);
    check(landing.includes(env.ORGANIZATION), `the landing page does not name "${env.ORGANIZATION}":\n${landing}`);
    check(landing.includes(env.GUEST_EMAIL), `the landing page does not name ${env.GUEST_EMAIL}:\n${landing}`);
    await leave('landing');
    await page.getByRole('button', { name: `Email a code to ${env.GUEST_EMAIL}` }).click();

    // 2. The code page; the code is in the guest's mailbox, which the driver reads.
    const codeInput = page.locator('input[name="code"]');
    await codeInput.waitFor();
    check((await text()).includes(env.GUEST_EMAIL), 'the code page does not say where the code went');
    await leave('code');
    console.log('READY_FOR_CODE');
    const code = (await nextLine()).trim();
    check(/^[0-9]{8}$/.test(code), `the driver sent "${code}", not an 8-digit code`);
    await codeInput.fill(code);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();

    // 3. Consent: the organization and its privacy statement.
    await page.waitForSelector('h1:has-text("Review permissions")');
    const consent = await text();
    check(consent.includes(env.ORGANIZATION), `the consent page does not name "${env.ORGANIZATION}":\n${consent}`);
    check(consent.includes(env.GUEST_EMAIL), `the consent page does not list the email:\n${consent}`);
    const privacy = page.locator(`a[href="${env.PRIVACY_URL}"]`);
    check(await privacy.count() === 1, `the consent page has no link to ${env.PRIVACY_URL}`);
    check(/privacy statement/i.test(await privacy.textContent()), 'the privacy link is not labelled as the privacy statement');
    await leave('consent');
    await page.getByRole('button', { name: 'Accept', exact: true }).click();

    // 3b. With MFA required for guests: register an authenticator app. The
    // server's clock is the test's, so the driver computes the code from the
    // key the page shows (`READY_FOR_TOTP <key>`).
    if (env.EXPECT_MFA) {
      await page.waitForSelector('h1:has-text("Set up an authenticator app")');
      check(await page.locator('figure.qr svg').count() === 1, 'no QR code on the enrolment page');
      const uri = await page.locator('a[href^="otpauth://totp/"]').getAttribute('href');
      check(uri && uri.includes('secret='), `no otpauth link: ${uri}`);
      const key = ((await page.textContent('#totp-secret')) || '').trim();
      check(/^[A-Z2-7]+=*$/.test(key) && uri.includes(`secret=${key}`), `the key "${key}" is not the link's secret`);
      await leave('mfa enrolment');
      console.log(`READY_FOR_TOTP ${key}`);
      const totp = (await nextLine()).trim();
      check(/^[0-9]{6}$/.test(totp), `the driver sent "${totp}", not a 6-digit code`);
      await page.locator('input[name="code"]').fill(totp);
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await page.waitForSelector('h1:has-text("Save your recovery codes")');
      const codes = await page.locator('ul.recovery-codes li').count();
      check(codes === 10, `${codes} recovery codes shown, not 10`);
      await leave('recovery codes');
      await page.getByRole('link', { name: 'I saved them, continue' }).click();
    }

    // 4. The invitation's redirect URL.
    await page.waitForURL(env.REDIRECT_URL);
    await page.waitForLoadState('load');
    check(page.url() === env.REDIRECT_URL, `landed on ${page.url()}, not ${env.REDIRECT_URL}`);
    await leave('redirect target');

    // 5. My Apps: the app shared with the guest, why, and its launch link.
    if (env.MYAPPS_APP) {
      const panel = await text();
      check(panel.includes('My Apps'), `not My Apps:\n${panel}`);
      const tile = page.locator('li.tile', { hasText: env.MYAPPS_APP });
      check(await tile.count() === 1, `no tile for ${env.MYAPPS_APP}:\n${panel}`);
      const why = (await tile.textContent()) || '';
      check(why.includes(env.MYAPPS_REASON), `the tile does not say "${env.MYAPPS_REASON}":\n${why}`);
      await tile.getByRole('link', { name: env.MYAPPS_APP }).click();
      await page.waitForURL(env.LAUNCH_URL);
      await page.waitForLoadState('load');
      pages.push({ name: 'launch', url: page.url() });
    }

    // The witness works: an inline script (which our CSP forbids) added to a
    // Portico page in a fresh tab is reported. Without this, a broken
    // listener would pass every check above.
    const probe = await context.newPage();
    await probe.goto(env.REDEEM_URL);
    await probe.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true;';
      document.body.appendChild(s);
    });
    await probe.waitForFunction(() => (window.__cspViolations || []).length > 0, null, { timeout: 5000 })
      .catch(() => { throw new Error('the CSP probe was not reported: the violation listener is not working'); });
    check(!(await probe.evaluate(() => window.__inlineRan)), 'an inline script ran despite the CSP');
    await probe.close();

    console.log(JSON.stringify({ url: page.url(), pages, cspViolations }));
  } catch (e) {
    if (page) {
      const path = join(env.SCREENSHOT_DIR || tmpdir(), `portico-e2e-redeem-failure-${process.pid}.png`);
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

main().catch((e) => { console.error(`e2e FAILED: ${e.stack || e}`); process.exit(1); });
