#!/usr/bin/env node
// Relying-party interop driver: runs a full OpenID Connect flow against a
// running Portico server with the real `openid-client` library (v6).
//
// Configured only by environment variables (all required):
//   PORTICO_ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
//   POST_LOGOUT_REDIRECT_URI, USER_EMAIL, USER_PASSWORD
// Prints `openid-client interop: OK (sub=...)` and exits 0 on success;
// prints `openid-client interop FAILED: ...` to stderr and exits 1 otherwise.
import { createHash } from 'node:crypto';
import * as client from 'openid-client';

const REQUIRED_ENV = ['PORTICO_ISSUER', 'CLIENT_ID', 'CLIENT_SECRET', 'REDIRECT_URI',
  'POST_LOGOUT_REDIRECT_URI', 'USER_EMAIL', 'USER_PASSWORD'];
const MAX_BROWSER_STEPS = 20;
const HTTP_TIMEOUT_MS = 15_000;

class InteropError extends Error {}
const fail = (msg) => { throw new InteropError(msg); };
const assert = (cond, msg) => { if (!cond) fail(msg); };

// ---------- failure reporting ----------
function describeError(err, depth = 0) {
  if (depth > 4 || err === undefined || err === null) return '';
  const pad = '\n' + '  '.repeat(depth + 1) + 'caused by: ';
  if (typeof Response !== 'undefined' && err instanceof Response) {
    return `HTTP ${err.status} response from ${err.url || '(unknown url)'}`;
  }
  if (!(err instanceof Error)) {
    let json;
    const replacer = (_k, v) => (ArrayBuffer.isView(v) || v instanceof ArrayBuffer ? `<${v.byteLength} bytes>`
      : typeof Response !== 'undefined' && v instanceof Response ? `<HTTP ${v.status} response>` : v);
    try { json = JSON.stringify(err, replacer); } catch { json = String(err); }
    return String(json).slice(0, 2000);
  }
  let s = err instanceof InteropError ? err.message : `${err.name}: ${err.message}`;
  const extra = ['code', 'error', 'error_description', 'status']
    .filter((k) => err[k] !== undefined).map((k) => `${k}=${JSON.stringify(err[k])}`);
  if (extra.length) s += ` (${extra.join(', ')})`;
  if (err.cause !== undefined) s += pad + describeError(err.cause, depth + 1);
  return s;
}

let reported = false;
function die(err) {
  if (!reported) {
    reported = true;
    process.stderr.write(`openid-client interop FAILED: ${describeError(err)}\n`);
  }
  process.exit(1);
}
process.on('unhandledRejection', die);
process.on('uncaughtException', die);

// ---------- configuration ----------
function readEnv() {
  const missing = REQUIRED_ENV.filter((name) => !process.env[name]);
  if (missing.length) fail(`missing required environment variable(s): ${missing.join(', ')}`);
  const env = Object.fromEntries(REQUIRED_ENV.map((name) => [name, process.env[name]]));
  for (const name of ['PORTICO_ISSUER', 'REDIRECT_URI', 'POST_LOGOUT_REDIRECT_URI']) {
    try { new URL(env[name]); } catch { fail(`${name} is not a valid absolute URL: ${env[name]}`); }
  }
  // openid-client sends the callback URL stripped of its query as redirect_uri
  // to the token endpoint, so REDIRECT_URI must be in normalized form, query-less.
  const redirect = new URL(env.REDIRECT_URI);
  if (redirect.href !== env.REDIRECT_URI || redirect.search || redirect.hash) {
    fail(`REDIRECT_URI must be a normalized URL without query or fragment (e.g. ${redirect.origin}${redirect.pathname}), got ${env.REDIRECT_URI}`);
  }
  return env;
}

// ---------- tiny browser: cookie jar + manual redirects + form scraping ----------
class CookieJar {
  #cookies = new Map();
  constructor(origin) { this.origin = origin; }
  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const attr = (key) => attrs.map((a) => a.split('=')).find(([k]) => k.trim().toLowerCase() === key);
      const maxAge = attr('max-age');
      const expires = attr('expires');
      const expired = maxAge ? Number(maxAge.slice(1).join('=').trim()) <= 0
        : expires ? Date.parse(expires.slice(1).join('=').trim()) <= Date.now() : false;
      if (expired) this.#cookies.delete(name); else this.#cookies.set(name, value);
    }
  }
  header(url) {
    if (new URL(url).origin !== this.origin || this.#cookies.size === 0) return undefined;
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

async function browserRequest(jar, url, form) {
  const headers = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8', 'user-agent': 'portico-interop/openid-client' };
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers.origin = new URL(url).origin; // what a browser sends on a form POST
  }
  const response = await fetch(url, {
    method: form ? 'POST' : 'GET', headers, body, redirect: 'manual',
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  if (new URL(url).origin === jar.origin) jar.store(response);
  return response;
}

const NAMED_ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
function htmlUnescape(s) {
  return s.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, e) => {
    if (e[0] !== '#') return NAMED_ENTITIES[e.toLowerCase()] ?? m;
    const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

const TAG_BODY = `((?:[^>"']|"[^"]*"|'[^']*')*)`; // attributes, tolerant to '>' inside quotes
const ATTR_RE = /([^\s"'<>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
function parseAttrs(raw) {
  const attrs = {};
  for (const m of raw.matchAll(ATTR_RE)) {
    const name = m[1].toLowerCase();
    if (!(name in attrs)) attrs[name] = htmlUnescape(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}
const findTags = (html, tag) =>
  [...html.matchAll(new RegExp(`<${tag}\\b${TAG_BODY}>`, 'gi'))].map((m) => parseAttrs(m[1]));

// First <form method="post">: its resolved action, hidden fields, input names, button names.
function parsePostForm(html, pageUrl) {
  for (const m of html.matchAll(new RegExp(`<form\\b${TAG_BODY}>([\\s\\S]*?)</form\\s*>`, 'gi'))) {
    const attrs = parseAttrs(m[1]);
    if ((attrs.method ?? '').trim().toLowerCase() !== 'post') continue;
    const inputs = findTags(m[2], 'input');
    const hidden = inputs.filter((i) => (i.type ?? '').toLowerCase() === 'hidden' && i.name)
      .map((i) => [i.name, i.value ?? '']);
    const submitNames = [...findTags(m[2], 'button'),
      ...inputs.filter((i) => ['submit', 'image'].includes((i.type ?? '').toLowerCase()))]
      .map((b) => b.name).filter(Boolean);
    return {
      action: new URL(attrs.action?.trim() || pageUrl, pageUrl).href,
      hidden, inputNames: new Set(inputs.map((i) => i.name).filter(Boolean)), submitNames: new Set(submitNames),
    };
  }
  return undefined;
}

const pageFailure = (what, url, status, body) =>
  fail(`${what} at ${url} (HTTP ${status}); first 2000 chars of body:\n${body.slice(0, 2000)}`);

// Drives sign-in + consent until the server redirects to REDIRECT_URI; returns that URL.
async function driveBrowser(jar, startUrl, env) {
  let url = startUrl;
  let form;
  const submitted = { 'sign-in': 0, consent: 0 };
  for (let step = 1; step <= MAX_BROWSER_STEPS; step++) {
    if (new URL(url).origin !== jar.origin) fail(`browser step ${step}: refusing to fetch ${url}, outside issuer origin ${jar.origin}`);
    const response = await browserRequest(jar, url, form);
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      await response.body?.cancel();
      if (!location) fail(`browser step ${step}: HTTP ${response.status} from ${url} without a Location header`);
      const next = new URL(location, url).href;
      if (next.startsWith(env.REDIRECT_URI)) return next;
      url = next;
      form = undefined; // every redirect is followed with GET
      continue;
    }
    const body = await response.text();
    if (response.status !== 200) pageFailure(`browser step ${step}: unexpected response`, url, response.status, body);
    const page = parsePostForm(body, url);
    if (!page) pageFailure(`browser step ${step}: page has no <form method="post">`, url, response.status, body);
    let kind;
    if (page.inputNames.has('email') && page.inputNames.has('password')) {
      kind = 'sign-in';
      form = [...page.hidden, ['email', env.USER_EMAIL], ['password', env.USER_PASSWORD]];
    } else if (page.submitNames.has('decision')) {
      kind = 'consent';
      form = [...page.hidden, ['decision', 'accept']];
    } else {
      pageFailure(`browser step ${step}: page is neither sign-in nor consent`, url, response.status, body);
    }
    if (++submitted[kind] > 1) pageFailure(`browser step ${step}: ${kind} page shown again after submitting it`, url, response.status, body);
    url = page.action;
  }
  return fail(`browser flow did not reach REDIRECT_URI within ${MAX_BROWSER_STEPS} steps (last URL ${url})`);
}

// ---------- checks openid-client leaves to the caller ----------
// openid-client does not verify at_hash in the code flow; check it when present.
function checkAtHash(idToken, accessToken, claims) {
  if (claims.at_hash === undefined) return;
  const { alg } = JSON.parse(Buffer.from(idToken.split('.')[0], 'base64url').toString('utf8'));
  const hash = alg === 'EdDSA' || alg === 'Ed25519' ? 'sha512' : { 256: 'sha256', 384: 'sha384', 512: 'sha512' }[String(alg).slice(-3)];
  assert(hash, `cannot verify at_hash for ID token alg ${alg}`);
  const digest = createHash(hash).update(accessToken, 'ascii').digest();
  const expected = digest.subarray(0, digest.length / 2).toString('base64url');
  assert(claims.at_hash === expected, `ID token at_hash ${claims.at_hash} does not match access token (expected ${expected})`);
}

async function expectInvalidGrant(config, refreshToken, label) {
  try {
    await client.refreshTokenGrant(config, refreshToken);
  } catch (err) {
    if (err instanceof client.ResponseBodyError && err.error === 'invalid_grant') return;
    fail(`${label}: expected error invalid_grant, got ${describeError(err)}`);
  }
  fail(`${label}: refresh succeeded but must fail with invalid_grant`);
}

// ---------- the flow ----------
async function main() {
  const env = readEnv();
  const issuer = new URL(env.PORTICO_ISSUER);

  // 1. Discovery (http on loopback: allowInsecureRequests; ID token signatures
  //    are verified against the JWKS only with enableNonRepudiationChecks).
  const config = await client.discovery(issuer, env.CLIENT_ID, { client_secret: env.CLIENT_SECRET },
    client.ClientSecretBasic(env.CLIENT_SECRET),
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks], timeout: HTTP_TIMEOUT_MS / 1000 });
  const jar = new CookieJar(issuer.origin);

  // 2. Authorization URL with PKCE S256, state and nonce.
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: env.REDIRECT_URI, response_type: 'code',
    scope: 'openid profile email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
    state, nonce,
  });

  // 3. Sign in and consent.
  const callbackUrl = await driveBrowser(jar, authUrl.href, env);

  // 4. Code exchange; openid-client checks state, iss param, ID token iss/aud/nonce/exp and signature.
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl),
    { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce });
  assert(tokens.token_type?.toLowerCase() === 'bearer', `token_type must be Bearer, got ${tokens.token_type}`);
  assert(tokens.access_token, 'token response has no access_token');
  assert(tokens.id_token, 'token response has no id_token');
  assert(tokens.refresh_token, 'token response has no refresh_token (offline_access was requested)');
  const claims = tokens.claims();
  assert(typeof claims?.sub === 'string' && claims.sub.length > 0, 'ID token sub is empty');
  assert(claims.email === env.USER_EMAIL, `ID token email ${JSON.stringify(claims.email)} !== ${JSON.stringify(env.USER_EMAIL)}`);
  checkAtHash(tokens.id_token, tokens.access_token, claims);

  // 5. UserInfo (openid-client checks sub === expected sub).
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert(userinfo.email === env.USER_EMAIL, `UserInfo email ${JSON.stringify(userinfo.email)} !== ${JSON.stringify(env.USER_EMAIL)}`);

  // 6. Refresh: rotation must hand out a new access token and a new refresh token.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert(refreshed.access_token && refreshed.access_token !== tokens.access_token, 'refresh did not return a new access_token');
  assert(refreshed.refresh_token, 'refresh did not return a refresh_token (rotation expected)');
  assert(refreshed.refresh_token !== tokens.refresh_token, 'refresh returned the same refresh_token (rotation expected)');
  const refreshedClaims = refreshed.claims();
  if (refreshedClaims) {
    assert(refreshedClaims.sub === claims.sub, `ID token from refresh has sub ${refreshedClaims.sub}, expected ${claims.sub}`);
    checkAtHash(refreshed.id_token, refreshed.access_token, refreshedClaims);
  }

  // 7. Reuse detection: the old refresh token fails, and that revokes the whole family.
  await expectInvalidGrant(config, tokens.refresh_token, 'reusing the rotated-out refresh token');
  await expectInvalidGrant(config, refreshed.refresh_token, 'using the new refresh token after reuse was detected');

  // 8. RP-initiated logout.
  const logoutState = client.randomState();
  const endSessionUrl = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token, post_logout_redirect_uri: env.POST_LOGOUT_REDIRECT_URI, state: logoutState,
  });
  const logout = await browserRequest(jar, endSessionUrl.href);
  if (logout.status < 300 || logout.status >= 400) {
    pageFailure('end-session did not redirect', endSessionUrl.href, logout.status, await logout.text());
  }
  await logout.body?.cancel();
  const location = logout.headers.get('location');
  assert(location, `end-session answered HTTP ${logout.status} without a Location header`);
  const target = new URL(location, endSessionUrl);
  assert(target.href.startsWith(env.POST_LOGOUT_REDIRECT_URI), `end-session redirected to ${target.href}, expected ${env.POST_LOGOUT_REDIRECT_URI}`);
  assert(target.searchParams.get('state') === logoutState, `end-session redirect ${target.href} does not carry state=${logoutState}`);

  // 9. Done.
  process.stdout.write(`openid-client interop: OK (sub=${claims.sub})\n`);
}

main().then(() => process.exit(0), die);
