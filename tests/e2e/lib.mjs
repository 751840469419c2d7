// What the journeys share: the driver's answers on stdin, the check that
// fails a step, the CSP violation recorder, and Chromium as they launch it.
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
import { createInterface } from 'node:readline';

export function check(cond, message) {
  if (!cond) throw new Error(message);
}

// Runs in every document before its own scripts (context.addInitScript):
// keeps the page's securitypolicyviolation events where a journey can read them.
export function recordViolations() {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push({
      directive: e.violatedDirective,
      blockedURI: e.blockedURI,
      sourceFile: e.sourceFile,
      line: e.lineNumber,
    });
  });
}

// Lines from the driver, in order: `next()` waits for the next one; `close()`
// lets the process end.
export function driverLines() {
  const lines = [];
  const waiters = [];
  let closed = false;
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const w = waiters.shift();
    if (w) w.resolve(line); else lines.push(line);
  });
  rl.on('close', () => {
    closed = true;
    for (const w of waiters.splice(0)) w.reject(new Error('stdin closed before the driver answered'));
  });
  return {
    next() {
      if (lines.length) return Promise.resolve(lines.shift());
      if (closed) return Promise.reject(new Error('stdin closed before the driver answered'));
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    close() {
      rl.close();
      process.stdin.destroy();
    },
  };
}

export function launch(executablePath) {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
}

// RFC 6238 (SHA-1, 6 digits, 30 s) for the key an enrolment page shows.
export function totp(base32, unixSeconds) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}
