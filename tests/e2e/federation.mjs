// A guest redeeming an invitation through their home IdP in headless Chromium
// (PRODUCT.md §1, journey 1): the emailed link -> "Continue to Fabrikam" -> the
// upstream's sign-in and consent pages (npm oidc-provider's development
// interactions) -> back at Portico, "Review permissions" -> Accept -> the
// invitation's redirect URL.
//
// Configured by env: REDEEM_URL (the link from the invitation email),
// UPSTREAM_ISSUER (the home IdP, e.g. http://127.0.0.1:PORT), UPSTREAM_LOGIN (the
// account's `sub`, typed into the upstream's login field), APP_URL (the
// invitation's redirect URL; no server runs there, so the browser's request to it
// is answered here with a tiny page), IDP_NAME (optional, "Fabrikam": the trusted
// IdP's display name), TOTP_TIME (optional: with MFA required for guests, the
// server's clock in Unix seconds; the script then registers an authenticator,
// computing its RFC 6238 code for that time), CHROMIUM_PATH (optional), SCREENSHOT_DIR (optional: where a
// failure screenshot goes; the temp folder otherwise).
//
// Only Portico's pages are held to Portico's CSP: violations are recorded for
// documents of REDEEM_URL's origin, never for the upstream's pages.
// Prints one JSON line {finalUrl, cspViolations, steps} on success; exits 1 with
// "e2e FAILED: ..." on stderr on failure.
import { chromium } from 'playwright-core';
import { check, totp } from './lib.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const need = ['REDEEM_URL', 'UPSTREAM_ISSUER', 'UPSTREAM_LOGIN', 'APP_URL'];
const missing = need.filter((k) => !process.env[k]);
if (missing.length) {
  console.error(`e2e FAILED: missing environment variables: ${missing.join(', ')}`);
  process.exit(1);
}
const env = process.env;
const executablePath = env.CHROMIUM_PATH || '/usr/bin/chromium';
const idpName = env.IDP_NAME || 'Fabrikam';
const portico = new URL(env.REDEEM_URL).origin;
const upstream = new URL(env.UPSTREAM_ISSUER).origin;
const appUrl = new URL(env.APP_URL);
const STEP_TIMEOUT = 15000;
// oidc-provider accepts any password in its development interactions.
const UPSTREAM_PASSWORD = 'any password';

const originOf = (url) => {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
};
const isPortico = (url) => originOf(url) === portico;
const isUpstream = (url) => originOf(url) === upstream;
const isApp = (url) => {
  try {
    const u = new URL(url);
    return u.origin === appUrl.origin && u.pathname === appUrl.pathname;
  } catch {
    return false;
  }
};

// Runs in every document before its own scripts: keeps the page's
// securitypolicyviolation events where `pageViolations` can read them, and
// hands each to the driver at once (the page may leave before it is asked).
function recordViolations() {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    const v = {
      directive: e.violatedDirective,
      blockedURI: e.blockedURI,
      sourceFile: e.sourceFile,
      line: e.lineNumber,
    };
    window.__cspViolations.push(v);
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
  let page;
  const cspViolations = [];
  const steps = [];
  const offline = [];
  try {
    const context = await browser.newContext();
    // Violations on Portico's documents only: the upstream's pages are not ours.
    await context.exposeBinding('__reportCsp', ({ frame }, v) => {
      const url = frame.url();
      if (isPortico(url)) cspViolations.push({ page: url, ...v });
    });
    await context.addInitScript(recordViolations);

    // The app: nothing listens at APP_URL, so its page is answered here. Portico
    // and the upstream are reached as they are; anything else (the upstream's
    // web font) is refused, so the journey never waits on the internet.
    let appRequest = null;
    await context.route(() => true, async (route) => {
      const r = route.request();
      const url = r.url();
      if (isApp(url)) {
        appRequest = { method: r.method(), url };
        await route.fulfill({
          status: 200,
          contentType: 'text/html; charset=utf-8',
          body: '<!doctype html><title>Trials</title><h1>Welcome to the Trials app</h1>',
        });
      } else if (isPortico(url) || isUpstream(url)) {
        await route.continue();
      } else {
        offline.push(url);
        await route.abort('blockedbyclient');
      }
    });

    page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    // Chromium also logs violations to the console: a second witness, for
    // Portico's pages only.
    page.on('console', (m) => {
      if (!/Content Security Policy/i.test(m.text())) return;
      const at = m.location().url || page.url();
      if (isPortico(at)) cspViolations.push({ page: at, console: m.text() });
    });
    const step = (name) => steps.push({ name, url: page.url() });
    const text = async () => (await page.textContent('body')) || '';

    // 1. The link from the email: the invited domain's IdP is offered.
    const landingResponse = await page.goto(env.REDEEM_URL);
    check(landingResponse && landingResponse.status() === 200,
      `the redeem link answered ${landingResponse && landingResponse.status()}`);
    await page.waitForSelector('h1:has-text("You\'re invited")');
    const cssLoaded = await page.evaluate(() => getComputedStyle(document.querySelector('main')).borderRadius !== '0px');
    check(cssLoaded, 'the landing page stylesheet did not load');
    const landing = await text();
    check(landing.includes(`Continue to ${idpName}`),
      `the landing page does not offer "Continue to ${idpName}":\n${landing}`);
    step('landing');
    await page.getByRole('button', { name: `Continue to ${idpName}`, exact: true }).click();

    // 2. The upstream's sign-in page (its login field holds the login_hint).
    await page.waitForURL((u) => isUpstream(u.href))
      .catch(() => { throw new Error(`"Continue to ${idpName}" did not lead to the upstream ${upstream}`); });
    const login = page.locator('form input[name="login"]');
    await login.waitFor();
    step('upstream sign-in');
    await login.fill(env.UPSTREAM_LOGIN);
    await page.fill('form input[name="password"]', UPSTREAM_PASSWORD);
    await page.getByRole('button', { name: 'Sign-in' }).click();

    // 3. The upstream's consent page, then back to Portico.
    const upstreamConsent = page.locator('form:has(input[name="prompt"][value="consent"]) button[type="submit"]');
    const review = page.locator('h1:has-text("Review permissions")');
    await upstreamConsent.or(review).first().waitFor()
      .catch(() => { throw new Error('after signing in at the upstream, neither its consent page nor Portico\'s "Review permissions" page came'); });
    check(await review.count() === 0 && isUpstream(page.url()),
      `the upstream asked no consent (at ${page.url()})`);
    check((await upstreamConsent.textContent()).trim() === 'Continue',
      `the upstream's consent button says "${await upstreamConsent.textContent()}"`);
    step('upstream consent');
    await upstreamConsent.click();

    // 4. Portico again: review permissions.
    await review.waitFor()
      .catch(() => { throw new Error('back from the upstream, no "Review permissions" page'); });
    check(isPortico(page.url()), `"Review permissions" shown at ${page.url()}, not at Portico`);
    const consent = await text();
    check(consent.includes(idpName), `the consent page does not mention ${idpName}:\n${consent}`);
    step('review permissions');
    await page.getByRole('button', { name: 'Accept', exact: true }).click();

    // 4b. MFA required for guests, and Fabrikam's MFA not trusted: register
    // an authenticator app at Portico before landing.
    if (env.TOTP_TIME) {
      await page.waitForSelector('h1:has-text("Set up an authenticator app")');
      check(isPortico(page.url()), `the enrolment page is not Portico's: ${page.url()}`);
      check(await page.locator('figure.qr svg').count() === 1, 'no QR code on the enrolment page');
      const key = ((await page.textContent('#totp-secret')) || '').trim();
      step('mfa enrolment');
      await page.locator('input[name="code"]').fill(totp(key, Number(env.TOTP_TIME)));
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await page.waitForSelector('h1:has-text("Save your recovery codes")');
      check(await page.locator('ul.recovery-codes li').count() === 10, 'not ten recovery codes');
      step('recovery codes');
      await page.getByRole('link', { name: 'I saved them, continue' }).click();
    }

    // 5. The invitation's redirect URL.
    await page.waitForURL((u) => isApp(u.href))
      .catch(() => { throw new Error(`Accept did not lead to ${env.APP_URL}`); });
    await page.waitForLoadState('load');
    check(appRequest, `the app's page loaded but the request to it was not captured (${page.url()})`);
    step('app');

    // Portico's pages are all behind: anything they still report is in.
    await new Promise((resolve) => { setTimeout(resolve, 200); });

    // The witness works: an inline script (which our CSP forbids) added to a
    // Portico page in a fresh context is reported, to the page and to the
    // driver. Without this, a broken listener would pass every check above.
    const probeContext = await browser.newContext();
    let firstReport;
    const reported = new Promise((resolve) => { firstReport = resolve; });
    await probeContext.exposeBinding('__reportCsp', (_source, v) => firstReport(v));
    await probeContext.addInitScript(recordViolations);
    const probe = await probeContext.newPage();
    await probe.goto(env.REDEEM_URL);
    check(isPortico(probe.url()), `the CSP probe's page is not Portico's: ${probe.url()}`);
    await probe.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true;';
      document.body.appendChild(s);
    });
    await probe.waitForFunction(() => (window.__cspViolations || []).length > 0, null, { timeout: 5000 })
      .catch(() => { throw new Error('the CSP probe was not reported: the violation listener is not working'); });
    check(!(await probe.evaluate(() => window.__inlineRan)), 'an inline script ran despite the CSP');
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('the CSP probe did not reach the driver: violations would go unseen')), 5000);
    });
    await Promise.race([reported, timeout]).finally(() => clearTimeout(timer));
    await probeContext.close();

    console.log(JSON.stringify({ finalUrl: page.url(), cspViolations, steps }));
  } catch (e) {
    e.message += `\nsteps so far: ${JSON.stringify(steps)}`;
    if (cspViolations.length) e.message += `\nCSP violations on Portico's pages: ${JSON.stringify(cspViolations)}`;
    if (offline.length) e.message += `\nrefused (not Portico, the upstream or the app): ${JSON.stringify(offline)}`;
    if (page) {
      const path = join(env.SCREENSHOT_DIR || tmpdir(), `portico-e2e-federation-failure-${process.pid}.png`);
      try {
        await page.screenshot({ path, fullPage: true });
        e.message += `\nlast page: ${page.url()} (screenshot: ${path})\n${(await page.content()).slice(0, 1500)}`;
      } catch { /* the browser is gone: the error says enough */ }
    }
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(`e2e FAILED: ${e.stack || e}`); process.exit(1); });
