// What every browser scenario shares: Chromium launched as the issue prescribes, checks that
// throw, REST calls as any client makes them, and pages that record every problem they meet.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's Chromium with a fresh profile (Playwright passes it as --user-data-dir). */
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'cb-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CB_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const close = async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { browser, close };
}

export const step = (name) => console.log(`· ${name}`);

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** REST call from the test itself, as any client would. */
export async function rest(url, event, input, headers = {}) {
  const response = await fetch(`${url}/${event.replace('.', '/')}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(input),
  });
  const body = await response.json();
  assert(response.ok, `${event}: HTTP ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Waits until the page's connection indicator says it is live. */
export const waitLive = (page, timeout = 10000) =>
  page.waitForFunction(() => document.querySelector('#status')?.textContent === 'live', null, { timeout });

/** A page that records console errors, failed requests and requests to any other host. */
export async function open(browser, url) {
  const page = await browser.newPage();
  const context = page;
  const problems = [];
  const origin = new URL(url).origin;
  // Chromium logs every non-2xx answer as a console error without its URL: answers are checked
  // below, by URL, and `allowed` lists the refusals a step provokes on purpose.
  const allowed = new Set();
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    const key = `${r.status()} ${new URL(r.url()).pathname}`;
    if (r.status() >= 400 && !allowed.has(key)) problems.push(`answer ${key}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin && u.origin.replace('http', 'ws') !== origin.replace('http', 'ws')) {
      problems.push(`request to another host: ${r.url()}`);
    }
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  // Requests in flight, for `settled`: Playwright's `networkidle` is reached once per load and
  // then answers at once, however busy the page is later.
  let inFlight = 0;
  page.on('request', () => inFlight++);
  page.on('requestfinished', () => inFlight--);
  page.on('requestfailed', () => inFlight--);
  /** Resolves once no request has been in flight for 300 ms (at most 10 s). */
  const settled = async () => {
    const deadline = Date.now() + 10000;
    for (let quiet = 0; quiet < 300 && Date.now() < deadline; quiet = inFlight === 0 ? quiet + 50 : 0) {
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { context, page, problems, allowed, settled };
}
