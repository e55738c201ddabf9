// The dashboard outlives its server: run by tests/it/browser.rs with CB_URL. Once the page is
// live it prints `KILL` (or `KILL token=<t>`: come back requiring that token); the test then
// kills the server with SIGKILL, starts it again on the same port and writes `up` to this
// script's stdin. The page must show that it lost the server,
// come back by itself, reload what changed meanwhile and take events and clicks again. The last
// line printed is a JSON summary of figures.
import { createInterface } from 'node:readline';
import { assert, launch, open, rest, step, waitLive } from './common.mjs';

const base = process.env.CB_URL;
if (!base) throw new Error('CB_URL is required');
const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const { browser, close } = await launch();
const summary = {};
const restarted = async () => {
  const answer = await stdin.next();
  assert(answer.value === 'up', `the test answered ${JSON.stringify(answer.value)}`);
};

try {
  step('the page is live and shows a task');
  const { page, problems } = await open(browser, base);
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await waitLive(page);
  const before = await rest(base, 'task.create', { text: 'from before the restart', priority: 60 });
  await page.locator(`.column[data-status="pending"] li[data-id="${before.id}"]`).waitFor({ timeout: 2000 });

  step('the server is killed: the page says so');
  console.log('KILL');
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.startsWith('disconnected'), null, { timeout: 5000 });
  await restarted();
  const up = Date.now();

  step('what changed while the page was away is on the board once it is back');
  // Made before the page reconnects (its first retry is at least 500 ms away), so only the
  // reload on reconnect can show it.
  const meanwhile = await rest(base, 'task.create', { text: 'made while the page was away', priority: 70 });
  await waitLive(page, 15000);
  summary.reconnectMs = Date.now() - up;
  const settled = problems.length;
  await page.locator(`li[data-id="${meanwhile.id}"]`).waitFor({ timeout: 2000 });

  step('events reach the page again, and the board acts again');
  const after = await rest(base, 'task.create', { text: 'after the restart', priority: 90 });
  const card = page.locator(`.column[data-status="pending"] li[data-id="${after.id}"]`);
  await card.waitFor({ timeout: 2000 });
  await card.getByRole('button', { name: 'Claim' }).click();
  await page.locator(`.column[data-status="in_progress"] li[data-id="${after.id}"]`).waitFor({ timeout: 3000 });
  const stored = await rest(base, 'task.get', { id: after.id });
  assert(stored.status === 'in_progress', `task.get says ${JSON.stringify(stored)}`);

  // While the server was down its socket and calls failed, which Chromium reports; nothing may
  // have thrown in the page, and nothing may fail once it is back.
  const thrown = problems.filter((p) => p.startsWith('page error'));
  assert(thrown.length === 0, `the page threw:\n${thrown.join('\n')}`);
  assert(problems.length === settled, `problems after reconnecting:\n${problems.slice(settled).join('\n')}`);
  summary.problemsWhileDown = settled;

  // The operator turns a token on, then rotates it: each time the page must ask, not retry a
  // refused socket forever. A page that never claimed (so no heartbeat of its own calls the API
  // and meets the 401 by chance): only its socket notices.
  await page.close();
  const watcher = await open(browser, base);
  await watcher.page.goto(`${base}/`, { waitUntil: 'load' });
  await waitLive(watcher.page);
  for (const [n, token] of ['first+token/==', 'second+token/=='].entries()) {
    step(`the server comes back requiring ${n ? 'a different' : 'a'} token: the page asks for it`);
    console.log(`KILL token=${token}`);
    await restarted();
    await watcher.page.locator('#token-dialog[open]').waitFor({ timeout: 15000 });
    await watcher.page.fill('#token-input', token);
    await watcher.page.press('#token-input', 'Enter');
    await waitLive(watcher.page, 15000);
    const guarded = await rest(base, 'task.create', { text: `behind token ${n + 1}` }, { Authorization: `Bearer ${token}` });
    await watcher.page.locator(`li[data-id="${guarded.id}"]`).waitFor({ timeout: 3000 });
  }
  const thrownLater = watcher.problems.filter((p) => p.startsWith('page error'));
  assert(thrownLater.length === 0, `the page threw:\n${thrownLater.join('\n')}`);
} finally {
  await close();
}
console.log(JSON.stringify(summary));
process.exit(0);
