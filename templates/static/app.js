// cdt field app: records are saved to an IndexedDB queue first, with their
// client_id and the member who logged them, and sent to the server in batches
// whenever it can be reached, only under that member's session. The server
// stores each client_id once, so sending a record again is harmless.
(() => {
  'use strict';
  const $ = (s) => document.querySelector(s);
  const meta = (n) => (document.querySelector(`meta[name="${n}"]`) || {}).content || '';
  const T = JSON.parse(($('#cdt-i18n') || {}).textContent || '{}');
  const t = (k, vars) => (T[k] || k).replace(/\{\{\.(\w+)\}\}/g, (m, name) => (vars && name in vars ? String(vars[name]) : m));
  const csrf = meta('csrf-token');
  const me = meta('cdt-member'); // the member signed in on this page ('' on the offline page)

  // ---- the server's household rule (domain.NormalizeHouseholdRef) ----
  // Both implementations run on domain/testdata/household_refs.json and on
  // random inputs in a Chromium test: keep them in step.
  const goSpace = (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0 || c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
  function phone(s) { // domain.NormalizePhone
    let d = '';
    for (const ch of s) {
      if (ch >= '0' && ch <= '9' && ch.length === 1) d += ch;
      else if (!(ch === ' ' || ch === '.' || ch === '-' || ch === '(' || ch === ')' || (ch === '+' && d === ''))) return null;
    }
    if (d.startsWith('84') && d.length === 11) d = '0' + d.slice(2);
    else if (d.startsWith('0084') && d.length === 13) d = '0' + d.slice(4);
    return d.length === 10 && d[0] === '0' && d[1] !== '0' ? d : null;
  }
  function normalize(s) {
    const p = phone(s);
    if (p) return p;
    const cs = [...s];
    let i = 0, j = cs.length;
    while (i < j && goSpace(cs[i].codePointAt(0))) i++;
    while (j > i && goSpace(cs[j - 1].codePointAt(0))) j--;
    let out = '';
    for (const ch of cs.slice(i, j)) {
      let u = ch.toUpperCase();
      if ([...u].length !== 1) u = ch; // Go upper-cases rune by rune: ß stays ß
      if (u.length === 1 && ((u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z'))) out += u;
      else if (!(u === ' ' || u === '.' || u === '-' || u === '/' || u === '+')) return null;
    }
    if (out.length < 6 || out.length > 20) return null;
    return phone(out) || out; // a number the separators hid counts as that number
  }
  window.cdtHousehold = {normalize};
  const mask = (ref) => '•••' + (normalize(ref) || String(ref).replace(/\D/g, '')).slice(-3);
  const zone = {timeZone: 'Asia/Ho_Chi_Minh'}; // days and times as Huế reads them
  const day = (d) => d.toLocaleDateString('vi-VN', {...zone, day: '2-digit', month: '2-digit', year: 'numeric'});
  const isToday = (iso) => day(new Date(iso)) === day(new Date());
  function when(iso) {
    const d = new Date(iso);
    const time = d.toLocaleTimeString('vi-VN', {...zone, hour: '2-digit', minute: '2-digit', hour12: false});
    return isToday(iso) ? time : `${time} ${d.toLocaleDateString('vi-VN', {...zone, day: '2-digit', month: '2-digit'})}`;
  }
  const what = (r) => ({Service: t('service.' + r.service), Ref: r.consent === 'refused' ? t('app.no_household') : mask(r.household_ref),
    Time: when(r.occurred_at)});

  // ---- IndexedDB queue: {client_id, member, record, state, error, details} ----
  const DB = 'cdt', STORE = 'queue';
  let dbp = null;
  function openDB() {
    if (!dbp) {
      dbp = new Promise((resolve, reject) => {
        const r = indexedDB.open(DB, 1);
        r.onupgradeneeded = () => r.result.createObjectStore(STORE, {keyPath: 'client_id'});
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    }
    return dbp;
  }
  async function store(mode, fn) {
    const db = await openDB();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req ? req.result : undefined);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  }
  const all = () => store('readonly', (s) => s.getAll());
  const put = (item) => store('readwrite', (s) => s.put(item));
  const del = (id) => store('readwrite', (s) => s.delete(id));
  const mine = async () => (await all()).filter((i) => me && i.member === me);

  // Records queued before the queue knew its members belong to the first
  // member who opens the app afterwards.
  async function adopt() {
    if (!me) return;
    for (const i of await all()) {
      if (!i.member) { i.member = me; await put(i); }
    }
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // ---- state shown on the page (tests read window.cdt) ----
  const state = {pending: 0, rejected: 0, others: 0, queued: 0, busy: false, status: '', sent: 0, saves: 0,
    unreachable: false, ready: false, linksChecked: false};
  window.cdt = state;

  function button(label, cls, onclick) {
    const b = document.createElement('button');
    b.type = 'button'; b.className = 'btn secondary ' + cls; b.textContent = label; b.onclick = onclick;
    return b;
  }

  async function render() {
    const items = await all();
    const own = items.filter((i) => me && i.member === me);
    const pending = own.filter((i) => i.state === 'pending');
    const rejected = own.filter((i) => i.state === 'rejected');
    Object.assign(state, {pending: pending.length, rejected: rejected.length, others: me ? items.length - own.length : 0,
      queued: items.length});
    const box = $('#queue');
    if (box) {
      box.hidden = own.length === 0 && !state.status && !state.others;
      $('#queue-count').textContent = String(pending.length);
      $('#queue-label').textContent = pending.length ? t('app.queue_pending') : t('app.queue_none');
      $('#queue-status').textContent = state.status;
      const others = $('#queue-others');
      others.hidden = !state.others;
      others.textContent = state.others ? t('app.queue_others', {N: state.others}) : '';
    }
    // Refused records: at the top of every screen, each named by what it was.
    const top = $('#rejected');
    if (!top) return;
    top.hidden = rejected.length === 0;
    $('#rejected-title').textContent = t('app.rejected_title', {N: rejected.length});
    $('#rejected-list').replaceChildren(...rejected.map((i) => {
      const li = document.createElement('li');
      const head = document.createElement('b');
      head.textContent = t('app.record_what', what(i.record));
      const why = document.createElement('div');
      why.className = 'small';
      why.textContent = (i.details && i.details.length ? i.details.map((d) => d.message).join(' ') : i.error) || '';
      li.append(head, why, button(t('app.fix'), 'fix', () => edit(i)),
        button(t('app.discard'), 'discard', async () => { await del(i.client_id); render(); }));
      return li;
    }));
  }

  // ---- sync: one at a time, the signed-in member's records only, batches of at most 500 ----
  let syncing = null;
  function sync() {
    if (!syncing) {
      syncing = doSync().catch(() => { state.status = t('app.sync_error'); })
        .finally(() => { syncing = null; state.busy = false; render(); checkLinks(); });
    }
    return syncing;
  }
  async function doSync() {
    const pending = (await mine()).filter((i) => i.state === 'pending');
    if (!pending.length) return;
    state.busy = true;
    state.status = t('app.syncing');
    render();
    let refused = 0;
    for (let i = 0; i < pending.length; i += 500) {
      const chunk = pending.slice(i, i + 500);
      const now = new Date().toISOString(); // the phone's time at sending: the server measures the phone's clock by it
      let resp;
      try {
        resp = await fetch('/app/api/assistance/batch', {
          method: 'POST', credentials: 'same-origin',
          headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf, 'X-Device-Time': now},
          body: JSON.stringify({member_id: me, records: chunk.map((c) => c.record), sent_at: now}),
        });
      } catch (e) {
        state.unreachable = true;
        state.status = t('app.sync_offline');
        return;
      }
      state.unreachable = false;
      if (resp.status === 401 || resp.status === 403) { state.status = t('app.sync_login'); return; }
      if (resp.status === 409) { state.status = t('app.sync_other_member'); return; }
      if (!resp.ok) { state.status = t('app.sync_error'); return; }
      const body = await resp.json();
      for (const r of body.results || []) {
        const item = chunk.find((c) => c.client_id === r.client_id);
        if (!item) continue;
        if (r.status === 'created' || r.status === 'duplicate') {
          await del(item.client_id);
          state.sent++;
          // The server removed phone numbers, ID numbers or e-mails from the note: say so.
          const scrubbed = r.record && (r.record.note || '') !== (item.record.note || '');
          if (item.client_id === lastSaved) showSaved(t('app.sent_what', what(item.record)) + (scrubbed ? ' ' + t('app.note_scrubbed') : ''));
          const today = $('#count-today');
          if (today && r.status === 'created' && isToday(item.record.occurred_at)) {
            today.textContent = String(Number(today.textContent) + 1);
          }
        } else if (r.status === 'invalid') {
          refused++;
          item.state = 'rejected';
          item.error = r.error && r.error.message;
          item.details = r.error && r.error.details;
          await put(item);
        }
      }
    }
    state.status = refused ? t('app.sync_rejected', {N: refused}) : t('app.sync_done');
  }

  // ---- the log form ----
  const form = $('#log');
  let lastSaved = '';
  function showSaved(text) {
    const saved = $('#saved');
    if (!saved) return;
    saved.textContent = text;
    saved.hidden = !text;
  }
  function consentError(msg) {
    const el = $('#consent-error');
    if (!el) return;
    el.textContent = msg;
    el.hidden = !msg;
  }
  // Consent refused: the household reference is not asked (nothing of it is kept).
  function consentChanged() {
    const refused = (form.querySelector('input[name="consent"]:checked') || {}).value === 'refused';
    const input = form.elements.household_ref;
    input.disabled = refused;
    if (refused) { input.value = ''; fieldError(''); }
    consentError('');
  }
  function fieldError(msg) {
    const el = $('#household_ref-error'), input = form.elements.household_ref;
    el.textContent = msg;
    el.hidden = !msg;
    input.classList.toggle('invalid', !!msg);
    if (msg) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
  }
  const optional = ['citizen_gender', 'citizen_age_group', 'place'];
  function edit(item) {
    if (!form) { location.href = '/app/log#' + item.client_id; return; }
    for (const [k, v] of Object.entries(item.record)) {
      const el = form.elements[k];
      if (!el || k === 'client_id') continue;
      if (el instanceof RadioNodeList || el.length) {
        for (const r of form.querySelectorAll(`[name="${k}"]`)) r.checked = r.value === v;
      } else {
        el.value = v;
      }
    }
    consentChanged();
    // What the member picked is shown, never kept out of sight.
    const details = form.querySelector('details');
    if (details) details.open = optional.some((k) => item.record[k]) || !!item.record.note;
    form.dataset.editing = item.client_id;
    form.scrollIntoView();
  }
  // After a save: the next citizen starts with no optional detail; the
  // service (shown) stays.
  function reset() {
    form.elements.household_ref.value = '';
    form.elements.note.value = '';
    // The next citizen is asked again: nothing preselected.
    for (const r of form.querySelectorAll('input[name="consent"]')) r.checked = false;
    consentChanged();
    for (const k of optional) for (const r of form.querySelectorAll(`[name="${k}"]`)) r.checked = false;
    const details = form.querySelector('details');
    if (details) details.open = false;
  }
  async function save() {
    const f = new FormData(form);
    const consent = String(f.get('consent') || '');
    if (!consent) { // the citizen is always asked
      consentError(t('app.need_consent'));
      showSaved('');
      form.querySelector('input[name="consent"]').focus();
      return;
    }
    const typed = consent === 'refused' ? '' : String(f.get('household_ref') || '');
    if (consent !== 'refused' && !normalize(typed)) { // the server's rule, before anything is queued
      fieldError(typed.trim() ? t('rule.household_ref') : t('app.need_household'));
      showSaved('');
      form.elements.household_ref.focus();
      return;
    }
    fieldError('');
    const record = {
      client_id: form.dataset.editing || uuid(),
      service: f.get('service') || '',
      household_ref: typed,
      village_code: f.get('village_code') || '',
      occurred_at: new Date().toISOString(),
      outcome: f.get('outcome') || '',
      citizen_gender: f.get('citizen_gender') || '',
      citizen_age_group: f.get('citizen_age_group') || '',
      place: f.get('place') || '',
      note: String(f.get('note') || '').trim(),
      consent,
    };
    if (form.dataset.editing) {
      const old = (await all()).find((i) => i.client_id === form.dataset.editing);
      if (old) record.occurred_at = old.record.occurred_at; // a fix keeps when the help happened
    }
    await put({client_id: record.client_id, member: me, record, state: 'pending', saved: Date.now()});
    delete form.dataset.editing;
    lastSaved = record.client_id;
    localStorage.setItem('cdt.lastService', record.service);
    reset();
    showSaved(t('app.saved_what', what(record)) + ' ' + (navigator.onLine && !state.unreachable ? t('app.saved') : t('app.saved_offline')));
    await render();
    sync();
    form.elements.household_ref.focus();
  }
  if (form) {
    const last = localStorage.getItem('cdt.lastService');
    if (last && !form.querySelector('input[name="service"]:checked')) {
      const r = form.querySelector(`input[name="service"][value="${last}"]`);
      if (r) r.checked = true;
    }
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (form.dataset.saving) return;
      form.dataset.saving = '1';
      try { await save(); } finally { delete form.dataset.saving; state.saves++; }
    });
    form.elements.household_ref.addEventListener('input', () => fieldError(''));
    for (const r of form.querySelectorAll('input[name="consent"]')) r.addEventListener('change', consentChanged);
    consentChanged();
  }

  // ---- offline: every link works from the service worker's cache or says it needs the network ----
  // The browser's word is not enough: with a weak signal it says online while
  // nothing gets through. A tiny request to the server settles it.
  const offline = () => !navigator.onLine || state.unreachable;
  async function probe() {
    if (!navigator.onLine) return;
    try {
      const r = await fetch('/healthz', {cache: 'no-store', signal: AbortSignal.timeout(4000)});
      state.unreachable = !r.ok;
    } catch (e) {
      state.unreachable = true;
    }
  }
  const targets = () => document.querySelectorAll('a[href], form:not(#log) button[type=submit]');
  async function works(el) {
    const a = el.tagName === 'A';
    const u = new URL(a ? el.href : el.form.action, location.href);
    if (u.origin !== location.origin || !u.pathname.startsWith('/app') || (!a && el.form.method !== 'get')) return false;
    return !!(window.caches && await caches.match(u.pathname + u.search));
  }
  async function checkLinks() {
    const off = offline();
    for (const el of targets()) {
      const ok = !off || await works(el);
      el.classList.toggle('offline-off', !ok);
      if (ok) el.removeAttribute('aria-disabled'); else el.setAttribute('aria-disabled', 'true');
    }
    // Questions about the member's records are answered online only.
    for (const el of document.querySelectorAll('[data-online-only]')) el.hidden = off;
    const note = $('#offline-note');
    if (note) {
      if (!off) note.textContent = '';
      else if (!note.textContent) note.textContent = t('app.offline_note');
      note.hidden = !off;
    }
    state.linksChecked = true;
  }
  document.addEventListener('click', (ev) => {
    const el = ev.target.closest && ev.target.closest('[aria-disabled="true"]');
    if (!el) return;
    ev.preventDefault();
    const note = $('#offline-note');
    if (note) { note.textContent = t('app.needs_network'); note.hidden = false; }
  }, true);
  // Signing out forgets the pages this phone keeps for the member.
  const logout = document.querySelector('form[action="/logout"]');
  if (logout) {
    logout.addEventListener('submit', async (ev) => {
      if (logout.dataset.forgotten) return;
      ev.preventDefault();
      try {
        for (const k of await caches.keys()) {
          if (!k.startsWith('cdt-')) continue;
          const c = await caches.open(k);
          for (const req of await c.keys()) {
            const p = new URL(req.url).pathname;
            if (p.startsWith('/app') && p !== '/app/offline' && p !== '/app/manifest.webmanifest') await c.delete(req);
          }
        }
      } catch (e) { /* no cache to forget */ }
      logout.dataset.forgotten = '1';
      logout.submit();
    });
  }

  const now = $('#sync-now');
  if (now) now.addEventListener('click', () => sync());
  window.addEventListener('online', () => { state.unreachable = false; checkLinks(); sync(); });
  window.addEventListener('offline', () => checkLinks());
  setInterval(() => { if (state.pending && navigator.onLine && !state.unreachable) sync(); }, 20000);
  // While the server cannot be reached, look again every few seconds: the
  // records go out soon after the signal is back.
  setInterval(async () => {
    if (!state.unreachable || !navigator.onLine) return;
    await probe();
    if (!state.unreachable) { checkLinks(); sync(); }
  }, 5000);

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/app/sw.js', {scope: '/app'}).catch(() => {});
  }
  adopt().then(render).then(async () => {
    if (location.hash && form) {
      const i = (await mine()).find((x) => '#' + x.client_id === location.hash);
      if (i) edit(i);
    }
    await probe();
    await checkLinks();
    state.ready = true;
    sync();
  });
})();
