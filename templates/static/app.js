// cdt field app: records are saved to an IndexedDB queue first, with their
// client_id, and sent to the server in batches whenever it can be reached. The
// server stores each client_id once, so sending a record again is harmless.
(() => {
  'use strict';
  const $ = (s) => document.querySelector(s);
  const T = JSON.parse(($('#cdt-i18n') || {}).textContent || '{}');
  const t = (k, n) => (T[k] || k).replace('{{.N}}', n);
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';

  // ---- IndexedDB queue ----
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

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // ---- state shown on the page (tests read window.cdt) ----
  const state = {pending: 0, rejected: 0, busy: false, status: '', sent: 0};
  window.cdt = state;

  async function render() {
    const items = await all();
    const pending = items.filter((i) => i.state === 'pending');
    const rejected = items.filter((i) => i.state === 'rejected');
    state.pending = pending.length;
    state.rejected = rejected.length;
    const box = $('#queue');
    if (!box) return;
    box.hidden = items.length === 0 && !state.status;
    $('#queue-count').textContent = String(pending.length);
    $('#queue-label').textContent = pending.length ? t('app.queue_pending') : t('app.queue_none');
    $('#queue-status').textContent = state.status;
    const list = $('#queue-rejected');
    list.replaceChildren(...rejected.map((i) => {
      const li = document.createElement('li');
      li.className = 'rejected';
      const head = document.createElement('b');
      head.textContent = t('app.queue_rejected');
      const why = document.createElement('div');
      why.className = 'small';
      why.textContent = (i.details && i.details.length ? i.details.map((d) => d.message).join(' ') : i.error) || '';
      const fix = document.createElement('button');
      fix.type = 'button'; fix.className = 'btn secondary'; fix.textContent = t('app.fix');
      fix.onclick = () => edit(i);
      const drop = document.createElement('button');
      drop.type = 'button'; drop.className = 'btn secondary'; drop.textContent = t('app.discard');
      drop.onclick = async () => { await del(i.client_id); render(); };
      li.append(head, why, fix, drop);
      return li;
    }));
  }

  // ---- sync: one at a time, batches of at most 500 ----
  let syncing = null;
  function sync() {
    if (!syncing) {
      syncing = doSync().catch(() => { state.status = t('app.sync_error'); })
        .finally(() => { syncing = null; state.busy = false; render(); });
    }
    return syncing;
  }
  async function doSync() {
    const pending = (await all()).filter((i) => i.state === 'pending');
    if (!pending.length) return;
    state.busy = true;
    state.status = t('app.syncing');
    render();
    for (let i = 0; i < pending.length; i += 500) {
      const chunk = pending.slice(i, i + 500);
      const now = new Date().toISOString();
      let resp;
      try {
        resp = await fetch('/app/api/assistance/batch', {
          method: 'POST', credentials: 'same-origin',
          headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf, 'X-Device-Time': now},
          body: JSON.stringify({records: chunk.map((c) => c.record), sent_at: now}),
        });
      } catch (e) {
        state.status = t('app.sync_offline');
        return;
      }
      if (resp.status === 401 || resp.status === 403) { state.status = t('app.sync_login'); return; }
      if (!resp.ok) { state.status = t('app.sync_error'); return; }
      const body = await resp.json();
      for (const r of body.results || []) {
        const item = chunk.find((c) => c.client_id === r.client_id);
        if (!item) continue;
        if (r.status === 'created' || r.status === 'duplicate') {
          await del(item.client_id);
          state.sent++;
          const today = $('#count-today');
          if (today && r.status === 'created' && new Date(item.record.occurred_at).toDateString() === new Date().toDateString()) {
            today.textContent = String(Number(today.textContent) + 1);
          }
        } else if (r.status === 'invalid') {
          item.state = 'rejected';
          item.error = r.error && r.error.message;
          item.details = r.error && r.error.details;
          await put(item);
        }
      }
    }
    state.status = t('app.sync_done');
  }

  // ---- the log form ----
  const form = $('#log');
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
    form.dataset.editing = item.client_id;
    form.scrollIntoView();
  }
  if (form) {
    const last = localStorage.getItem('cdt.lastService');
    if (last && !form.querySelector('input[name="service"]:checked')) {
      const r = form.querySelector(`input[name="service"][value="${last}"]`);
      if (r) r.checked = true;
    }
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (state.busy && form.dataset.saving) return;
      form.dataset.saving = '1';
      const f = new FormData(form);
      const record = {
        client_id: form.dataset.editing || uuid(),
        service: f.get('service') || '',
        household_ref: String(f.get('household_ref') || '').trim(),
        village_code: f.get('village_code') || '',
        occurred_at: new Date().toISOString(),
        outcome: f.get('outcome') || '',
        citizen_gender: f.get('citizen_gender') || '',
        citizen_age_group: f.get('citizen_age_group') || '',
        place: f.get('place') || '',
        note: String(f.get('note') || '').trim(),
      };
      if (form.dataset.editing) {
        const old = (await all()).find((i) => i.client_id === form.dataset.editing);
        if (old) record.occurred_at = old.record.occurred_at; // a fix keeps when the help happened
      }
      await put({client_id: record.client_id, record, state: 'pending', saved: Date.now()});
      delete form.dataset.editing;
      localStorage.setItem('cdt.lastService', record.service);
      form.elements.household_ref.value = '';
      form.elements.note.value = '';
      const saved = $('#saved');
      saved.textContent = navigator.onLine ? t('app.saved') : t('app.saved_offline');
      saved.hidden = false;
      delete form.dataset.saving;
      await render();
      sync();
      form.elements.household_ref.focus();
    });
  }

  const now = $('#sync-now');
  if (now) now.addEventListener('click', () => sync());
  window.addEventListener('online', () => sync());
  setInterval(() => { if (state.pending && navigator.onLine) sync(); }, 20000);

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/app/sw.js', {scope: '/app'}).catch(() => {});
  }
  render().then(() => { if (location.hash && form) all().then((items) => { const i = items.find((x) => '#' + x.client_id === location.hash); if (i) edit(i); }); sync(); });
})();
