// A person signing in through Portico's pages in headless Chromium:
// sign-in form -> consent -> back to the app (query or form_post auto-submit).
// Configured by env: AUTHORIZE_URL, REDIRECT_URI, USER_EMAIL, USER_PASSWORD, SCREENSHOT_DIR (optional).
// Prints one JSON line {method, url, postData, cspViolations} on success; exits 1 on failure
// (a CSP violation on a Portico page, or a violation listener that does not work, fails it).
import { chromium } from 'playwright-core';

const need = ['AUTHORIZE_URL', 'REDIRECT_URI', 'USER_EMAIL', 'USER_PASSWORD'];
const missing = need.filter((k) => !process.env[k]);
if (missing.length) {
  console.error(`e2e FAILED: missing environment variables: ${missing.join(', ')}`);
  process.exit(1);
}
const env = process.env;
const executablePath = env.CHROMIUM_PATH || '/usr/bin/chromium';

function check(cond, message) {
  if (!cond) throw new Error(message);
}

// Runs in every document before its own scripts: keeps the page's
// securitypolicyviolation events where `pageViolations` can read them, and
// hands each to the driver at once (the form_post page leaves by itself).
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

async function pageViolations(page) {
  return page.evaluate(() => window.__cspViolations || []);
}

async function main() {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  try {
    const context = await browser.newContext();
    const cspViolations = [];
    await context.exposeBinding('__reportCsp', ({ frame }, v) => {
      cspViolations.push({ page: frame.url(), ...v });
    });
    await context.addInitScript(recordViolations);
    const page = await context.newPage();
    // Chromium also logs violations to the console: a second witness.
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push({ page: page.url(), console: m.text() });
    });
    // Every Portico page is checked before the browser leaves it.
    const leave = async (name) => {
      const found = await pageViolations(page);
      check(found.length === 0, `CSP violations on the ${name} page (${page.url()}): ${JSON.stringify(found)}`);
    };
    let captured = null;
    // Nothing listens at the app's redirect URI: capture what the browser sends there.
    await context.route((url) => url.href.startsWith(env.REDIRECT_URI), async (route) => {
      const r = route.request();
      captured = { method: r.method(), url: r.url(), postData: r.postData() };
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>app</h1>' });
    });
    await page.goto(env.AUTHORIZE_URL);
    await page.waitForSelector('input[name="email"]', { timeout: 10000 });
    const cssLoaded = await page.evaluate(() => getComputedStyle(document.querySelector('main')).borderRadius !== '0px');
    if (!cssLoaded) throw new Error('the sign-in page stylesheet did not load');
    if (env.SCREENSHOT_DIR) await page.screenshot({ path: `${env.SCREENSHOT_DIR}/signin.png` });
    await leave('sign-in');
    await page.fill('input[name="email"]', env.USER_EMAIL);
    await page.fill('input[name="password"]', env.USER_PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForSelector('button[value="accept"]', { timeout: 10000 });
    if (env.SCREENSHOT_DIR) await page.screenshot({ path: `${env.SCREENSHOT_DIR}/consent.png` });
    await leave('consent');
    await page.click('button[value="accept"]');
    // Query mode redirects there; form_post gets there by the page's own script.
    await page.waitForURL((u) => u.href.startsWith(env.REDIRECT_URI), { timeout: 10000 })
      .catch(async () => {
        throw new Error(`never reached the app; last page: ${page.url()}\n${(await page.content()).slice(0, 1500)}`);
      });
    check(captured, `the app's page loaded but the request to it was not captured (${page.url()})`);

    // The witness works: an inline script (which our CSP forbids) added to a
    // Portico page in a fresh context is reported, to the page and to the
    // driver. Without this, a broken listener would pass every check above.
    const probeContext = await browser.newContext();
    let firstReport;
    const reported = new Promise((resolve) => { firstReport = resolve; });
    await probeContext.exposeBinding('__reportCsp', (_source, v) => firstReport(v));
    await probeContext.addInitScript(recordViolations);
    const probe = await probeContext.newPage();
    await probe.goto(env.AUTHORIZE_URL);
    await probe.waitForSelector('input[name="email"]', { timeout: 10000 });
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
    console.log(JSON.stringify({ ...captured, cspViolations }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(`e2e FAILED: ${e.stack || e}`); process.exit(1); });
