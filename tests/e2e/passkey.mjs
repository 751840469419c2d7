// Passkeys in headless Chromium with a virtual authenticator (Chrome DevTools
// WebAuthn domain through Playwright's CDP session): a member registers a
// passkey at the MFA enrolment step, signs in with it alone (passkeyOnlySignIn),
// then with password + passkey, and removes it at /account/security.
//
// Configured by env: AUTHORIZE_URLS (JSON array of three /authorize URLs: the
// enrolment, the passkey alone, password + passkey), REDIRECT_URI, USER_EMAIL,
// USER_PASSWORD, ACCOUNT_URL, CHROMIUM_PATH (optional), SCREENSHOT_DIR (optional).
// Prints one JSON line {codes, removed, cspViolations} on success; exits 1 on failure.
import { chromium } from 'playwright-core';

const need = ['AUTHORIZE_URLS', 'REDIRECT_URI', 'USER_EMAIL', 'USER_PASSWORD', 'ACCOUNT_URL'];
const missing = need.filter((k) => !process.env[k]);
if (missing.length) {
  console.error(`e2e FAILED: missing environment variables: ${missing.join(', ')}`);
  process.exit(1);
}
const env = process.env;
const executablePath = env.CHROMIUM_PATH || '/usr/bin/chromium';
const STEP = 15000;
const urls = JSON.parse(env.AUTHORIZE_URLS);

function check(cond, message) {
  if (!cond) throw new Error(message);
}

function recordViolations() {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push({ directive: e.violatedDirective, blockedURI: e.blockedURI, sourceFile: e.sourceFile });
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
  const cspViolations = [];
  let page;
  try {
    const context = await browser.newContext();
    await context.addInitScript(recordViolations);
    page = await context.newPage();
    const visited = [];
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) visited.push(f.url()); });
    page.on('response', (r) => { if (r.request().isNavigationRequest()) visited.push(`${r.status()} ${r.request().method()} ${r.url()}`); });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push({ page: page.url(), console: m.text() });
    });
    // The authenticator: built into the "device", with a PIN or biometric.
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
      },
    });
    const leave = async (name) => {
      const found = await page.evaluate(() => window.__cspViolations || []);
      cspViolations.push(...found.map((v) => ({ page: name, ...v })));
    };
    let captured = null;
    await context.route((url) => url.href.startsWith(env.REDIRECT_URI), async (route) => {
      captured = route.request().url();
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>app</h1>' });
    });
    // Every request the browser makes to the app counts, wherever the
    // navigation ends (nothing listens there).
    context.on('request', (r) => { if (r.url().startsWith(env.REDIRECT_URI)) captured = r.url(); });
    const toApp = async (what) => {
      const deadline = Date.now() + STEP;
      while (!captured && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await Promise.resolve(captured || Promise.reject(new Error('not captured')))
        .catch(async () => {
          await page.waitForLoadState().catch(() => {});
          const body = await page.evaluate(() => document.body.innerText).catch((e) => `(${e})`);
          throw new Error(`${what}: never reached the app; last page ${page.url()}\n${body.slice(0, 2000)}\nvisited: ${visited.slice(-12).join('\n')}`);
        });
      check(captured, `${what}: the request to the app was not captured`);
      const code = new URL(captured).searchParams.get('code');
      check(code, `${what}: no code in ${captured}`);
      captured = null;
      return code;
    };
    const consentIfAsked = async () => {
      const accept = page.locator('button[value="accept"]');
      if (await accept.count()) {
        await leave('consent');
        await accept.click();
      }
    };
    const password = async () => {
      await page.waitForSelector('input[name="password"]', { timeout: STEP });
      await page.fill('input[name="email"]', env.USER_EMAIL);
      await page.fill('input[name="password"]', env.USER_PASSWORD);
      await leave('sign-in');
      await page.click('form[action$="/login"] button[type="submit"]');
    };
    // The app's page may still be settling (a navigation to an address
    // nothing serves ends in Chromium's error page): try once more.
    const go = async (url) => {
      try {
        await page.goto(url);
      } catch (e) {
        if (!/interrupted/.test(String(e))) throw e;
        await new Promise((r) => setTimeout(r, 500));
        await page.goto(url);
      }
    };
    const codes = [];

    // 1. Password, then the enrolment step offers a passkey: create one.
    await go(urls[0]);
    await password();
    const create = page.locator('form[data-passkey="create"]:not([hidden])');
    await create.waitFor({ timeout: STEP });
    await leave('enrolment');
    await page.fill('#passkey-name', 'Virtual key');
    await create.locator('button').click();
    await page.waitForSelector('text=Save your recovery codes', { timeout: STEP })
      .catch(async () => { throw new Error(`no recovery codes after registering: ${(await page.content()).slice(0, 2000)}`); });
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    check(credentials.length === 1 && credentials[0].isResidentCredential,
      `the authenticator should hold one discoverable credential: ${JSON.stringify(credentials)}`);
    await leave('recovery codes');
    await page.click('a.button');
    await page.waitForSelector('button[value="accept"]', { timeout: STEP });
    await consentIfAsked();
    codes.push(await toApp('registration'));

    // 2. prompt=login: the passkey alone (the sign-in page's passkey button).
    await go(urls[1]);
    const alone = page.locator('form[data-passkey="get"]:not([hidden])');
    await alone.waitFor({ timeout: STEP });
    await leave('sign-in (passkey)');
    // Consent was given at the first sign-in: straight back to the app.
    await alone.locator('button').click();
    codes.push(await toApp('passkey alone'));

    // 3. prompt=login: password, then the passkey as the second factor.
    await go(urls[2]);
    await password();
    const second = page.locator('form[data-passkey="get"]:not([hidden])');
    await second.waitFor({ timeout: STEP });
    await leave('MFA challenge');
    await second.locator('button').click();
    codes.push(await toApp('password + passkey'));

    // 4. The account page lists it; remove it.
    await go(env.ACCOUNT_URL);
    await page.waitForSelector('text=Virtual key', { timeout: STEP })
      .catch(async () => { throw new Error(`the account page does not list the passkey: ${(await page.content()).slice(0, 2000)}`); });
    await leave('account');
    if (env.SCREENSHOT_DIR) await page.screenshot({ path: `${env.SCREENSHOT_DIR}/account-passkeys.png` });
    await page.click('form[action$="/remove"] button');
    await page.waitForSelector('text=The passkey was removed.', { timeout: STEP });
    const removed = !(await page.content()).includes('Virtual key');
    await leave('account (removed)');
    console.log(JSON.stringify({ codes, removed, cspViolations }));
  } catch (e) {
    if (page && env.SCREENSHOT_DIR) await page.screenshot({ path: `${env.SCREENSHOT_DIR}/passkey-failure.png` }).catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(`e2e FAILED: ${e.stack || e}`); process.exit(1); });
