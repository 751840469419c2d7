// A person signing in through Portico's pages in headless Chromium:
// sign-in form -> consent -> back to the app (query or form_post auto-submit).
// Configured by env: AUTHORIZE_URL, REDIRECT_URI, USER_EMAIL, USER_PASSWORD, SCREENSHOT_DIR (optional).
// Prints one JSON line {method, url, postData, cspViolations} on success; exits 1 on failure.
import { chromium } from 'playwright-core';

const need = ['AUTHORIZE_URL', 'REDIRECT_URI', 'USER_EMAIL', 'USER_PASSWORD'];
const missing = need.filter((k) => !process.env[k]);
if (missing.length) {
  console.error(`e2e FAILED: missing environment variables: ${missing.join(', ')}`);
  process.exit(1);
}
const env = process.env;
const executablePath = env.CHROMIUM_PATH || '/usr/bin/chromium';

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
    const page = await context.newPage();
    const cspViolations = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
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
    await page.fill('input[name="email"]', env.USER_EMAIL);
    await page.fill('input[name="password"]', env.USER_PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForSelector('button[value="accept"]', { timeout: 10000 });
    if (env.SCREENSHOT_DIR) await page.screenshot({ path: `${env.SCREENSHOT_DIR}/consent.png` });
    await page.click('button[value="accept"]');
    for (let i = 0; i < 100 && !captured; i++) await page.waitForTimeout(100);
    if (!captured) throw new Error(`never reached the app; last page: ${page.url()}\n${(await page.content()).slice(0, 1500)}`);
    console.log(JSON.stringify({ ...captured, cspViolations }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(`e2e FAILED: ${e.stack || e}`); process.exit(1); });
