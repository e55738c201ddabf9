// Drives Debian's headless Chromium through the dashboard and /docs of a running server.
// Run by tests/it/browser.rs: `node dashboard.mjs` with CB_URL (a server without a token),
// CB_TOKEN_URL and CB_TOKEN (one that requires a token), CB_SHOTS (where screenshots go) and
// CB_CHROMIUM. Each check throws on failure; the last line printed is a JSON summary of figures.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert, launch, open as openPage, rest, step, waitLive } from './common.mjs';

const base = process.env.CB_URL;
const tokenBase = process.env.CB_TOKEN_URL;
const token = process.env.CB_TOKEN;
const shots = process.env.CB_SHOTS;
if (!base || !tokenBase || !token || !shots) throw new Error('CB_URL, CB_TOKEN_URL, CB_TOKEN and CB_SHOTS are required');

const { browser, close } = await launch();
const open = (url) => openPage(browser, url);
const summary = {};

try {
  // An instance that takes a task and goes silent: the server (failure timeout 6 s, from
  // tests/it/browser.rs) declares it failed while the test runs and re-queues its task.
  const doomed = `doomed-${Date.now()}`;
  await rest(base, 'system.register', { id: doomed, roles: ['silent'] });
  const orphan = await rest(base, 'task.create', { text: 'held by an instance that dies', priority: 100 });
  const taken = await rest(base, 'task.claim', { workerId: doomed, maxTasks: 1 });
  assert(taken.tasks?.[0]?.id === orphan.id, `the doomed instance took ${JSON.stringify(taken)}`);

  // --- the dashboard loads clean, and what it weighs -------------------------------------------
  step('dashboard loads with no console errors and nothing from another host');
  const { context, page, problems, allowed } = await open(base);
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await waitLive(page);
  await page.waitForLoadState('networkidle');
  summary.pageWeightBytes = await page.evaluate(() => {
    const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
    return entries.reduce((sum, e) => sum + (e.transferSize || 0), 0);
  });
  summary.pageRequests = await page.evaluate(() => 1 + performance.getEntriesByType('resource').length);
  // The page itself (HTML, script, styles), without the API calls that fill it.
  summary.assetBytes = await page.evaluate(() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
    .filter((e) => e.entryType === 'navigation' || new URL(e.name).pathname.startsWith('/assets/'))
    .reduce((sum, e) => sum + (e.transferSize || 0), 0));

  // --- a task created over REST appears on the board within 2 s ---------------------------------
  step('a task created through the REST API appears on the board within 2 s');
  const created = await rest(base, 'task.create', { text: 'appears on the board', priority: 77 });
  await page.locator(`.column[data-status="pending"] li[data-id="${created.id}"]`).waitFor({ timeout: 2000 });

  // --- the time from an event to the page, over many events -------------------------------------
  step('event-to-page latency over 40 creates');
  await page.evaluate(() => {
    window.__seen = {};
    new MutationObserver(() => {
      for (const li of document.querySelectorAll('.column[data-status="pending"] li[data-id]')) {
        window.__seen[li.dataset.id] ??= Date.now();
      }
    }).observe(document.querySelector('.board'), { childList: true, subtree: true });
  });
  const latencies = [];
  for (let i = 0; i < 40; i++) {
    const sent = Date.now();
    const task = await rest(base, 'task.create', { text: `latency ${i}`, priority: 10 });
    const handle = await page.waitForFunction((id) => window.__seen[id], task.id, { timeout: 2000 });
    latencies.push((await handle.jsonValue()) - sent);
    await new Promise((r) => setTimeout(r, 50 + (i % 5) * 40));
  }
  latencies.sort((a, b) => a - b);
  summary.eventToPageMs = { median: latencies[20], p90: latencies[36], max: latencies[39], samples: latencies.length };

  // --- a redraw keeps keyboard focus where it was ------------------------------------------------
  step('a card keeps keyboard focus while the board redraws for other tasks');
  const claimButton = page.locator(`.column[data-status="pending"] li[data-id="${created.id}"] button`, { hasText: 'Claim' });
  await claimButton.focus();
  const meanwhile = await rest(base, 'task.create', { text: 'redraws the board', priority: 90 });
  await page.locator(`.column[data-status="pending"] li[data-id="${meanwhile.id}"]`).waitFor({ timeout: 2000 });
  const focusedOn = await page.evaluate(() => [document.activeElement?.closest('li[data-id]')?.dataset.id, document.activeElement?.textContent?.slice(0, 40)]);
  assert(focusedOn[0] === created.id && focusedOn[1] === 'Claim', `focus moved to ${JSON.stringify(focusedOn)}`);

  // --- a slow answer never paints over a newer one -----------------------------------------------
  step('a board read that answers late does not paint an older board over a newer one');
  let listReads = 0;
  await page.route('**/task/list', async (route) => {
    // The four reads of the next refresh are answered now but delivered 1 s late; every later
    // one at once.
    const response = await route.fetch();
    if (listReads++ < 4) await new Promise((r) => setTimeout(r, 1000));
    await route.fulfill({ response });
  });
  const early = await rest(base, 'task.create', { text: 'read slowly', priority: 5 });
  await new Promise((r) => setTimeout(r, 300));
  const late = await rest(base, 'task.create', { text: 'read quickly', priority: 5 });
  await page.locator(`li[data-id="${late.id}"]`).waitFor({ timeout: 2000 });
  await new Promise((r) => setTimeout(r, 1200));
  await page.unroute('**/task/list');
  const bothShown = await page.evaluate((ids) => ids.every((id) => document.querySelector(`li[data-id="${id}"]`)), [early.id, late.id]);
  assert(bothShown, 'the late answer (without the newer task) replaced the newer board');

  // --- claiming from the board moves the task ----------------------------------------------------
  step('claiming from the board moves the task to in progress, then completing it to completed');
  const card = page.locator(`.column[data-status="pending"] li[data-id="${created.id}"]`);
  await card.getByRole('button', { name: 'Claim' }).click();
  const claimed = page.locator(`.column[data-status="in_progress"] li[data-id="${created.id}"]`);
  await claimed.waitFor({ timeout: 2000 });
  const worker = await page.locator('#worker-id').textContent();
  assert((await claimed.textContent()).includes(worker), 'the claimed card names the page as its assignee');
  const stored = await rest(base, 'task.get', { id: created.id });
  assert(stored.status === 'in_progress' && stored.assignedTo === worker, `task.get says ${JSON.stringify(stored)}`);
  await claimed.getByRole('button', { name: 'Complete' }).click();
  await page.locator(`.column[data-status="completed"] li[data-id="${created.id}"]`).waitFor({ timeout: 2000 });
  await page.screenshot({ path: join(shots, 'tasks.png') });

  // --- keyboard: the views are reachable from the keyboard -------------------------------------
  step('keyboard navigation reaches every view');
  await page.locator('nav a[data-view="agents"]').focus();
  await page.keyboard.press('Enter');
  await page.locator('#view-agents').waitFor({ state: 'visible' });
  await page.locator(`#instances tbody code:text-is("${worker}")`).waitFor({ timeout: 3000 });

  step('the agents view shows the leader with its fencing term and a file lease as it is taken');
  const leader = await page.locator('#leader-line').textContent();
  assert(/fencing term \d+/.test(leader), `leader line: ${leader}`);

  step('a failed instance shows with the task re-queued from it, live and on a page opened later');
  const failure = (p) => p.locator(`#failures li[data-id="${doomed}"]`).filter({ hasText: orphan.id });
  await failure(page).waitFor({ timeout: 15000 });
  // Dozens of events came since: a page opened now learns of it from get_state's failures.
  const later = await open(base);
  await later.page.goto(`${base}/#agents`);
  await failure(later.page).waitFor({ timeout: 3000 });
  assert((await failure(later.page).textContent()).includes('1 task re-queued'), 'the count of re-queued tasks');
  assert(later.problems.length === 0, `the later page had problems:\n${later.problems.join('\n')}`);
  await later.context.close();

  const repo = mkdtempSync(join(tmpdir(), 'cb-repo-'));
  writeFileSync(join(repo, 'lib.rs'), 'fn main() {}\n');
  const session = '5e55a0b1-0000-4000-8000-00000000da5b';
  await rest(base, 'lease.acquire', { path: join(repo, 'lib.rs'), sessionId: session, cwd: repo });
  await page.locator('#leases tbody tr', { hasText: 'lib.rs' }).filter({ hasText: session.slice(0, 8) }).waitFor({ timeout: 2000 });
  await page.screenshot({ path: join(shots, 'agents.png') });

  step('a burst of failures shows the newest 20');
  // 25 instances that go silent at once, with ids as long as allowed (they must wrap on a
  // narrow window, below).
  const burst = Array.from({ length: 25 }, (_, i) => `burst-${i}-${Date.now()}-`.padEnd(128, 'x'));
  await Promise.all(burst.map((id) => rest(base, 'system.register', { id, roles: ['silent'] })));
  await page.waitForFunction((ids) => ids.filter((id) => document.querySelector(`#failures li[data-id="${id}"]`)).length >= 20,
    burst, { timeout: 15000 });
  const listed = await page.locator('#failures li').count();
  assert(listed === 20, `the failures list holds ${listed} entries`);

  step('a command the guard denies shows in the hooks view with its rule and reason');
  const hook = (input) => fetch(`${base}/hooks/claude-code`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ session_id: session, cwd: repo, transcript_path: '/dev/null', ...input }),
  }).then((r) => r.json());
  const denied = await hook({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'rm -rf / --no-preserve-root' } });
  assert(denied.hookSpecificOutput?.permissionDecision === 'deny', `the guard answered ${JSON.stringify(denied)}`);
  await hook({ hook_event_name: 'PostToolUse', tool_name: 'TodoWrite', tool_response: {},
    tool_input: { todos: [{ content: 'Shown per session', status: 'pending', activeForm: 'Showing' }] } });
  await page.goto(`${base}/#hooks`);
  const row = page.locator('#decisions tbody tr[data-decision="deny"]').filter({ hasText: 'Bash' });
  await row.first().waitFor({ timeout: 2000 });
  const cells = await row.first().locator('td').allTextContents();
  assert(cells[1] === session.slice(0, 8) && cells[4].length > 0 && cells[5].length > 0, `the row names session, rule and reason: ${cells}`);
  await page.locator('#todos .todo-group', { hasText: session.slice(0, 8) }).filter({ hasText: 'Shown per session' }).waitFor({ timeout: 2000 });
  await page.screenshot({ path: join(shots, 'hooks.png') });
  rmSync(repo, { recursive: true, force: true });

  step('the events view shows the live stream, filters and pauses');
  await page.goto(`${base}/#events`);
  await waitLive(page);
  await page.waitForLoadState('networkidle');
  await page.fill('#events-filter', 'task.created');
  // The board is not on screen: its tasks are not re-read for every task event.
  let boardReads = 0;
  const countBoardReads = (r) => { if (new URL(r.url()).pathname === '/task/list') boardReads++; };
  page.on('request', countBoardReads);
  const streamed = await rest(base, 'task.create', { text: 'seen in the stream' });
  await page.locator('#event-log li', { hasText: 'seen in the stream' }).waitFor({ timeout: 2000 });
  await new Promise((r) => setTimeout(r, 400));
  page.off('request', countBoardReads);
  assert(boardReads === 0, `the hidden board was read ${boardReads} times for one task event`);
  await page.click('#events-pause');
  await rest(base, 'task.create', { text: 'not while paused' });
  await new Promise((r) => setTimeout(r, 700));
  assert(await page.locator('#event-log li', { hasText: 'not while paused' }).count() === 0, 'a paused stream shows nothing new');
  await page.click('#events-pause');
  await page.locator('#rates .rate code', { hasText: 'task.created' }).waitFor({ timeout: 3000 });
  // The server's own metrics, sampled every 2 s: rate and latency of the events it served.
  await page.locator('#served .rate code', { hasText: 'task.create' }).waitFor({ timeout: 6000 });
  await page.screenshot({ path: join(shots, 'events.png') });
  // ... and once the board is shown again, it has what changed meanwhile.
  await page.click('nav a[data-view="tasks"]');
  await page.locator(`.column[data-status="pending"] li[data-id="${streamed.id}"]`).waitFor({ timeout: 2000 });

  // --- the console: a form from the schema, issues at their fields ------------------------------
  step('the console sends an invalid input and pins each issue to its field');
  await page.goto(`${base}/#console`);
  await page.selectOption('#console-event', 'task.create');
  await page.locator('.field[data-field="priority"] input').waitFor();
  assert(await page.locator('.field[data-field="priority"] input').getAttribute('max') === '100', 'bounds come from the schema');
  allowed.add('400 /task/create');
  await page.fill('.field[data-field="text"] input', '');
  await page.fill('.field[data-field="priority"] input', '500');
  await page.fill('.field[data-field="metadata"] textarea', '[1, 2]');
  await page.click('#console-form button[type="submit"]');
  for (const field of ['text', 'priority', 'metadata']) {
    const issues = page.locator(`.field[data-field="${field}"] .issues`);
    await issues.waitFor({ state: 'visible', timeout: 2000 });
    assert((await issues.textContent()).startsWith(field), `the issue of ${field} is pinned to it`);
  }
  await page.screenshot({ path: join(shots, 'console.png') });
  await page.fill('.field[data-field="text"] input', 'from the console');
  await page.fill('.field[data-field="priority"] input', '');
  await page.fill('.field[data-field="metadata"] textarea', '');
  await page.click('#console-form button[type="submit"]');
  await page.locator('#console-result pre', { hasText: 'from the console' }).waitFor({ timeout: 2000 });

  step('text meets WCAG AA contrast (4.5:1) in every view');
  for (const view of ['tasks', 'agents', 'hooks', 'events', 'console']) {
    await page.goto(`${base}/#${view}`);
    await waitLive(page);
    const poor = await page.evaluate(() => {
      const rgb = (c) => (c.match(/[\d.]+/g) ?? []).map(Number);
      const lum = ([r, g, b]) => [r, g, b].map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
      const background = (node) => {
        for (let n = node; n; n = n.parentElement) {
          const c = rgb(getComputedStyle(n).backgroundColor);
          if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
        }
        return [255, 255, 255];
      };
      const bad = [];
      for (const node of document.querySelectorAll('body *')) {
        if (!node.offsetParent && node.tagName !== 'BODY') continue;
        const own = [...node.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (!own) continue;
        const [a, b] = [lum(rgb(getComputedStyle(node).color).slice(0, 3)), lum(background(node))];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) bad.push(`${node.tagName}.${node.className}: ${ratio.toFixed(2)} "${node.textContent.trim().slice(0, 30)}"`);
      }
      return bad;
    });
    assert(poor.length === 0, `low contrast in ${view}:\n${poor.join('\n')}`);
  }

  step('a narrow window folds the board into one column, and no view scrolls sideways');
  await page.setViewportSize({ width: 390, height: 800 });
  for (const view of ['agents', 'hooks', 'events', 'console', 'tasks']) {
    await page.goto(`${base}/#${view}`);
    await waitLive(page);
    if (view === 'console') await page.locator('#console-event option').first().waitFor({ state: 'attached' });
    await page.waitForLoadState('networkidle');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 0, `the narrow ${view} view scrolls sideways by ${overflow}px`);
  }
  const columns = await page.evaluate(() => getComputedStyle(document.querySelector('.board')).gridTemplateColumns.split(' ').length);
  assert(columns === 1, `a narrow board has ${columns} columns`);
  await page.screenshot({ path: join(shots, 'narrow.png') });
  assert(problems.length === 0, `the dashboard had problems:\n${problems.join('\n')}`);
  await context.close();

  // --- /docs renders the operations from /openapi.json ------------------------------------------
  step('/docs renders the operations with the vendored Redoc');
  const docs = await open(base);
  await docs.page.goto(`${base}/docs`, { waitUntil: 'load' });
  await docs.page.getByRole('heading', { name: 'Create a task' }).first().waitFor({ timeout: 15000 });
  const operations = await docs.page.locator('[data-section-id^="operation/"]').count();
  summary.docsOperations = operations;
  assert(operations >= 30, `/docs shows ${operations} operations`);
  await docs.page.screenshot({ path: join(shots, 'docs.png') });
  // Redoc's sidebar footer always tries its logo from its CDN; the page's Content-Security-Policy
  // blocks it before it leaves the browser (Redoc then hides the image). Nothing else may.
  const logo = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
  const docsProblems = docs.problems.filter((p) => !(p.includes(logo) && /Content Security Policy|request to another host|csp$/.test(p)));
  assert(docs.problems.every((p) => !p.includes(logo) || !p.startsWith('answer')), 'the logo was never fetched');
  assert(docsProblems.length === 0, `/docs had problems:\n${docsProblems.join('\n')}`);
  await docs.context.close();

  // --- with a token: the page asks once and keeps it for the session ----------------------------
  step('with CLAUDEBENCH_TOKEN set the page asks for the token and then works');
  const secured = await open(tokenBase);
  await secured.page.goto(`${tokenBase}/`);
  await secured.page.locator('#token-dialog[open]').waitFor({ timeout: 5000 });
  await secured.page.fill('#token-input', token);
  await secured.page.press('#token-input', 'Enter');
  await waitLive(secured.page);
  const auth = { Authorization: `Bearer ${token}` };
  const guarded = await rest(tokenBase, 'task.create', { text: 'behind a token' }, auth);
  await secured.page.locator(`li[data-id="${guarded.id}"]`).waitFor({ timeout: 2000 });
  await secured.settled();
  await secured.page.reload();
  await waitLive(secured.page);
  assert(!(await secured.page.locator('#token-dialog[open]').count()), 'the token is kept for the session');

  // (On this server: its board is otherwise empty.)
  step('past 200 pending tasks the column shows the next 200 to be claimed, an urgent one first');
  for (let i = 0; i < 210; i += 30) {
    await Promise.all(Array.from({ length: 30 }, (_, j) => rest(tokenBase, 'task.create', { text: `backlog ${i + j}`, priority: 1 }, auth)));
  }
  const urgent = await rest(tokenBase, 'task.create', { text: 'urgent, behind a backlog', priority: 100 }, auth);
  const pendingColumn = secured.page.locator('.column[data-status="pending"]');
  await pendingColumn.locator(`li[data-id="${urgent.id}"]`).waitFor({ timeout: 3000 });
  const firstCard = await pendingColumn.locator('li[data-id]').first().getAttribute('data-id');
  assert(firstCard === urgent.id, `the first pending card is ${firstCard}`);
  const pendingCount = await pendingColumn.locator('.count').textContent();
  assert(pendingCount === 'next 200 of 212', `the pending count reads ${pendingCount}`);
  step('a token that stops working brings the prompt back');
  // Settled first: a reload aborts the board's reads still in flight, which Chromium reports.
  await secured.settled();
  await secured.page.evaluate(() => sessionStorage.setItem('claudebench-token', 'not-the-token'));
  await secured.page.reload();
  await secured.page.locator('#token-dialog[open]').waitFor({ timeout: 5000 });
  await secured.page.fill('#token-input', token);
  await secured.page.press('#token-input', 'Enter');
  await waitLive(secured.page);
  // Before the token is given, the page's first calls are refused: that is how it knows to ask.
  const unexpected = secured.problems.filter((p) => !p.startsWith('answer 401 '));
  assert(unexpected.length === 0, `the token page had problems:\n${unexpected.join('\n')}`);
  await secured.context.close();
} finally {
  await close();
}
console.log(JSON.stringify(summary));
