// The ClaudeBench dashboard: plain script, no framework, no build. It is a client like any other:
// every read and action is an event over REST (`POST /<domain>/<action>`), and live updates
// come from the bus over `/ws` (`{"type":"subscribe","events":["*"]}`).
'use strict';

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** Element builder: el('li', {class: 'x', text: 'y'}, child, …). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function setStatus(text, bad = false) {
  const status = $('#status');
  status.textContent = text;
  status.classList.toggle('bad', bad);
}

function age(iso) {
  const ms = Date.now() - Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** How long until `iso`, like `age`. */
function until(iso) {
  const s = Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
  return Number.isFinite(s) ? (s < 60 ? `${s} s` : `${Math.round(s / 60)} min`) : '';
}

// ---- API -----------------------------------------------------------------------------------

const TOKEN_KEY = 'claudebench-token';
let askingToken = null;

/** Shows the token prompt once, however many calls are waiting for it. */
function askToken() {
  if (!askingToken) {
    askingToken = new Promise((resolve) => {
      const dialog = $('#token-dialog');
      const input = $('#token-input');
      input.value = '';
      dialog.addEventListener('close', () => {
        const token = input.value.trim();
        if (token) sessionStorage.setItem(TOKEN_KEY, token);
        askingToken = null;
        resolve(token);
      }, { once: true });
      dialog.showModal();
      input.focus();
    });
  }
  return askingToken;
}

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Calls an event by its REST path; resolves to {ok, status, body} and never throws on HTTP errors. */
async function callPath(path, input) {
  for (let attempt = 0; attempt < 3; attempt++) {
    let response;
    try {
      response = await fetch(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...authHeaders() },
        body: JSON.stringify(input ?? {}),
      });
    } catch (error) {
      return { ok: false, status: 0, body: { error: { code: 'unavailable', message: String(error) } } };
    }
    if (response.status === 401 && attempt < 2) {
      sessionStorage.removeItem(TOKEN_KEY);
      if (!(await askToken())) return { ok: false, status: 401, body: await response.json().catch(() => ({})) };
      continue;
    }
    const body = await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, body };
  }
  return { ok: false, status: 401, body: null };
}

const pathOf = (event) => '/' + event.replace('.', '/');
const call = (event, input) => callPath(pathOf(event), input);

/** The output of an event, or throws with the server's message. */
async function must(event, input) {
  const answer = await call(event, input);
  if (!answer.ok) {
    const message = answer.body?.error?.message ?? `HTTP ${answer.status}`;
    throw new Error(`${event}: ${message}`);
  }
  return answer.body;
}

// ---- live events ---------------------------------------------------------------------------

const listeners = [];
const onEvent = (fn) => listeners.push(fn);
let socket = null;
let retryMs = 500;

function connect() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  socket = new WebSocket(`${scheme}://${location.host}/ws${query}`);
  socket.addEventListener('open', () => {
    retryMs = 500;
    socket.send(JSON.stringify({ type: 'subscribe', events: ['*'] }));
    setStatus('live');
    refreshAll();
  });
  socket.addEventListener('message', (message) => {
    let data;
    try { data = JSON.parse(message.data); } catch { return; }
    if (data.type === 'event') for (const fn of listeners) fn(data);
  });
  socket.addEventListener('close', async (closed) => {
    setStatus('disconnected: reconnecting…', true);
    // An upgrade refused for the token (none yet, a wrong one, or the server's changed) closes
    // before opening: a plain call answers 401 and asks for it (callPath), then the socket retries.
    if (closed.code === 1006) await call('system.health', {});
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  });
}

/** A loader whose answers are drawn in the order their requests started: loads overlap (a burst
 * of events, a slow server), and an older answer arriving last must not paint over a newer one. */
function ordered(fetch, draw) {
  let started = 0;
  let drawn = 0;
  return async () => {
    const n = ++started;
    const data = await fetch();
    if (n < drawn) return;
    drawn = n;
    draw(data);
  };
}

/** Runs `fn` at most once per `ms`, trailing: bursts of events cost one refresh. */
function throttle(fn, ms) {
  let timer = null;
  let again = false;
  return () => {
    if (timer) { again = true; return; }
    fn();
    timer = setTimeout(() => {
      timer = null;
      if (again) { again = false; fn(); }
    }, ms);
  };
}

// ---- tasks board ---------------------------------------------------------------------------

const STATUSES = ['pending', 'in_progress', 'completed', 'failed'];
const WORKER_KEY = 'claudebench-dashboard-worker';
const worker = sessionStorage.getItem(WORKER_KEY)
  ?? `dashboard-${Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
sessionStorage.setItem(WORKER_KEY, worker);
let registered = false;
let heartbeat = null;

/** The page's own instance, registered when it first claims (role `dashboard`, so the server
 * never hands it work by itself) and kept alive at the interval the server asks for while the
 * page is open; told it is not alive (declared failed meanwhile), it registers again on its
 * next claim. */
async function ensureRegistered() {
  if (registered) return;
  const answer = await must('system.register', { id: worker, roles: ['dashboard'] });
  registered = true;
  clearInterval(heartbeat);
  heartbeat = setInterval(async () => {
    const beat = await call('system.heartbeat', { instanceId: worker });
    if (beat.ok && beat.body?.alive === false) {
      registered = false;
      clearInterval(heartbeat);
    }
  }, answer.heartbeatIntervalMs ?? 5000);
}

let taskCache = [];
const BOARD_LIMIT = 200;
/** Each column's order (and, past BOARD_LIMIT, which tasks it shows): pending as workers will
 * claim them, in progress longest-running first, finished ones latest first. */
const COLUMN_ORDER = { pending: 'claim', in_progress: 'oldest', completed: 'newest', failed: 'newest' };
const SHOWN = { claim: 'next', oldest: 'oldest', newest: 'newest' };
/** The views drawn from the board's tasks (the board, each instance's load, sessions' todos). */
const TASK_VIEWS = new Set(['tasks', 'agents', 'hooks']);
const tasksOnScreen = () => TASK_VIEWS.has(currentView()) && !document.hidden;
let tasksStale = false;

const loadTasks = ordered(() => {
  tasksStale = false;
  return Promise.all(STATUSES.map((status) => must('task.list', { status, limit: BOARD_LIMIT, order: COLUMN_ORDER[status] })));
}, (lists) => {
  keepingFocus('.board', () => STATUSES.forEach((status, i) => renderColumn(status, lists[i])));
  taskCache = lists.flatMap((page) => page.tasks);
  renderTodos();
  for (const cell of $$('#instances tbody td.load')) cell.textContent = load(cell.closest('tr').dataset.id);
});

function renderColumn(status, page) {
  const column = $(`.column[data-status="${status}"]`);
  const tasks = page.tasks;
  const shown = SHOWN[COLUMN_ORDER[status]];
  $('.count', column).textContent = page.total > tasks.length ? `${shown} ${tasks.length} of ${page.total}` : String(page.total);
  $('ol', column).replaceChildren(...tasks.map(taskCard));
}

/** Redraws inside `scope` without losing keyboard focus: the focused button of a card comes back
 * on the same card's button with the same label, if it is still there. */
function keepingFocus(scope, draw) {
  const focused = document.activeElement;
  const card = focused?.closest?.(`${scope} [data-id]`);
  draw();
  if (!card) return;
  const again = [...$$(`${scope} [data-id]`)].find((li) => li.dataset.id === card.dataset.id);
  const target = again && [...again.querySelectorAll('button')].find((b) => b.textContent === focused.textContent);
  target?.focus();
}

function taskCard(task) {
  const actions = [];
  const act = (label, fn) => actions.push(el('button', { type: 'button', text: label, onclick: () => run(fn) }));
  if (task.status === 'pending') act('Claim', () => claim(task.id));
  if (task.status === 'in_progress' && task.assignedTo === worker) {
    act('Complete', () => must('task.complete', { id: task.id, workerId: worker, result: 'done from the dashboard' }));
    act('Fail', () => must('task.complete', { id: task.id, workerId: worker, error: 'failed from the dashboard' }));
  }
  act('Delete', () => must('task.delete', { id: task.id }));
  const details = [el('span', { class: 'priority', text: `P${task.priority}` })];
  if (task.assignedTo) details.push(el('span', { class: 'assignee', text: task.assignedTo }));
  if (task.status === 'in_progress') details.push(el('span', { class: 'age', text: age(task.updatedAt) }));
  return el('li', { class: 'task', 'data-id': task.id },
    el('p', { class: 'text', text: task.text }),
    el('p', { class: 'meta' }, el('code', { text: task.id }), ...details),
    task.error ? el('p', { class: 'error', text: task.error }) : null,
    el('div', { class: 'actions' }, actions));
}

/** Claims this one task: assigned to the page's instance, then claimed (reserved tasks go first). */
async function claim(id) {
  await ensureRegistered();
  await must('task.assign', { taskId: id, instanceId: worker });
  const out = await must('task.claim', { workerId: worker, maxTasks: 1 });
  if (!out.claimed) throw new Error(`task.claim: ${id} was taken by someone else`);
}

async function run(fn) {
  try {
    await fn();
  } catch (error) {
    setStatus(error.message, true);
  }
}

function setupTasks() {
  $('#worker-id').textContent = worker;
  $('#create-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('#create-text').value.trim();
    const priority = Number($('#create-priority').value || 50);
    run(async () => {
      await must('task.create', { text, priority });
      $('#create-text').value = '';
    });
  });
  // Every task event re-reads the board (up to 4 × 200 tasks with their metadata): only while a
  // view that shows them is on screen; otherwise once, when one is shown again.
  const refresh = throttle(() => run(loadTasks), 150);
  onEvent((e) => {
    if (!e.event.startsWith('task.')) return;
    if (tasksOnScreen()) refresh();
    else tasksStale = true;
  });
  document.addEventListener('visibilitychange', () => { if (tasksStale && tasksOnScreen()) refresh(); });
}

// ---- agents --------------------------------------------------------------------------------

/** system.get_state lists at most this many instances. */
const MAX_INSTANCES = 100;

const loadAgents = ordered(() => Promise.all([must('system.get_state', {}), must('system.health', {})]), ([state, health]) => {
  $('#health-line').textContent = `Health: ${health.status}`;
  const leader = state.leader;
  $('#leader-line').textContent = leader
    ? `Leader: ${leader.id}, fencing term ${leader.term}, lease until ${new Date(leader.expiresAt).toLocaleTimeString()}`
    : 'Leader: none';
  for (const record of state.failures ?? []) noteFailure(record.payload, record.timestamp);
  const rows = state.instances.map((i) => el('tr', { 'data-id': i.id },
    el('th', { scope: 'row' }, el('code', { text: i.id }), i.isLeader ? el('span', { class: 'badge', text: 'leader' }) : null),
    el('td', { text: (i.roles ?? []).join(', ') }),
    el('td', { class: `health ${i.health}`, text: i.health }),
    el('td', { text: i.lastSeen ? `${age(i.lastSeen)} ago` : '' }),
    el('td', { class: 'load', text: load(i.id) }),
    el('td', { text: (i.subagents ?? []).map((s) => `${s.agentType ?? 'subagent'} ${s.agentId} (${age(s.startedAt)})`).join(', ') }),
    el('td', { text: (i.teammates ?? []).map((t) => `${t.name} (idle ${age(t.idleSince)})`).join(', ') })));
  if (rows.length >= MAX_INSTANCES) {
    rows.push(el('tr', {}, el('td', { colspan: 7, class: 'hint', text: `Only the ${MAX_INSTANCES} most recently seen instances are listed.` })));
  }
  $('#instances tbody').replaceChildren(...rows);
});

/** An instance's load, from the board's tasks: in progress, and reserved for it but not claimed. */
function load(id) {
  const mine = taskCache.filter((t) => t.assignedTo === id);
  const running = mine.filter((t) => t.status === 'in_progress').length;
  const queued = mine.filter((t) => t.status === 'pending').length;
  return running || queued ? `${running} running, ${queued} queued` : 'idle';
}

/** Each failed instance's latest failure and the tasks re-queued from it (`instance.failed`,
 * from get_state's `failures` and live). */
const failures = new Map();
const SHOWN_REQUEUED = 5;
/** As many as system.get_state returns: a burst of failures keeps the newest. */
const SHOWN_FAILURES = 20;

function noteFailure(payload, at) {
  const when = new Date(at).getTime() || Date.now();
  if (typeof payload?.id !== 'string' || (failures.get(payload.id)?.at ?? -1) >= when) return;
  const requeued = Array.isArray(payload.requeued) ? payload.requeued.map(String) : [];
  failures.set(payload.id, { at: when, count: Number(payload.tasksReassigned ?? requeued.length) || 0, requeued });
  if (failures.size > SHOWN_FAILURES) {
    const oldest = [...failures].reduce((a, b) => (b[1].at < a[1].at ? b : a));
    failures.delete(oldest[0]);
  }
  drawFailures();
}

const drawFailures = throttle(() => {
  const newest = [...failures].sort(([, a], [, b]) => b.at - a.at);
  $('#failures').replaceChildren(...newest.map(([id, f]) => el('li', { 'data-id': id },
    el('code', { text: id }), ` failed ${new Date(f.at).toLocaleTimeString()}: `,
    `${f.count} task${f.count === 1 ? '' : 's'} re-queued`,
    ...f.requeued.slice(0, SHOWN_REQUEUED).flatMap((t, i) => [i ? ', ' : ' (', el('code', { text: t })]),
    f.requeued.length > SHOWN_REQUEUED ? ', …)' : f.requeued.length ? ')' : '')));
}, 500);

const loadLeases = ordered(() => must('lease.list', {}), ({ leases, truncated }) => {
  const rows = leases.map((l) => el('tr', {},
    el('th', { scope: 'row' }, el('code', { text: l.path.startsWith(l.root) ? l.path.slice(l.root.length + 1) || l.path : l.path })),
    el('td', { text: l.root }),
    el('td', {}, el('code', { text: l.holder.slice(0, 8) })),
    el('td', { text: String(l.token) }),
    el('td', { text: `${age(l.since)} ago` }),
    el('td', { text: until(l.expiresAt) })));
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'hint', text: 'No file is leased.' })));
  if (truncated) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'hint', text: 'More leases exist than are listed.' })));
  $('#leases tbody').replaceChildren(...rows);
});

function setupAgents() {
  const refresh = throttle(() => run(loadAgents), 500);
  const leases = throttle(() => run(loadLeases), 500);
  onEvent((e) => {
    if (/^(instance|leader|hook\.subagent|hook\.teammate)\./.test(e.event)) refresh();
    if (e.event.startsWith('lease.')) leases();
    if (e.event === 'instance.failed') noteFailure(e.payload, Number(e.ts) || Date.now());
  });
  every(5000, 'agents', () => run(loadLeases));
}

// ---- hooks ---------------------------------------------------------------------------------

const loadDecisions = ordered(() => {
  const decision = $('#decisions-filter').value;
  return must('hook.decisions', decision ? { decision, limit: 50 } : { limit: 50 });
}, ({ decisions }) => {
  const rows = decisions.map((d) => el('tr', { 'data-decision': d.decision },
    el('td', { text: new Date(d.at).toLocaleTimeString() }),
    el('td', {}, el('code', { text: (d.sessionId ?? '').slice(0, 8) })),
    el('td', { text: d.tool }),
    el('td', {}, el('span', { class: `decision ${d.decision}`, text: d.decision })),
    el('td', {}, d.rule ? el('code', { text: d.rule }) : ''),
    el('td', { class: 'reason', text: [d.reason, ...(d.warnings ?? [])].filter(Boolean).join(' · ') })));
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'hint', text: 'No decision yet.' })));
  $('#decisions tbody').replaceChildren(...rows);
});

/** Claude Code's todos and tasks, mirrored into tasks per session (metadata.source). */
function renderTodos() {
  const bySession = new Map();
  for (const task of taskCache) {
    const meta = task.metadata ?? {};
    if (!['todo_write', 'claude_code_task'].includes(meta.source) || !meta.sessionId) continue;
    if (!bySession.has(meta.sessionId)) bySession.set(meta.sessionId, []);
    bySession.get(meta.sessionId).push(task);
  }
  const groups = [...bySession].map(([session, tasks]) => el('div', { class: 'todo-group' },
    el('h4', {}, 'Session ', el('code', { text: session.slice(0, 8) })),
    el('ul', { class: 'plain' }, tasks.map((t) => el('li', { class: `todo ${t.status}` },
      el('span', { class: 'state', text: t.status === 'completed' ? '☑' : '☐' }), ' ', t.text,
      el('span', { class: 'hint', text: ` (${t.status.replace('_', ' ')}${t.assignedTo ? `, ${t.assignedTo}` : ''})` }))))));
  $('#todos').replaceChildren(...(groups.length ? groups : [el('p', { class: 'hint', text: 'No session has mirrored todos or tasks.' })]));
}

function setupHooks() {
  $('#decisions-filter').addEventListener('change', () => run(loadDecisions));
  const refresh = throttle(() => run(loadDecisions), 500);
  onEvent((e) => { if (e.event.startsWith('hook.') || e.event.startsWith('lease.')) refresh(); });
  // A decision is audited, not published: while the view is open it is read every second.
  every(1000, 'hooks', () => run(loadDecisions));
}

/** Runs `fn` every `ms` while `view` is shown (and once when it is shown). */
const viewTimers = [];
function every(ms, view, fn) {
  viewTimers.push({ view, fn });
  setInterval(() => { if (currentView() === view && !document.hidden) fn(); }, ms);
}

// ---- events --------------------------------------------------------------------------------

const LOG_LIMIT = 200;
const events = { paused: false, filter: /^.*$/, perSecond: new Map() };

function globToRegExp(glob) {
  const escaped = glob.trim().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped || '.*'}$`);
}

function setupEvents() {
  const log = $('#event-log');
  // The filter applies as it is typed; Enter has nothing to submit.
  $('#events-form').addEventListener('submit', (e) => e.preventDefault());
  $('#events-filter').addEventListener('input', (e) => {
    events.filter = globToRegExp(e.target.value);
    for (const li of log.children) li.hidden = !events.filter.test(li.dataset.event);
  });
  $('#events-pause').addEventListener('click', (e) => {
    events.paused = !events.paused;
    e.target.setAttribute('aria-pressed', String(events.paused));
    e.target.textContent = events.paused ? 'Resume' : 'Pause';
  });
  $('#events-clear').addEventListener('click', () => log.replaceChildren());
  onEvent((e) => {
    const second = Math.floor(Date.now() / 1000);
    const counts = events.perSecond.get(e.event) ?? new Map();
    counts.set(second, (counts.get(second) ?? 0) + 1);
    events.perSecond.set(e.event, counts);
    if (events.paused || !events.filter.test(e.event)) return;
    log.prepend(el('li', { 'data-event': e.event },
      el('time', { text: new Date(Number(e.ts) || Date.now()).toLocaleTimeString() }), ' ',
      el('code', { class: 'name', text: e.event }), ' ',
      el('span', { class: 'payload', text: JSON.stringify(e.payload) })));
    while (log.children.length > LOG_LIMIT) log.lastChild.remove();
  });
  setInterval(drawRates, 1000);
}

/** This server's own request metrics (`GET /metrics`), sampled every 2 s: per event, requests
 * per second and mean latency over each interval, for the last two minutes. */
const served = { last: null, series: new Map() };

function parseMetrics(text) {
  const out = new Map();
  const line = /^claudebench_(requests_total|request_duration_seconds_sum)\{([^}]*)\} (\S+)$/;
  for (const row of text.split('\n')) {
    const m = line.exec(row);
    if (!m) continue;
    const event = /event="([^"]*)"/.exec(m[2])?.[1];
    if (!event) continue;
    const entry = out.get(event) ?? { count: 0, seconds: 0 };
    if (m[1] === 'requests_total') entry.count += Number(m[3]);
    else entry.seconds += Number(m[3]);
    out.set(event, entry);
  }
  return out;
}

async function sampleMetrics() {
  const response = await fetch('/metrics', { headers: authHeaders() }).catch(() => null);
  if (!response?.ok) return;
  const now = parseMetrics(await response.text());
  const previous = served.last;
  served.last = now;
  if (!previous) return;
  for (const [event, { count, seconds }] of now) {
    const before = previous.get(event) ?? { count: 0, seconds: 0 };
    const calls = count - before.count;
    const series = served.series.get(event) ?? [];
    series.push({ rate: calls / 2, latencyMs: calls > 0 ? ((seconds - before.seconds) / calls) * 1000 : null });
    if (series.length > 60) series.shift();
    served.series.set(event, series);
  }
  if (currentView() === 'events') drawServed();
}

function drawServed() {
  const rows = [];
  for (const [event, series] of [...served.series].sort(([a], [b]) => a.localeCompare(b))) {
    if (series.every((p) => p.rate === 0)) continue;
    // Padded to the full two minutes, so every chart shares one time axis.
    const pad = Array(60 - series.length).fill(0);
    const latencies = pad.concat(series.map((p) => p.latencyMs ?? 0));
    const last = [...series].reverse().find((p) => p.latencyMs !== null);
    const rate = series.slice(-5).reduce((a, p) => a + p.rate, 0) / Math.min(5, series.length);
    rows.push(el('div', { class: 'rate' }, el('code', { text: event }),
      sparkline(pad.concat(series.map((p) => p.rate))), el('span', { text: `${rate.toFixed(1)}/s` }),
      sparkline(latencies, 'latency'), el('span', { text: last ? `${last.latencyMs.toFixed(1)} ms` : '' })));
  }
  $('#served').replaceChildren(...(rows.length ? rows : [el('p', { class: 'hint', text: 'No request served in the last two minutes.' })]));
}

/** One sparkline per event name: events per second over the last minute. */
function drawRates() {
  const now = Math.floor(Date.now() / 1000);
  const rows = [];
  for (const [name, counts] of [...events.perSecond].sort(([a], [b]) => a.localeCompare(b))) {
    for (const second of counts.keys()) if (second < now - 60) counts.delete(second);
    const series = Array.from({ length: 60 }, (_, i) => counts.get(now - 59 + i) ?? 0);
    const total = series.reduce((a, b) => a + b, 0);
    if (total === 0) continue;
    rows.push(el('div', { class: 'rate' }, el('code', { text: name }), sparkline(series),
      el('span', { text: `${(total / 60).toFixed(2)}/s` })));
  }
  $('#rates').replaceChildren(...rows);
}

function sparkline(series, kind = 'rate') {
  const max = Math.max(kind === 'rate' ? 1 : 0.001, ...series);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${Math.max(1, series.length - 1)} 16`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', `spark ${kind}`);
  svg.setAttribute('aria-hidden', 'true');
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', series.map((v, i) => `${i},${16 - (v / max) * 15}`).join(' '));
  svg.append(line);
  return svg;
}

// ---- event console -------------------------------------------------------------------------

let catalog = [];

async function loadCatalog() {
  catalog = (await must('system.discover', {})).events;
  const select = $('#console-event');
  const chosen = select.value || location.hash.split('/')[1];
  select.replaceChildren(...catalog.map((e) => el('option', { value: e.name, text: `${e.name} — ${e.title}` })));
  if (chosen && catalog.some((e) => e.name === chosen)) select.value = chosen;
  buildForm();
}

/** Resolves `$ref`s against the schema's own `$defs`. */
function resolve(schema, root) {
  let s = schema;
  for (let i = 0; s && s.$ref && i < 32; i++) {
    const name = s.$ref.replace(/^#\/(\$defs|definitions)\//, '');
    s = { ...(root.$defs ?? root.definitions ?? {})[name], ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$ref')) };
  }
  return s ?? {};
}

/** The JSON type a schema takes ignoring `null`, and whether `null` is allowed. */
function kind(schema) {
  const types = [].concat(schema.type ?? []);
  const nullable = types.includes('null') || (schema.anyOf ?? schema.oneOf ?? []).some((s) => s.type === 'null');
  const type = types.find((t) => t !== 'null') ?? (schema.enum ? 'enum' : schema.const !== undefined ? 'const' : 'json');
  return { type: schema.enum ? 'enum' : type, nullable };
}

function buildForm() {
  const event = catalog.find((e) => e.name === $('#console-event').value);
  const fields = $('#console-fields');
  $('#console-result').replaceChildren();
  if (!event) { fields.replaceChildren(); return; }
  $('#console-description').textContent = event.description;
  const root = event.inputSchema ?? {};
  const schema = resolve(root, root);
  const required = new Set(schema.required ?? []);
  const props = Object.entries(schema.properties ?? {});
  fields.replaceChildren(...props.map(([name, prop]) => field(name, resolve(prop, root), required.has(name))));
  if (props.length === 0) fields.append(el('p', { class: 'hint', text: 'This event takes no input.' }));
}

function field(name, schema, required) {
  const id = `field-${name}`;
  const { type, nullable } = kind(schema);
  const bounds = [];
  if (schema.minimum !== undefined) bounds.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) bounds.push(`≤ ${schema.maximum}`);
  if (schema.minLength !== undefined) bounds.push(`length ≥ ${schema.minLength}`);
  if (schema.maxLength !== undefined) bounds.push(`length ≤ ${schema.maxLength}`);
  if (schema.default !== undefined) bounds.push(`default ${JSON.stringify(schema.default)}`);
  const notes = [type, required ? 'required' : 'optional', nullable ? 'nullable' : null, ...bounds].filter(Boolean).join(', ');
  let input;
  if (type === 'enum' || type === 'boolean') {
    const values = type === 'boolean' ? [true, false] : schema.enum;
    input = el('select', { id, name },
      el('option', { value: '', text: required ? '— choose —' : '— leave out —' }),
      nullable ? el('option', { value: 'null', text: 'null' }) : null,
      values.map((v) => el('option', { value: JSON.stringify(v), text: String(v) })));
  } else if (type === 'integer' || type === 'number') {
    input = el('input', { id, name, type: 'number', step: type === 'integer' ? '1' : 'any', min: schema.minimum, max: schema.maximum, placeholder: schema.default });
  } else if (type === 'string') {
    input = el('input', { id, name, type: 'text', maxlength: schema.maxLength, placeholder: schema.default ?? schema.examples?.[0] });
  } else {
    input = el('textarea', { id, name, rows: 3, spellcheck: 'false', placeholder: 'JSON' });
  }
  input.dataset.kind = type;
  return el('div', { class: 'field', 'data-field': name },
    el('label', { for: id }, el('code', { text: name }), ' ', el('span', { class: 'notes', text: notes })),
    schema.description ? el('p', { class: 'hint', text: schema.description }) : null,
    input,
    el('p', { class: 'issues', 'aria-live': 'polite' }));
}

/** The form's values as the event's input; a value that cannot be read is sent as typed, so the
 * server, not the page, says what is wrong with it. */
function formInput() {
  const input = {};
  for (const node of $$('#console-fields [name]')) {
    const raw = node.value;
    if (raw === '') continue;
    const kind = node.dataset.kind;
    if (node.tagName === 'SELECT') input[node.name] = JSON.parse(raw);
    else if (kind === 'integer' || kind === 'number') input[node.name] = Number.isFinite(Number(raw)) ? Number(raw) : raw;
    else if (kind === 'string') input[node.name] = raw;
    else {
      try { input[node.name] = JSON.parse(raw); } catch { input[node.name] = raw; }
    }
  }
  return input;
}

async function send(e) {
  e.preventDefault();
  const event = catalog.find((x) => x.name === $('#console-event').value);
  if (!event) return;
  for (const p of $$('#console-fields .issues')) p.textContent = '';
  for (const f of $$('#console-fields .field')) f.classList.remove('invalid');
  const answer = await callPath(event.httpPath, formInput());
  const result = $('#console-result');
  if (answer.ok) {
    result.replaceChildren(el('h3', { text: 'Output' }), el('pre', { text: JSON.stringify(answer.body, null, 2) }));
    return;
  }
  const error = answer.body?.error ?? { message: `HTTP ${answer.status}` };
  const unpinned = [];
  for (const issue of error.issues ?? []) {
    const top = issue.path.split(/[.[]/)[0];
    const box = $(`#console-fields .field[data-field="${CSS.escape(top)}"]`);
    if (!box) { unpinned.push(issue); continue; }
    box.classList.add('invalid');
    const p = $('.issues', box);
    p.textContent = [p.textContent, `${issue.path}: ${issue.message} (${issue.code})`].filter(Boolean).join('\n');
  }
  result.replaceChildren(...[
    el('h3', { text: `Error ${answer.status}: ${error.code ?? ''}` }),
    el('p', { class: 'error', text: error.message }),
    unpinned.length ? el('ul', {}, unpinned.map((i) => el('li', { text: `${i.path || '(input)'}: ${i.message} (${i.code})` }))) : null,
  ].filter(Boolean));
  $('#console-fields .invalid [name]')?.focus();
}

function setupConsole() {
  $('#console-event').addEventListener('change', buildForm);
  $('#console-form').addEventListener('submit', (e) => run(() => send(e)));
}

// ---- views ---------------------------------------------------------------------------------

const VIEWS = ['tasks', 'agents', 'hooks', 'events', 'console'];
const currentView = () => {
  const name = location.hash.slice(1).split('/')[0];
  return VIEWS.includes(name) ? name : 'tasks';
};

function showView() {
  const name = currentView();
  for (const section of $$('main > section')) section.hidden = section.dataset.view !== name;
  for (const link of $$('nav a[data-view]')) {
    if (link.dataset.view === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  for (const timer of viewTimers) if (timer.view === name) timer.fn();
  if (tasksStale && tasksOnScreen()) run(loadTasks);
  if (name === 'console' && catalog.length === 0 && socket?.readyState === WebSocket.OPEN) run(loadCatalog);
  if (name === 'events') drawServed();
}

function refreshAll() {
  run(loadTasks);
  run(loadAgents);
  run(loadLeases);
  run(loadDecisions);
  // The event table with its schemas is the largest read (about 100 KB): only for the console.
  if (catalog.length === 0 && currentView() === 'console') run(loadCatalog);
}

document.addEventListener('DOMContentLoaded', () => {
  setupTasks();
  setupAgents();
  setupHooks();
  setupEvents();
  setupConsole();
  window.addEventListener('hashchange', showView);
  showView();
  // One call first: a server with a token answers 401 and the page asks for it before it opens
  // the socket (a WebSocket cannot send the header; the token goes in its URL).
  call('system.health', {}).finally(() => {
    connect();
    setInterval(() => run(sampleMetrics), 2000);
  });
});
