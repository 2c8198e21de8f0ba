// postbox dashboard: plain JavaScript, no framework. Data comes from the
// JSON API under /_postbox/api and live updates from server-sent events.
'use strict';

const API = '/_postbox/api';
const SVGNS = 'http://www.w3.org/2000/svg';

// el builds an element; children may be strings (text, never HTML) or nodes.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

// ---- formatting ----

function fmtInt(n) { return Number(n).toLocaleString('en-US'); }
function fmtRate(r) { return r >= 100 ? fmtInt(Math.round(r)) : r >= 10 ? r.toFixed(1) : r.toFixed(2); }
function fmtAge(s) {
  if (s === null || s === undefined) return '–';
  s = Math.floor(s);
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
}
// fmtTime writes a time in the browser's time zone, with the zone's
// offset from UTC, so that a copied time is unambiguous.
function pad2(n) { return String(n).padStart(2, '0'); }
function fmtZone(d) {
  const off = -d.getTimezoneOffset();
  if (off === 0) return 'UTC';
  const a = Math.abs(off);
  return 'UTC' + (off > 0 ? '+' : '-') + pad2(Math.floor(a / 60)) + ':' + pad2(a % 60);
}
function fmtTime(ms) {
  if (!ms) return '–';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${fmtZone(d)}`;
}
// serverSkew is the server's clock minus the browser's, from the latest
// event, so that ages are counted on the server's clock.
let serverSkew = 0;
function noteServerTime(ms) { if (ms) serverSkew = ms - Date.now(); }
function fmtAgo(ms) {
  if (!ms) return '';
  const s = Math.round((Date.now() + serverSkew - ms) / 1000);
  const a = Math.abs(s);
  let t;
  if (a < 5) return 'just now';
  if (a < 60) t = a + ' s';
  else if (a < 3600) t = Math.floor(a / 60) + ' min';
  else if (a < 86400) t = Math.floor(a / 3600) + ' h ' + Math.floor((a % 3600) / 60) + ' min';
  else t = Math.floor(a / 86400) + ' d ' + Math.floor((a % 86400) / 3600) + ' h';
  return s >= 0 ? t + ' ago' : 'in ' + t;
}
// when shows a time with its zone and how long ago it was; the title
// holds the UTC time.
function when(ms) {
  if (!ms) return el('span', {}, '–');
  return el('span', { class: 'when', title: new Date(ms).toISOString() }, fmtTime(ms), el('span', { class: 'muted ago' }, ' (' + fmtAgo(ms) + ')'));
}
// queueLink links to a queue's page; q has the queue's name and key (the
// name, or ACCOUNT:NAME for a queue of another account).
function queueLink(q) { return el('a', { href: '#/queues/' + encodeURIComponent(q.key) }, q.key); }

// ---- notices ----

let noticeTimer = null;
function notice(text, isError) {
  const n = document.getElementById('notice');
  n.textContent = text;
  n.className = isError ? 'error' : '';
  n.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { n.hidden = true; }, isError ? 10000 : 4000);
}

// ---- API ----

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(API + path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) {
    const err = (data && data.error) || { code: 'HTTP' + res.status, message: res.statusText };
    const e = new Error(err.code + ': ' + err.message);
    e.code = err.code;
    throw e;
  }
  return data;
}

// ---- charts ----

// lineChart draws series (keys of each point) as lines over time into an
// SVG element; opts.axis adds a max label and grid.
function lineChart(target, points, keys, opts) {
  opts = opts || {};
  const w = opts.width || 600, h = opts.height || 160, pad = opts.axis ? 22 : 2;
  target.replaceChildren();
  target.setAttribute('viewBox', `0 0 ${w} ${h}`);
  target.setAttribute('preserveAspectRatio', 'none');
  let maxV = 0;
  for (const p of points) for (const k of keys) maxV = Math.max(maxV, p[k] || 0);
  const idle = maxV === 0;
  if (maxV === 0) maxV = 1;
  const t0 = points.length ? points[0].t : 0, t1 = points.length ? points[points.length - 1].t : 1;
  const span = Math.max(t1 - t0, 1);
  const x = (t) => pad + (w - pad - 2) * (points.length > 1 ? (t - t0) / span : 1);
  const y = (v) => h - 2 - (h - 14) * (v / maxV);
  if (opts.axis) {
    for (const f of [0, 0.5, 1]) {
      target.append(svg('line', { class: 'grid', x1: pad, x2: w, y1: y(maxV * f), y2: y(maxV * f) }));
    }
    const lbl = svg('text', { class: 'axis', x: 0, y: 10 });
    lbl.textContent = (opts.format || fmtRate)(maxV);
    target.append(lbl);
  }
  if (idle) {
    // Nothing happened: a faint baseline and the word, rather than lines
    // lying on the bottom edge that read as an underline.
    target.setAttribute('data-idle', '');
    target.append(svg('line', { class: 'idle-line', x1: pad, x2: w, y1: h / 2, y2: h / 2, 'vector-effect': 'non-scaling-stroke' }));
    const t = svg('text', { class: 'idle-label', x: pad + (w - pad) / 2, y: h / 2 - 3, 'text-anchor': 'middle' });
    t.textContent = opts.idleText || 'idle';
    target.append(t);
    return target;
  }
  target.removeAttribute('data-idle');
  for (const k of keys) {
    if (!points.length) continue;
    const d = points.map((p, i) => (i ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(p[k] || 0).toFixed(1)).join(' ');
    target.append(svg('path', { class: 'series ' + k, d, 'vector-effect': 'non-scaling-stroke' }));
  }
  return target;
}

function legend(keys, labels) {
  return el('div', { class: 'legend' }, keys.map((k, i) => el('span', {}, el('i', { class: k }), labels[i])));
}

// Client-side history for the overview's sparklines (the queue page uses
// the server's history, which survives a reload).
const sparks = new Map(); // queue key -> [{t, send, receive, delete}]
function remember(data) {
  const names = new Set();
  for (const q of data.queues) {
    names.add(q.key);
    const s = sparks.get(q.key) || [];
    s.push({ t: data.time, send: q.rates.send, receive: q.rates.receive, delete: q.rates.delete });
    while (s.length > 60) s.shift();
    sparks.set(q.key, s);
  }
  for (const n of [...sparks.keys()]) if (!names.has(n)) sparks.delete(n);
}

// ---- routing and live updates ----

let route = null;
let started = 0; // when the server started (unix ms): counters count since
let source = null;
let view = null; // the current view's update function

// Routes: #/ (the list), #/server, #/queues/KEY and
// #/queues/KEY/messages/ID (a message, shown open), each queue route with
// the message browser's filter as a query (?text=&state=&group=&attr=),
// so that every view can be shared as a link.
function parseRoute() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  if (path === '/server') return { view: 'server' };
  const m = (path || '').match(/^\/queues\/([^/]+)(?:\/messages\/([^/]+))?$/);
  if (!m) return { view: 'list' };
  const filter = {};
  for (const [k, v] of new URLSearchParams(query || '')) if (['text', 'state', 'group', 'attr'].includes(k) && v) filter[k] = v;
  return { view: 'queue', name: decodeURIComponent(m[1]), messageId: m[2] ? decodeURIComponent(m[2]) : '', filter };
}

// queueHash is the link of a queue's page, a message, and a filter.
function queueHash(key, messageId, filter) {
  let h = '#/queues/' + encodeURIComponent(key);
  if (messageId) h += '/messages/' + encodeURIComponent(messageId);
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filter || {})) if (v) q.set(k, v);
  const qs = q.toString();
  return qs ? h + '?' + qs : h;
}

function connect() {
  if (source) source.close();
  const live = document.getElementById('live');
  const url = API + '/events' + (route.view === 'queue' ? '?queue=' + encodeURIComponent(route.name) : '');
  source = new EventSource(url);
  source.onopen = () => { live.textContent = 'live'; live.className = 'live'; };
  source.onerror = () => { live.textContent = 'reconnecting'; live.className = 'live off'; };
  source.addEventListener('queues', (ev) => {
    const data = JSON.parse(ev.data);
    noteServerTime(data.time);
    started = data.startedTimestamp;
    remember(data);
    if (view && view.queues) view.queues(data);
  });
  source.addEventListener('queue', (ev) => {
    if (view && view.queue) view.queue(JSON.parse(ev.data));
  });
  source.addEventListener('error', (ev) => {
    if (ev.data) {
      const e = JSON.parse(ev.data).error;
      notice(e.code + ': ' + e.message, true);
      source.close();
      live.textContent = 'offline'; live.className = 'live off';
    }
  });
}

function navigate() {
  if (view && view.stop) view.stop();
  route = parseRoute();
  const app = document.getElementById('app');
  view = route.view === 'queue' ? queueView(app, route.name, route)
    : route.view === 'server' ? serverView(app) : listView(app);
  connect();
}

// ---- the server ----

// serverView shows the server: version, uptime, storage, authentication,
// totals, long polls, and requests per second and errors by action,
// refreshed every second from GET /_postbox/api/server.
function serverView(app) {
  const cards = el('div', { class: 'cards', id: 'server-cards' });
  const info = el('dl', { class: 'kv', id: 'server-info' });
  const actions = el('tbody');
  const errors = el('tbody');
  app.replaceChildren(
    el('p', {}, el('a', { href: '#/' }, '← All queues')),
    el('h2', {}, 'Server'),
    cards,
    el('div', { class: 'row' },
      el('div', { class: 'panel' }, el('h3', {}, 'This server'), info),
      el('div', { class: 'panel' }, el('h3', {}, 'Errors by code (since start)'),
        el('table', { id: 'server-errors' }, el('thead', {}, el('tr', {}, el('th', {}, 'Code'), el('th', { class: 'num' }, 'Requests'))), errors))),
    el('div', { class: 'panel' }, el('h3', {}, 'Requests by action'),
      el('table', { id: 'server-actions' }, el('thead', {}, el('tr', {},
        el('th', {}, 'Action'), el('th', { class: 'num' }, 'Per second'), el('th', { class: 'num' }, 'Since start'), el('th', {}, 'Errors'))), actions)),
    el('p', { class: 'muted' }, 'Also in the Prometheus text format at ', el('a', { href: '/metrics' }, '/metrics'), ' (docs/metrics.md).'));
  let timer = null, stopped = false;
  async function load() {
    try {
      const d = await api('GET', '/server');
      noteServerTime(d.time);
      const total = d.messages.visible + d.messages.inflight + d.messages.delayed;
      cards.replaceChildren(
        el('div', { class: 'card' }, el('div', { class: 'v', id: 'server-uptime' }, fmtAge(d.uptimeSeconds)), el('div', { class: 'k' }, 'uptime')),
        el('div', { class: 'card' }, el('div', { class: 'v', id: 'server-queues' }, fmtInt(d.queues)), el('div', { class: 'k' }, 'queues')),
        el('div', { class: 'card' }, el('div', { class: 'v', id: 'server-messages' }, fmtInt(total)), el('div', { class: 'k' }, `messages (${fmtInt(d.messages.visible)} visible · ${fmtInt(d.messages.inflight)} in flight · ${fmtInt(d.messages.delayed)} delayed)`)),
        el('div', { class: 'card' }, el('div', { class: 'v', id: 'server-polls' }, fmtInt(d.longPollsWaiting)), el('div', { class: 'k' }, 'long polls waiting')),
        el('div', { class: 'card' }, el('div', { class: 'v', id: 'server-rps' }, d.actions ? fmtRate(d.requestsPerSecond) : '–'), el('div', { class: 'k' }, 'requests/s')));
      const st = d.storage;
      info.replaceChildren(
        el('dt', {}, 'Version'), el('dd', { id: 'server-version' }, d.version || '(unknown)'),
        el('dt', {}, 'Started'), el('dd', {}, when(d.startedTimestamp)),
        el('dt', {}, 'Storage'), el('dd', { id: 'server-storage' }, st.kind === 'disk'
          ? [el('span', { class: 'mono' }, st.dataDir), ` (sync ${st.sync}; ${fmtInt(st.fsyncs)} fsyncs` + (st.fsyncs ? `, ${(1000 * st.fsyncSeconds / st.fsyncs).toFixed(2)} ms average` : '') + ')']
          : 'memory (nothing is kept across restarts)'),
        el('dt', {}, 'Authentication'), el('dd', { id: 'server-auth' }, d.auth === 'sigv4' ? `SigV4 (${d.credentials} access key${d.credentials === 1 ? '' : 's'})` : 'anonymous (no credentials configured)'));
      if (!d.actions) {
        actions.replaceChildren(el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'Request counts are not available (metrics are off).')));
      } else if (!d.actions.length) {
        actions.replaceChildren(el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'No SQS request yet.')));
      } else {
        actions.replaceChildren(...d.actions.map((a) => el('tr', { 'data-action': a.action },
          el('td', {}, a.action), el('td', { class: 'num' }, fmtRate(a.perSecond)), el('td', { class: 'num' }, fmtInt(a.requests)),
          el('td', {}, Object.entries(a.errors).map(([c, n]) => el('div', { class: 'mono' }, `${c}: ${fmtInt(n)}`))))));
      }
      const errs = Object.entries(d.errors || {}).sort((a, b) => b[1] - a[1]);
      errors.replaceChildren(...(errs.length ? errs.map(([c, n]) => el('tr', { 'data-code': c }, el('td', { class: 'mono' }, c), el('td', { class: 'num' }, fmtInt(n))))
        : [el('tr', {}, el('td', { colspan: 2, class: 'empty' }, 'No errors.'))]));
    } catch (e) { notice(e.message, true); }
    if (!stopped) timer = setTimeout(load, 1000);
  }
  load();
  return { stop() { stopped = true; clearTimeout(timer); } };
}

// ---- the queue list ----

function listView(app) {
  const tbody = el('tbody');
  const startedNote = el('p', { class: 'muted', id: 'started-note' });
  const create = createPanel();
  const qFilter = el('input', { id: 'queue-filter', placeholder: 'filter queues by name  ( / )', oninput: () => applyFilter() });
  function applyFilter() {
    const f = qFilter.value.trim().toLowerCase();
    for (const tr of tbody.querySelectorAll('tr[data-queue]')) tr.hidden = f !== '' && !tr.dataset.queue.toLowerCase().includes(f);
  }
  app.replaceChildren(
    el('div', { class: 'inline' }, el('h2', {}, 'Queues'), create.button, qFilter),
    create.node,
    el('table', { id: 'queues' },
      el('thead', {}, el('tr', {},
        el('th', {}, 'Queue'), el('th', { class: 'num' }, 'Visible'), el('th', { class: 'num' }, 'In flight'),
        el('th', { class: 'num' }, 'Delayed'), el('th', { class: 'num' }, 'Oldest'),
        el('th', { class: 'num' }, 'Send/s'), el('th', { class: 'num' }, 'Receive/s'), el('th', { class: 'num' }, 'Delete/s'),
        el('th', {}, 'Rates'), el('th', {}, 'Dead letters'))),
      tbody),
    legend(['send', 'receive', 'delete'], ['send', 'receive', 'delete']),
    startedNote);
  const rows = new Map(); // queue name -> {tr, cells}
  let order = '';
  return {
    queues(data) {
      create.queues(data.queues);
      startedNote.replaceChildren('Rates are averaged over the last 10 seconds; the server started at ', when(data.startedTimestamp), '.');
      if (!data.queues.length) {
        rows.clear(); order = '';
        tbody.replaceChildren(el('tr', {}, el('td', { colspan: 10, class: 'empty' },
          'No queues yet. Create one with the AWS CLI, an SDK or postbox queues create.')));
        return;
      }
      // Rows are updated in place (a link being clicked stays the same
      // element); they are rebuilt only when the set of queues changes.
      const names = data.queues.map((q) => q.key + (q.fifo ? '/f' : '')).join('\n');
      if (names !== order) {
        order = names;
        rows.clear();
        tbody.replaceChildren(...data.queues.map((q) => {
          const c = {};
          for (const k of ['visible', 'inflight', 'delayed', 'oldest', 'send', 'receive', 'delete']) c[k] = el('td', { class: 'num ' + k });
          c.spark = svg('svg', { class: 'spark' });
          c.wiring = el('td', { class: 'wiring-cell' });
          const tr = el('tr', { 'data-queue': q.key },
            el('td', {}, queueLink(q), q.fifo ? el('span', { class: 'badge' }, 'FIFO') : null),
            c.visible, c.inflight, c.delayed, c.oldest, c.send, c.receive, c.delete, el('td', {}, c.spark), c.wiring);
          rows.set(q.key, c);
          return tr;
        }));
        applyFilter();
      }
      for (const q of data.queues) {
        const c = rows.get(q.key);
        c.visible.textContent = fmtInt(q.visible);
        c.inflight.textContent = fmtInt(q.inflight);
        c.delayed.textContent = fmtInt(q.delayed);
        c.oldest.textContent = fmtAge(q.oldestAgeSeconds);
        c.send.textContent = fmtRate(q.rates.send);
        c.receive.textContent = fmtRate(q.rates.receive);
        c.delete.textContent = fmtRate(q.rates.delete);
        lineChart(c.spark, sparks.get(q.key) || [], ['send', 'receive', 'delete'], { width: 140, height: 28 });
        c.wiring.replaceChildren(wiring(q, true));
      }
    },
  };
}

// createPanel is the New queue form: a CreateQueue with the attributes
// most queues are made with; its errors are shown in the form.
function createPanel() {
  const name = el('input', { id: 'create-name', placeholder: 'orders (a FIFO queue: orders.fifo)', required: true });
  const fifo = el('input', { id: 'create-fifo', type: 'checkbox' });
  const cbd = el('input', { id: 'create-cbd', type: 'checkbox' });
  const vis = el('input', { id: 'create-visibility', type: 'number', min: 0, max: 43200, placeholder: '30' });
  const dlq = el('select', { id: 'create-dlq' });
  const maxrc = el('input', { id: 'create-maxrc', type: 'number', min: 1, max: 1000, value: 5 });
  const cbdRow = el('label', { class: 'check', hidden: true }, cbd, ' content-based deduplication');
  fifo.addEventListener('change', () => {
    cbdRow.hidden = !fifo.checked;
    if (fifo.checked && name.value && !name.value.endsWith('.fifo')) name.value += '.fifo';
    if (!fifo.checked && name.value.endsWith('.fifo')) name.value = name.value.slice(0, -5);
  });
  const error = el('div', { class: 'field-error', id: 'create-error', hidden: true });
  const submit = el('button', { id: 'create-button', type: 'submit' }, 'Create queue');
  const form = el('form', { class: 'panel', id: 'create-form', hidden: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const attributes = {};
    if (fifo.checked) attributes.FifoQueue = 'true';
    if (fifo.checked && cbd.checked) attributes.ContentBasedDeduplication = 'true';
    if (vis.value !== '') attributes.VisibilityTimeout = vis.value;
    if (dlq.value) attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlq.value, maxReceiveCount: maxrc.value || '5' });
    submit.disabled = true;
    try {
      const res = await api('POST', '/queues', { name: name.value, attributes });
      error.hidden = true;
      notice('Created ' + res.key + '.');
      location.hash = '#/queues/' + encodeURIComponent(res.key);
    } catch (e) { error.textContent = e.message; error.hidden = false; }
    submit.disabled = false;
  } },
  el('h3', {}, 'New queue'),
  el('div', { class: 'row' },
    el('div', {}, el('label', { for: 'create-name' }, 'Name'), name,
      el('label', { class: 'check' }, fifo, ' FIFO queue'), cbdRow),
    el('div', {}, el('label', { for: 'create-visibility' }, 'Visibility timeout (seconds)'), vis),
    el('div', {}, el('label', { for: 'create-dlq' }, 'Dead-letter queue'), dlq,
      el('label', { for: 'create-maxrc' }, 'Max receives before dead-lettering'), maxrc)),
  error, submit,
  el('button', { class: 'secondary', type: 'button', onclick: () => { form.hidden = true; button.hidden = false; } }, 'Cancel'));
  const button = el('button', { id: 'new-queue', type: 'button', onclick: () => { form.hidden = false; button.hidden = true; name.focus(); } }, 'New queue…');
  let known = '';
  return {
    node: form,
    button,
    queues(qs) {
      const sig = qs.map((q) => q.arn).join(' ');
      if (sig === known) return;
      known = sig;
      const keep = dlq.value;
      dlq.replaceChildren(el('option', { value: '' }, 'none'), ...qs.map((q) => el('option', { value: q.arn }, q.key)));
      dlq.value = keep;
    },
  };
}

// wiring shows a queue's dead-letter queue and the queues that use it as theirs.
function wiring(q, compact) {
  const parts = [];
  if (q.deadLetter) {
    parts.push(el('div', {}, '→ ', queueLink(q.deadLetter), ` after ${q.deadLetter.maxReceiveCount} receive${q.deadLetter.maxReceiveCount === 1 ? '' : 's'}`));
  }
  if (q.deadLetterSources.length) {
    parts.push(el('div', {}, '← ', q.deadLetterSources.map((s, i) => [i ? ', ' : '', queueLink(s)])));
  }
  if (!parts.length) return compact ? el('span', { class: 'muted' }, '–') : el('p', { class: 'muted' }, 'No dead-letter wiring.');
  return el('div', { class: 'wiring' }, parts);
}

// ---- queue settings ----

// The attributes the settings form edits, as SetQueueAttributes names them.
const SETTINGS = [
  { name: 'VisibilityTimeout', hint: 'seconds, 0-43200' },
  { name: 'MessageRetentionPeriod', hint: 'seconds, 60-1209600' },
  { name: 'DelaySeconds', hint: 'seconds, 0-900' },
  { name: 'ReceiveMessageWaitTimeSeconds', hint: 'seconds, 0-20' },
  { name: 'MaximumMessageSize', hint: 'bytes, 1024-262144' },
  { name: 'RedrivePolicy', json: true, hint: '{"deadLetterTargetArn":"arn:…","maxReceiveCount":"5"}; empty removes it' },
  { name: 'RedriveAllowPolicy', json: true, hint: '{"redrivePermission":"allowAll"}' },
  { name: 'Policy', json: true, hint: 'an IAM policy document' },
  { name: 'ContentBasedDeduplication', fifo: true, choices: ['false', 'true'] },
  { name: 'DeduplicationScope', fifo: true, choices: ['queue', 'messageGroup'] },
  { name: 'FifoThroughputLimit', fifo: true, choices: ['perQueue', 'perMessageGroupId'] },
];

// settingsPanel shows a queue's identity, attributes and tags, and edits
// them through SetQueueAttributes, TagQueue and UntagQueue; an error is
// shown inline with SQS's code, and the form keeps what was typed.
function settingsPanel(enc) {
  const info = el('dl', { class: 'kv', id: 'queue-info' });
  const inputs = {};
  const rows = SETTINGS.map((f) => {
    const id = 'attr-' + f.name;
    const input = f.choices
      ? el('select', { id, 'data-attr': f.name }, f.choices.map((c) => el('option', { value: c }, c)))
      : f.json ? el('textarea', { id, 'data-attr': f.name, class: 'json', placeholder: f.hint })
        : el('input', { id, 'data-attr': f.name, type: 'number', placeholder: f.hint });
    input.addEventListener('input', () => { dirty = true; });
    input.addEventListener('change', () => { dirty = true; });
    inputs[f.name] = input;
    return el('div', { class: 'field', 'data-field': f.name }, el('label', { for: id }, f.name, f.hint && !f.json ? el('span', { class: 'muted' }, ' (' + f.hint + ')') : null), input);
  });
  const error = el('div', { class: 'field-error', id: 'settings-error', hidden: true });
  const save = el('button', { id: 'settings-save', type: 'submit' }, 'Save settings');
  const reset = el('button', { class: 'secondary', type: 'button', onclick: () => { dirty = false; fill(true); } }, 'Reset');
  let current = null, dirty = false;
  const form = el('form', { id: 'settings-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const changed = {};
    for (const f of SETTINGS) {
      if (!inputs[f.name].closest('.field').hidden && inputs[f.name].value !== (current.attributes[f.name] || '')) changed[f.name] = inputs[f.name].value;
    }
    if (!Object.keys(changed).length) { notice('Nothing changed.'); return; }
    save.disabled = true;
    try {
      const res = await api('POST', `/queues/${enc}/attributes`, { attributes: changed });
      error.hidden = true; dirty = false;
      update(res.queue);
      notice('Saved ' + Object.keys(changed).join(', ') + '.');
    } catch (e) { error.textContent = e.message; error.hidden = false; }
    save.disabled = false;
  } }, rows, error, el('div', { class: 'inline' }, save, reset));

  const tags = el('textarea', { id: 'tags-edit', class: 'json', placeholder: 'one key=value a line' });
  tags.addEventListener('input', () => { tagsDirty = true; });
  let tagsDirty = false, tagsFilled = null;
  const tagsError = el('div', { class: 'field-error', id: 'tags-error', hidden: true });
  const tagsSave = el('button', { id: 'tags-save', type: 'button', onclick: async () => {
    const want = {};
    for (const line of tags.value.split('\n')) {
      if (!line.trim()) continue;
      const i = line.indexOf('=');
      want[(i < 0 ? line : line.slice(0, i)).trim()] = i < 0 ? '' : line.slice(i + 1).trim();
    }
    const set = {}, remove = [];
    for (const [k, v] of Object.entries(want)) if (current.tags[k] !== v) set[k] = v;
    for (const k of Object.keys(current.tags)) if (!(k in want)) remove.push(k);
    if (!Object.keys(set).length && !remove.length) { notice('Nothing changed.'); return; }
    try {
      const res = await api('POST', `/queues/${enc}/tags`, { set, remove });
      tagsError.hidden = true; tagsDirty = false;
      update(res.queue);
      notice('Tags saved.');
    } catch (e) { tagsError.textContent = e.message; tagsError.hidden = false; }
  } }, 'Save tags');

  // fill puts the queue's values into the form; a live update (force
  // false) changes only fields whose value changed on the server since
  // they were filled, so that what the operator is typing stays.
  const filled = {};
  function fill(force) {
    for (const f of SETTINGS) {
      const v = current.attributes[f.name] || (f.choices ? f.choices[0] : '');
      if (force || filled[f.name] !== v) inputs[f.name].value = v;
      filled[f.name] = v;
    }
  }
  function update(q) {
    current = q;
    const a = q.attributes;
    info.replaceChildren(
      el('dt', {}, 'ARN'), el('dd', { class: 'mono', id: 'queue-arn' }, q.arn),
      el('dt', {}, 'URL'), el('dd', { class: 'mono', id: 'queue-url' }, q.url),
      el('dt', {}, 'Type'), el('dd', {}, q.fifo ? 'FIFO (FifoQueue = true)' : 'standard'),
      el('dt', {}, 'Created'), el('dd', {}, when(q.createdTimestamp)),
      el('dt', {}, 'Last modified'), el('dd', {}, when(Number(a.LastModifiedTimestamp || 0) * 1000)));
    for (const f of SETTINGS) inputs[f.name].closest('.field').hidden = (f.fifo && !q.fifo);
    if (!dirty) fill(false);
    const t = Object.entries(q.tags).sort().map(([k, v]) => k + '=' + v).join('\n');
    if (!tagsDirty && t !== tagsFilled) tags.value = t;
    tagsFilled = t;
  }
  const node = el('div', { class: 'panel', id: 'settings' },
    el('h3', {}, 'Queue'), info,
    el('h3', {}, 'Settings'), el('p', { class: 'muted' }, 'Saved with SetQueueAttributes: the same checks and errors as the SQS API.'), form,
    el('h3', {}, 'Tags'), tags, tagsError, tagsSave);
  return { node, update };
}

// ---- one queue ----

function queueView(app, name, route) {
  const enc = encodeURIComponent(name);
  const cards = el('div', { class: 'cards' });
  const startedNote = el('p', { class: 'muted', id: 'started-note' });
  const rateChart = svg('svg', { class: 'chart', id: 'rate-chart' });
  const depthChart = svg('svg', { class: 'chart', id: 'depth-chart' });
  const wiringBox = el('div');
  const tasksBox = el('div', { id: 'tasks' });
  const redrivePanel = el('div', { class: 'panel', id: 'redrive', hidden: true });
  const settings = settingsPanel(enc);
  const msgBody = el('tbody');
  const moreButton = el('button', { class: 'secondary', id: 'more-messages', hidden: true, onclick: () => loadMessages(true) }, 'Load more');
  let current = null;      // the latest queue detail
  let next = '';           // cursor= of the next page of messages
  let paged = false;       // the user loaded more pages: do not reload on changes
  let signature = '';      // counts of the last message listing
  let loading = false;
  const open = new Set();  // message ids whose detail is shown

  // Send form.
  const body = el('textarea', { id: 'send-body', placeholder: 'Message body' }, '{"hello":"world"}');
  const group = el('input', { id: 'send-group', placeholder: 'MessageGroupId' });
  const dedup = el('input', { id: 'send-dedup', placeholder: 'MessageDeduplicationId (optional)' });
  const delay = el('input', { id: 'send-delay', type: 'number', min: 0, max: 900, placeholder: '0' });
  const fifoFields = el('div', { hidden: true }, el('label', {}, 'Message group id'), group, el('label', {}, 'Deduplication id'), dedup);
  const delayField = el('div', {}, el('label', {}, 'Delay (seconds)'), delay);
  const sendButton = el('button', { id: 'send-button', type: 'submit' }, 'Send message');
  const sendForm = el('form', { id: 'send-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const req = { body: body.value };
    if (group.value) req.messageGroupId = group.value;
    if (dedup.value) req.messageDeduplicationId = dedup.value;
    if (delay.value !== '') req.delaySeconds = Number(delay.value);
    sendButton.disabled = true;
    try {
      const res = await api('POST', `/queues/${enc}/messages`, req);
      notice('Sent message ' + res.messageId + '.');
      loadMessages(false);
    } catch (e) { notice(e.message, true); }
    sendButton.disabled = false;
  } }, el('label', {}, 'Body'), body, fifoFields, delayField, sendButton);

  // Purge, with a confirmation step in the page.
  const purgeButton = el('button', { class: 'danger', id: 'purge-button', type: 'button' }, 'Purge…');
  const confirmText = el('span');
  const confirmBox = el('div', { class: 'inline', id: 'purge-confirm-box', hidden: true },
    confirmText,
    el('button', { class: 'danger', id: 'purge-confirm', type: 'button', onclick: async () => {
      confirmBox.hidden = true; purgeButton.hidden = false;
      try {
        await api('POST', `/queues/${enc}/purge`, {});
        notice('Purged ' + name + '.');
        loadMessages(false);
      } catch (e) { notice(e.message, true); }
    } }, 'Yes, delete every message'),
    el('button', { class: 'secondary', id: 'purge-cancel', type: 'button', onclick: () => {
      confirmBox.hidden = true; purgeButton.hidden = false;
    } }, 'Cancel'));
  purgeButton.addEventListener('click', () => {
    const n = current ? current.visible + current.inflight + current.delayed : 0;
    confirmText.textContent = `Delete all ${fmtInt(n)} message${n === 1 ? '' : 's'} of ${name}? This cannot be undone.`;
    purgeButton.hidden = true; confirmBox.hidden = false;
  });

  // The message browser: filters (kept in the page's link), selection,
  // and the operator's actions on the selected messages.
  const filter = Object.assign({}, route.filter);
  const fText = el('input', { id: 'filter-text', placeholder: 'body contains…', value: filter.text || '' });
  const fState = el('select', { id: 'filter-state' }, ['', 'visible', 'inflight', 'delayed'].map((v) => el('option', { value: v }, v === '' ? 'any state' : v === 'inflight' ? 'in flight' : v)));
  fState.value = filter.state || '';
  const fGroup = el('input', { id: 'filter-group', placeholder: 'group id', value: filter.group || '' });
  const fAttr = el('input', { id: 'filter-attr', placeholder: 'attribute or name=value', value: filter.attr || '' });
  const filterForm = el('form', { class: 'inline filters', id: 'filter-form', onsubmit: (ev) => {
    ev.preventDefault();
    filter.text = fText.value; filter.state = fState.value; filter.group = fGroup.value; filter.attr = fAttr.value;
    history.replaceState(null, '', queueHash(name, '', filter));
    selected.clear();
    loadMessages(false);
  } }, fText, fState, fGroup, fAttr,
  el('button', { id: 'filter-apply', type: 'submit' }, 'Filter'),
  el('button', { class: 'secondary', id: 'filter-clear', type: 'button', onclick: () => {
    fText.value = fGroup.value = fAttr.value = ''; fState.value = '';
    filterForm.requestSubmit();
  } }, 'Clear'));
  const follow = el('input', { id: 'follow', type: 'checkbox', checked: true });
  const changedHint = el('span', { class: 'muted', id: 'changed-hint', hidden: true }, 'the queue changed');
  const scanInfo = el('span', { class: 'muted', id: 'scan-info' });
  const selected = new Set(); // ids of the selected messages
  const selectAll = el('input', { type: 'checkbox', id: 'select-all', title: 'select every listed message', onclick: (ev) => {
    ev.stopPropagation();
    for (const m of lastMessages) { if (selectAll.checked) selected.add(m.messageId); else selected.delete(m.messageId); }
    renderMessages(lastMessages);
  } });
  const selCount = el('span', { id: 'selected-count' });
  const moveDest = el('select', { id: 'move-dest' });
  const delSelText = el('span');
  const delSelBox = el('span', { class: 'inline', id: 'delete-selected-box', hidden: true }, delSelText,
    el('button', { class: 'danger', id: 'delete-selected-confirm', type: 'button', onclick: async () => {
      delSelBox.hidden = true;
      await messageAction('delete', [...selected]);
    } }, 'Yes, delete'),
    el('button', { class: 'secondary', type: 'button', onclick: () => { delSelBox.hidden = true; } }, 'Cancel'));
  const actions = el('div', { class: 'inline actions', id: 'message-actions', hidden: true },
    selCount,
    el('button', { class: 'danger', id: 'delete-selected', type: 'button', onclick: () => {
      delSelText.textContent = `Delete ${selected.size} message${selected.size === 1 ? '' : 's'}? This cannot be undone.`;
      delSelBox.hidden = false;
    } }, 'Delete…'),
    delSelBox,
    el('span', {}, 'move to'), moveDest,
    el('button', { id: 'move-selected', type: 'button', onclick: () => {
      if (!moveDest.value) { notice('Choose a queue to move the messages to.', true); return; }
      messageAction('move', [...selected], moveDest.value);
    } }, 'Move'),
    el('button', { class: 'secondary', type: 'button', onclick: () => { selected.clear(); renderMessages(lastMessages); } }, 'Clear selection'));

  // messageAction deletes or moves messages by id and reports each one's
  // outcome: only the listed messages are touched.
  async function messageAction(kind, ids, dest) {
    try {
      const res = kind === 'move'
        ? await api('POST', `/queues/${enc}/messages/move`, { messageIds: ids, destination: dest })
        : await api('POST', `/queues/${enc}/messages/delete`, { messageIds: ids });
      const failed = res.results.filter((r) => r.error);
      for (const r of res.results) if (!r.error) selected.delete(r.messageId);
      const done = res.results.length - failed.length;
      const verb = kind === 'move' ? 'Moved' : 'Deleted';
      if (failed.length) notice(`${verb} ${done}; ${failed.length} failed: ` + failed.map((r) => `${r.messageId}: ${r.error.code}: ${r.error.message}`).join('; '), true);
      else notice(`${verb} ${done} message${done === 1 ? '' : 's'}` + (kind === 'move' ? ' to ' + dest : '') + '.');
    } catch (e) { notice(e.message, true); }
    loadMessages(false);
  }

  function copyJSON(m) {
    const text = JSON.stringify(m, null, 2);
    const done = () => { copied.textContent = text; notice('Copied message ' + m.messageId + ' as JSON.'); };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, done);
    else done();
  }
  const copied = el('textarea', { id: 'copied-json', readonly: true, hidden: true });

  // Delete the queue, with a confirmation step in the page.
  const deleteButton = el('button', { class: 'danger', id: 'delete-queue', type: 'button' }, 'Delete queue…');
  const deleteText = el('span');
  const deleteBox = el('div', { class: 'inline', id: 'delete-queue-box', hidden: true },
    deleteText,
    el('button', { class: 'danger', id: 'delete-queue-confirm', type: 'button', onclick: async () => {
      deleteBox.hidden = true; deleteButton.hidden = false;
      try {
        await api('POST', `/queues/${enc}/delete`, {});
        notice('Deleted the queue ' + name + '.');
        location.hash = '#/';
      } catch (e) { notice(e.message, true); }
    } }, 'Yes, delete the queue'),
    el('button', { class: 'secondary', id: 'delete-queue-cancel', type: 'button', onclick: () => {
      deleteBox.hidden = true; deleteButton.hidden = false;
    } }, 'Cancel'));
  deleteButton.addEventListener('click', () => {
    const n = current ? current.visible + current.inflight + current.delayed : 0;
    const src = current ? current.deadLetterSources.length : 0;
    deleteText.textContent = `Delete the queue ${name} and its ${fmtInt(n)} message${n === 1 ? '' : 's'}?` +
      (src ? ` It is the dead-letter queue of ${src} queue${src === 1 ? '' : 's'}.` : '') + ' This cannot be undone.';
    deleteButton.hidden = true; deleteBox.hidden = false;
  });

  // Redrive (this queue is a dead-letter queue).
  const dest = el('select', { id: 'redrive-dest' });
  const rate = el('input', { id: 'redrive-rate', type: 'number', min: 1, max: 500, placeholder: 'as fast as possible' });
  const startButton = el('button', { id: 'redrive-start', type: 'button', onclick: async () => {
    const req = {};
    if (dest.value) req.destinationArn = dest.value;
    if (rate.value !== '') req.maxNumberOfMessagesPerSecond = Number(rate.value);
    try {
      await api('POST', `/queues/${enc}/redrive`, req);
      notice('Redrive started.');
    } catch (e) { notice(e.message, true); }
  } }, 'Start redrive');
  redrivePanel.append(el('h3', {}, 'Redrive'),
    el('p', { class: 'muted' }, 'Move this dead-letter queue\'s visible messages back to their source queues, or to another queue (a message move task, as StartMessageMoveTask).'),
    el('label', {}, 'Destination'), dest, el('label', {}, 'Messages per second (1-500)'), rate, startButton, tasksBox);

  app.replaceChildren(
    el('p', {}, el('a', { href: '#/' }, '← All queues')),
    el('h2', { id: 'queue-name' }, name, el('span', { class: 'badge', id: 'queue-type' }, '')),
    cards,
    startedNote,
    el('div', { class: 'row' },
      el('div', { class: 'panel' }, el('h3', {}, 'Rates (messages/s)'), rateChart, legend(['send', 'receive', 'delete'], ['send', 'receive', 'delete'])),
      el('div', { class: 'panel' }, el('h3', {}, 'Depth'), depthChart, legend(['visible', 'inflight', 'delayed'], ['visible', 'in flight', 'delayed']))),
    el('div', { class: 'row' },
      el('div', { class: 'panel' }, el('h3', {}, 'Send a test message'), sendForm),
      el('div', { class: 'panel' }, el('h3', {}, 'Dead-letter wiring'), wiringBox,
        el('h3', {}, 'Purge'), el('p', { class: 'muted' }, 'Deletes every message of the queue (PurgeQueue).'), purgeButton, confirmBox,
        el('h3', {}, 'Delete the queue'), el('p', { class: 'muted' }, 'Deletes the queue and its messages (DeleteQueue).'), deleteButton, deleteBox)),
    redrivePanel,
    settings.node,
    el('div', { class: 'panel', id: 'browser' },
      el('div', { class: 'inline' }, el('h3', {}, 'Messages'),
        el('span', { class: 'muted' }, 'Browsing does not receive: visibility and receive counts stay as they are.'),
        el('label', { class: 'check', title: 'Reload the first page as the queue changes (paused while messages are selected or more pages are loaded)' }, follow, ' follow live'),
        el('button', { class: 'secondary', id: 'refresh-messages', type: 'button', onclick: () => loadMessages(false) }, 'Refresh'),
        changedHint),
      filterForm,
      actions,
      el('table', { id: 'messages' },
        el('thead', {}, el('tr', {}, el('th', {}, selectAll), el('th', {}, 'State'), el('th', {}, 'Message id'), el('th', {}, 'Sent'),
          el('th', { class: 'num' }, 'Receives'), el('th', {}, 'Group'), el('th', {}, 'Body'))),
        msgBody),
      el('div', { class: 'inline' }, moreButton, scanInfo),
      copied));

  function card(id, label, value) {
    return el('div', { class: 'card' }, el('div', { class: 'v', id }, value), el('div', { class: 'k' }, label));
  }

  let tasksShown = null;
  function renderTasks(tasks) {
    // Rebuilt only when a task changed, so that a Cancel button being
    // clicked is not replaced under the pointer.
    const sig = JSON.stringify(tasks);
    if (sig === tasksShown) return;
    tasksShown = sig;
    if (!tasks.length) { tasksBox.replaceChildren(el('p', { class: 'muted' }, 'No redrive yet.')); return; }
    tasksBox.replaceChildren(el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, 'Status'), el('th', {}, 'Started'), el('th', {}, 'Destination'),
        el('th', {}, 'Progress'), el('th', {}, ''))),
      el('tbody', {}, tasks.map((t) => {
        const bar = el('div');
        const pct = t.approximateNumberOfMessagesToMove > 0
          ? Math.min(100, 100 * t.approximateNumberOfMessagesMoved / t.approximateNumberOfMessagesToMove)
          : (t.status === 'COMPLETED' ? 100 : 0);
        bar.style.width = pct.toFixed(0) + '%';
        return el('tr', { class: 'task', 'data-status': t.status },
          el('td', {}, t.status, t.failureReason ? el('div', { class: 'muted' }, t.failureReason) : null),
          el('td', {}, when(t.startedTimestamp)),
          el('td', {}, t.destinationArn ? t.destinationArn.split(':').pop() : 'original sources'),
          el('td', {}, el('div', { class: 'inline' }, el('div', { class: 'progress' }, bar),
            `${fmtInt(t.approximateNumberOfMessagesMoved)} / ${fmtInt(t.approximateNumberOfMessagesToMove)}`)),
          el('td', {}, t.status === 'RUNNING' && t.taskHandle ? el('button', { class: 'secondary', type: 'button', onclick: async () => {
            try {
              const res = await api('POST', `/queues/${enc}/redrive/cancel`, { taskHandle: t.taskHandle });
              notice(`Redrive cancelled after ${fmtInt(res.approximateNumberOfMessagesMoved)} messages.`);
            } catch (e) { notice(e.message, true); }
          } }, 'Cancel') : null));
      }))));
  }

  function messageRows(m) {
    const box = el('input', { type: 'checkbox', class: 'sel', 'data-id': m.messageId, checked: selected.has(m.messageId), onclick: (ev) => {
      ev.stopPropagation();
      if (box.checked) selected.add(m.messageId); else selected.delete(m.messageId);
      showActions();
    } });
    const rows = [el('tr', { class: 'msg' + (open.has(m.messageId) ? ' open' : ''), 'data-id': m.messageId, onclick: () => {
      if (open.has(m.messageId)) open.delete(m.messageId); else open.add(m.messageId);
      history.replaceState(null, '', queueHash(name, open.has(m.messageId) ? m.messageId : '', filter));
      renderMessages(lastMessages);
    } },
      el('td', {}, box),
      el('td', {}, el('span', { class: 'state ' + m.state }, m.state === 'inflight' ? 'in flight' : m.state)),
      el('td', { class: 'mono' }, el('a', { href: queueHash(name, m.messageId, filter), class: 'msg-link', onclick: (ev) => ev.stopPropagation() }, m.messageId)),
      el('td', {}, when(m.sentTimestamp)),
      el('td', { class: 'num' }, m.receiveCount),
      el('td', {}, m.groupId || ''),
      el('td', { class: 'body' }, m.body))];
    if (open.has(m.messageId)) {
      const attrs = Object.entries(m.messageAttributes || {}).map(([k, v]) => `${k} (${v.DataType}) = ${v.StringValue !== undefined ? v.StringValue : v.BinaryValue}`);
      rows.push(el('tr', { class: 'detail', 'data-id': m.messageId }, el('td', { colspan: 7 },
        el('div', { class: 'inline' },
          el('button', { class: 'secondary msg-copy', type: 'button', onclick: () => copyJSON(m) }, 'Copy as JSON'),
          el('button', { class: 'danger msg-delete', type: 'button', onclick: (ev) => {
            const b = ev.currentTarget;
            if (b.dataset.armed) { messageAction('delete', [m.messageId]); return; }
            b.dataset.armed = '1'; b.textContent = 'Click again to delete ' + m.messageId;
          } }, 'Delete message…')),
        el('h3', {}, 'Body'), el('pre', {}, m.body),
        el('h3', {}, 'Message attributes'), el('pre', {}, attrs.length ? attrs.join('\n') : '(none)'),
        el('h3', {}, 'System attributes'), el('pre', {}, Object.entries(m.attributes).map(([k, v]) => k + ' = ' + v).join('\n')),
        m.visibleTimestamp ? el('p', { class: 'muted' }, 'Visible again at ', when(m.visibleTimestamp)) : null)));
    }
    return rows;
  }

  function showActions() {
    actions.hidden = selected.size === 0;
    selCount.textContent = `${selected.size} selected`;
  }

  let lastMessages = [];
  // renderMessages replaces the rows in place: the table keeps its place
  // on the page (its height is held while rows are rebuilt) so that a live
  // reload does not make the page jump.
  function renderMessages(ms) {
    lastMessages = ms;
    const table = msgBody.parentNode;
    if (table && table.offsetHeight) table.style.minHeight = table.offsetHeight + 'px';
    if (!ms.length) {
      const filtered = Object.values(filter).some((v) => v);
      msgBody.replaceChildren(el('tr', {}, el('td', { colspan: 7, class: 'empty' }, filtered ? 'No message matches the filter.' : 'The queue is empty.')));
    } else msgBody.replaceChildren(...ms.flatMap(messageRows));
    if (table) requestAnimationFrame(() => { table.style.minHeight = ''; });
    showActions();
  }

  function messagesQuery(more) {
    const q = new URLSearchParams({ max: '25' });
    for (const [k, v] of Object.entries(filter)) if (v) q.set(k, v);
    if (more && next) q.set('cursor', next);
    return q.toString();
  }

  async function loadMessages(more) {
    if (loading) return;
    loading = true;
    try {
      const res = await api('GET', `/queues/${enc}/messages?` + messagesQuery(more));
      paged = more;
      renderMessages(more ? lastMessages.concat(res.messages) : res.messages);
      next = res.cursor || '';
      moreButton.hidden = !next;
      changedHint.hidden = true;
      scanInfo.textContent = Object.values(filter).some((v) => v)
        ? `${fmtInt(lastMessages.length)} matching so far` + (next ? ' (the queue goes on: load more to look further)' : '')
        : '';
    } catch (e) {
      if (more) { notice(e.message + ' Reloading from the start.', true); paged = false; next = ''; }
      else notice(e.message, true);
    }
    loading = false;
  }

  // A message link (#/queues/KEY/messages/ID) opens that message: it is
  // found by id wherever it is in the queue.
  async function openLinked(id) {
    try {
      // Each call looks at up to 100,000 messages: go on from its cursor
      // to the end of the queue.
      let res = null, cursor = '';
      do {
        res = await api('GET', `/queues/${enc}/messages?max=1&id=` + encodeURIComponent(id) + (cursor ? '&cursor=' + cursor : ''));
        cursor = res.cursor || '';
      } while (!res.messages.length && cursor);
      if (!res.messages.length) { notice(`Message ${id} is not in ${name} (any more).`, true); return; }
      open.add(id);
      const rest = lastMessages.filter((m) => m.messageId !== id);
      renderMessages([res.messages[0], ...rest]);
      const row = msgBody.querySelector(`tr.msg[data-id="${CSS.escape(id)}"]`);
      if (row) row.scrollIntoView({ block: 'center' });
    } catch (e) { notice(e.message, true); }
  }

  function update(data) {
    const q = data.queue;
    const first = current === null;
    current = q;
    document.getElementById('queue-type').textContent = q.fifo ? 'FIFO' : 'standard';
    fifoFields.hidden = !q.fifo;
    delayField.hidden = q.fifo;
    cards.replaceChildren(
      card('stat-visible', 'visible', fmtInt(q.visible)),
      card('stat-inflight', 'in flight', fmtInt(q.inflight)),
      card('stat-delayed', 'delayed', fmtInt(q.delayed)),
      card('stat-oldest', 'oldest message', fmtAge(q.oldestAgeSeconds)),
      card('stat-send', 'sent/s', fmtRate(q.rates.send)),
      card('stat-receive', 'received/s', fmtRate(q.rates.receive)),
      card('stat-delete', 'deleted/s', fmtRate(q.rates.delete)),
      card('stat-total', 'sent · received · deleted · dead-lettered since start',
        `${fmtInt(q.sent)} · ${fmtInt(q.received)} · ${fmtInt(q.deleted)} · ${fmtInt(q.deadLettered)}`));
    lineChart(rateChart, q.history.slice(1), ['send', 'receive', 'delete'], { axis: true, idleText: 'idle: nothing sent, received or deleted' });
    lineChart(depthChart, q.history, ['visible', 'inflight', 'delayed'], { axis: true, format: fmtInt, idleText: 'empty' });
    startedNote.replaceChildren('Counted since the server started at ', when(data.startedTimestamp),
      '; counters are not kept across restarts.');
    wiringBox.replaceChildren(wiring(q, false));
    settings.update(q);
    redrivePanel.hidden = q.deadLetterSources.length === 0 && q.moveTasks.length === 0;
    if (!redrivePanel.hidden) {
      const options = [el('option', { value: '' }, 'each message\'s original source queue')]
        .concat(q.deadLetterSources.map((s) => el('option', { value: s.arn }, s.name)));
      if (dest.options.length !== options.length) {
        const keep = dest.value;
        dest.replaceChildren(...options);
        dest.value = keep;
      }
      renderTasks(q.moveTasks);
      startButton.disabled = q.moveTasks.some((t) => t.status === 'RUNNING' || t.status === 'CANCELLING');
    }
    // Keep the message list live while the user looks at its first page.
    const sig = [q.visible, q.inflight, q.delayed, q.sent, q.received, q.deleted, q.deadLettered].join(',');
    if (first) {
      loadMessages(false).then(() => { if (route.messageId) openLinked(route.messageId); });
    } else if (sig !== signature) {
      // Follow the queue while the user looks at the first page and has
      // nothing selected or open; otherwise say it changed.
      if (follow.checked && !paged && selected.size === 0 && open.size === 0) loadMessages(false);
      else changedHint.hidden = false;
    }
    signature = sig;

  }

  // The queues the selected messages can move to: every other queue,
  // this queue's dead-letter sources first.
  function queues(data) {
    const src = new Set(current ? current.deadLetterSources.map((s) => s.key) : []);
    const keys = data.queues.map((q) => q.key).filter((k) => k !== name)
      .sort((a, b) => (src.has(b) - src.has(a)) || (a < b ? -1 : a > b ? 1 : 0));
    const sig = keys.join(' ') + '|' + [...src].join(' ');
    if (moveDest.dataset.sig === sig) return;
    moveDest.dataset.sig = sig;
    const keep = moveDest.value;
    moveDest.replaceChildren(el('option', { value: '' }, 'choose a queue'),
      ...keys.map((k) => el('option', { value: k }, src.has(k) ? k + ' (dead-letter source)' : k)));
    moveDest.value = keep;
  }

  return { queue: update, queues };
}

// ---- keyboard ----

const SHORTCUTS = [
  ['j / k', 'next / previous queue or message'],
  ['Enter or o', 'open the queue, or show the message'],
  ['x', 'select the message'],
  ['/', 'filter the queues or messages'],
  ['r', 'reload the messages'],
  ['g q', 'go to the queue list'],
  ['g s', 'go to the server page'],
  ['?', 'show these shortcuts'],
  ['Esc', 'leave a field, close this help'],
];

function keyRows() {
  return [...document.querySelectorAll('#queues tbody tr[data-queue]:not([hidden]), #messages tbody tr.msg')];
}

let pendingG = false;
function onKey(ev) {
  const t = ev.target;
  const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
  const help = document.getElementById('shortcuts');
  if (ev.key === 'Escape') {
    if (typing) t.blur();
    help.hidden = true;
    return;
  }
  if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (pendingG) {
    pendingG = false;
    if (ev.key === 'q') { location.hash = '#/'; ev.preventDefault(); }
    if (ev.key === 's') { location.hash = '#/server'; ev.preventDefault(); }
    return;
  }
  const rows = keyRows();
  const cur = rows.findIndex((r) => r.classList.contains('kbd'));
  const focus = (i) => {
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r) => r.classList.remove('kbd'));
    rows[i].classList.add('kbd');
    rows[i].scrollIntoView({ block: 'nearest' });
  };
  switch (ev.key) {
    case 'j': focus(cur + 1); break;
    case 'k': focus(cur < 0 ? 0 : cur - 1); break;
    case 'Enter': case 'o':
      if (cur < 0) return;
      if (rows[cur].dataset.queue) location.hash = '#/queues/' + encodeURIComponent(rows[cur].dataset.queue);
      else rows[cur].querySelector('td.body').click();
      break;
    case 'x': if (cur >= 0 && rows[cur].querySelector('input.sel')) rows[cur].querySelector('input.sel').click(); break;
    case '/': { const f = document.querySelector('#filter-text, #queue-filter'); if (f) f.focus(); break; }
    case 'r': { const b = document.getElementById('refresh-messages'); if (b) b.click(); break; }
    case 'g': pendingG = true; break;
    case '?': help.hidden = !help.hidden; break;
    default: return;
  }
  ev.preventDefault();
}

function shortcutsHelp() {
  const help = el('div', { id: 'shortcuts', hidden: true, role: 'dialog', 'aria-label': 'Keyboard shortcuts' },
    el('h3', {}, 'Keyboard shortcuts'),
    el('dl', { class: 'kv' }, SHORTCUTS.map(([k, v]) => [el('dt', {}, el('kbd', {}, k)), el('dd', {}, v)])),
    el('button', { class: 'secondary', type: 'button', onclick: () => { help.hidden = true; } }, 'Close'));
  document.body.append(help);
}

shortcutsHelp();
document.addEventListener('keydown', onKey);
window.addEventListener('hashchange', (ev) => {
  // A change of the filter or the open message within the same queue is
  // made with replaceState and fires nothing; a hash typed or followed
  // rebuilds the view.
  navigate();
});
navigate();
