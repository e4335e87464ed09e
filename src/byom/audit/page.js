// JavaScript the audit evaluates in the audited page (see byom/audit/js.py).
// Each section starts with a line `//@ NAME`; `/*PRELUDE*/` is replaced by the PRELUDE section.
// Nothing here uses eval or new Function, so a strict CSP does not block it.

//@ PRELUDE
const DIALOGS = 'dialog[open], [role=dialog], [role=alertdialog], [aria-modal=true]';
function vis(el) {
  if (!el || el.nodeType !== 1 || !el.isConnected) return false;
  if (el.checkVisibility && !el.checkVisibility({contentVisibilityAuto: true, opacityProperty: true,
      visibilityProperty: true, checkOpacity: true, checkVisibilityCSS: true})) return false;
  const r = el.getBoundingClientRect();
  if (r.width < 2 || r.height < 2) return false;
  if (r.right + scrollX <= 0 || r.bottom + scrollY <= 0) return false;
  for (let a = el; a && a.nodeType === 1; a = a.parentElement) {
    const s = getComputedStyle(a);
    if ((s.position === 'absolute' || s.position === 'fixed') && s.clip && s.clip !== 'auto') {
      const m = /rect\(\s*(-?[\d.]+)px,?\s*(-?[\d.]+)px,?\s*(-?[\d.]+)px,?\s*(-?[\d.]+)px/.exec(s.clip);
      if (m && (+m[2] - +m[4] < 2 || +m[3] - +m[1] < 2)) return false;
    }
    if (s.clipPath && /inset\(\s*(4[5-9]|[5-9]\d|100)(\.\d+)?%/.test(s.clipPath)) return false;
    if (a !== el && (s.overflowX !== 'visible' || s.overflowY !== 'visible')) {
      const ar = a.getBoundingClientRect();
      if (ar.width < 2 || ar.height < 2) return false;
      const scrolls = /auto|scroll/.test(s.overflowX + s.overflowY);
      if (!scrolls && (r.right <= ar.left || r.left >= ar.right || r.bottom <= ar.top || r.top >= ar.bottom)) return false;
    }
  }
  return true;
}
function rgba(c) {
  const m = /rgba?\(([^)]+)\)/.exec(c || '');
  if (!m) return null;
  const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function background(el) {
  for (let a = el; a && a.nodeType === 1; a = a.parentElement) {
    const c = rgba(getComputedStyle(a).backgroundColor);
    if (c && c[3] > 0.9) return c;
  }
  return [255, 255, 255, 1];
}
function textVisible(node) {
  const el = node.parentElement;
  if (!el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'OPTION', 'TITLE'].includes(el.tagName)) return false;
  if (!vis(el)) return false;
  const s = getComputedStyle(el);
  if (parseFloat(s.fontSize) < 6) return false;
  const c = rgba(s.color);
  if (c && c[3] < 0.1) return false;
  const bg = background(el);
  if (c && Math.abs(c[0] - bg[0]) + Math.abs(c[1] - bg[1]) + Math.abs(c[2] - bg[2]) < 24) return false;
  const range = document.createRange();
  range.selectNodeContents(node);
  return [...range.getClientRects()].some(r => r.width >= 2 && r.height >= 2 &&
    r.right + scrollX > 0 && r.bottom + scrollY > 0);
}
function squash(t) { return (t || '').replace(/\s+/g, ' ').trim(); }
// Words as the word lists match them: accents dropped, hyphens and underscores as spaces
// ("model-toegang" matches "model toegang", "Bevestig sleutel" matches "bevestig").
function norm(t) {
  return squash((t || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[-_\u2010-\u2014]+/g, ' '));
}
function label(el) {
  const parts = [];
  if (el.labels) for (const l of el.labels) parts.push(l.innerText);
  const lb = el.getAttribute('aria-labelledby');
  if (lb) for (const id of lb.split(/\s+/)) { const t = document.getElementById(id); if (t) parts.push(t.innerText); }
  for (const a of ['aria-label', 'title', 'alt']) { const v = el.getAttribute(a); if (v) parts.push(v); }
  if (!['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)) parts.push(el.innerText);
  else if (['submit', 'button'].includes(el.type)) parts.push(el.value);
  const shown = squash(parts.join(' '));
  const extra = ['placeholder', 'name', 'id'].map(a => el.getAttribute(a) || '').join(' ');
  return norm(shown + ' ' + extra);
}
function display(el) {
  const t = label(el);
  const shown = squash([...(el.labels || [])].map(l => l.innerText).join(' ') ||
    el.getAttribute('aria-label') || (['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) ? '' : el.innerText) ||
    el.getAttribute('placeholder') || '');
  return shown || t;
}
function enabled(el) { return !el.disabled && el.getAttribute('aria-disabled') !== 'true' && !el.closest('[inert]'); }
function topDialog() {
  const ds = [...document.querySelectorAll(DIALOGS)].filter(vis);
  return ds.length ? ds[ds.length - 1] : null;
}
function buttons(root) {
  return [...root.querySelectorAll('button, [role=button], input[type=submit], input[type=button]')]
    .filter(b => vis(b) && enabled(b));
}
function mark(el, tag) {
  for (const old of document.querySelectorAll('[data-byom-audit="' + tag + '"]')) old.removeAttribute('data-byom-audit');
  if (el) el.setAttribute('data-byom-audit', tag);
  return el ? {tag: tag, text: display(el).slice(0, 120), html: el.outerHTML.slice(0, 200)} : null;
}
function bySelector(sel) {
  if (!sel) return null;
  let all;
  try { all = [...document.querySelectorAll(sel)]; } catch (e) { return null; }
  return all.find(vis) || null;
}
function nearestButton(from, include, exclude) {
  for (let a = from.parentElement; a; a = a.parentElement) {
    const found = buttons(a).filter(b => b !== from && include.test(label(b)) && !exclude.test(label(b)));
    if (found.length) return found[0];
    if (a.matches(DIALOGS) || a === document.body) break;
  }
  return null;
}

//@ INIT_SCRIPT
(() => {
  if (window.__byomAuditQuiet) return;
  const s = {last: Date.now(), count: 0};
  Object.defineProperty(window, '__byomAuditQuiet', {value: s});
  new MutationObserver(() => { s.last = Date.now(); s.count++; })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();

//@ QUIET
() => { const s = window.__byomAuditQuiet; return s ? [s.count, Date.now() - s.last] : [0, 1e9]; }

//@ FIND_KEY
(arg) => {
  /*PRELUDE*/
  const byCfg = bySelector(arg.selector);
  if (arg.selector) return mark(byCfg, 'key');
  const re = new RegExp(arg.keyWords, 'i');
  const skip = ['checkbox', 'radio', 'hidden', 'submit', 'button', 'range', 'color', 'file', 'number', 'email', 'search', 'url', 'tel', 'date'];
  let best = null, bestScore = 1;
  for (const el of document.querySelectorAll('input, textarea')) {
    if (skip.includes(el.type) || !vis(el) || el.disabled || el.readOnly) continue;
    let score = 0;
    if (el.type === 'password') score += 3;
    if (/password/i.test(el.getAttribute('autocomplete') || '')) score += 2;
    if (re.test(label(el))) score += 2;
    if (/sk-|key|sleutel/i.test(el.getAttribute('placeholder') || '')) score += 1;
    if (score > bestScore) { best = el; bestScore = score; }
  }
  return mark(best, 'key');
}

//@ FIND_FEATURES
(arg) => {
  /*PRELUDE*/
  let found = [];
  if (arg.selector) {
    try { found = [...document.querySelectorAll(arg.selector)].filter(vis); } catch (e) { found = []; }
  } else {
    const yes = new RegExp(arg.feature, 'i'), no = new RegExp(arg.not, 'i');
    const scored = [];
    const top = topDialog();
    const modal = top && (top.matches(':modal') || top.getAttribute('aria-modal') === 'true');
    for (const b of buttons(modal ? top : document)) {
      if (b.closest('[data-byom-audit-wizard]') || b.closest('[data-byom-audit-skip]')) continue;
      const text = label(b);
      if (no.test(text)) continue;
      let score = 0;
      if (b.hasAttribute('data-byom-feature') || b.hasAttribute('data-feature')) score += 5;
      if (yes.test(text)) score += 3;
      const typed = (box) => !!box && [...box.querySelectorAll('textarea, input[type=text], input:not([type])')]
        .some(el => vis(el) && enabled(el) && !el.readOnly);
      if (typed(b.form)) score += 3;  // a feature that takes typed input: the canary prompt fits
      else if (typed(b.closest('fieldset, section, article, main'))) score += 1;
      if (score > 0) scored.push([score, b]);
    }
    scored.sort((a, b) => b[0] - a[0]);
    found = scored.map(x => x[1]);
  }
  const enabledOnes = found.filter(enabled);
  const one = mark(found[0] || null, 'feature');
  const two = mark(found.length > 1 ? found[1] : null, 'feature2');
  return {first: one, second: two, count: found.length, enabled: enabledOnes.length};
}

//@ FIND_FEATURE_INPUT
(arg) => {
  /*PRELUDE*/
  if (arg.selector) return mark(bySelector(arg.selector), 'feature-input');
  const control = document.querySelector('[data-byom-audit="feature"]');
  const cands = [...document.querySelectorAll('textarea, input[type=text], input:not([type])')]
    .filter(el => vis(el) && enabled(el) && !el.readOnly && !el.closest(DIALOGS) && el.getAttribute('data-byom-audit') !== 'key');
  let best = null;
  if (control && control.form) best = cands.find(el => el.form === control.form) || null;
  if (control) {
    for (let a = control.parentElement; a && !best; a = a.parentElement) {
      best = cands.find(el => a.contains(el) && el.tagName === 'TEXTAREA') || cands.find(el => a.contains(el)) || null;
    }
  }
  best = best || cands.find(el => el.tagName === 'TEXTAREA') || null;
  return mark(best, 'feature-input');
}

//@ FIND_BUTTON
(arg) => {
  /*PRELUDE*/
  if (arg.selector) return mark(bySelector(arg.selector), arg.tag);
  const yes = new RegExp(arg.words, 'i'), no = arg.not ? new RegExp(arg.not, 'i') : null;
  const scope = arg.scope === 'page' ? document : (topDialog() || document);
  const outside = arg.outsideDialogs;
  const found = buttons(scope).filter(b => yes.test(label(b)) && !(no && no.test(label(b))) && !(outside && b.closest(DIALOGS)));
  return mark(found[0] || null, arg.tag);
}

//@ FIND_KEY_SUBMIT
(arg) => {
  /*PRELUDE*/
  if (arg.selector) return mark(bySelector(arg.selector), 'key-submit');
  const key = document.querySelector('[data-byom-audit="key"]');
  if (!key) return null;
  const form = key.form;
  const yes = new RegExp(arg.words, 'i'), no = new RegExp(arg.not, 'i');
  if (form) {
    const b = buttons(form).find(b => !no.test(label(b)) && (b.type === 'submit' || yes.test(label(b))));
    if (b) return mark(b, 'key-submit');
  }
  return mark(nearestButton(key, yes, no), 'key-submit');
}

//@ FIND_FIELD
(arg) => {
  /*PRELUDE*/
  if (arg.selector) {
    const el = bySelector(arg.selector);
    const m = mark(el, arg.tag);
    if (m) { m.checked = !!el.checked; }
    return m;
  }
  const re = new RegExp(arg.words, 'i');
  const scope = topDialog() || document;
  let best = null, bestScore = 1;
  const sel = arg.kind === 'checkbox' ? 'input[type=checkbox], [role=switch], [role=checkbox]'
    : 'input[type=text], input[type=number], input:not([type]), input[inputmode=decimal], input[inputmode=numeric]';
  for (const el of scope.querySelectorAll(sel)) {
    if (el.getAttribute('data-byom-audit') === 'key' || el.getAttribute('data-byom-audit') === 'feature-input') continue;
    if (!enabled(el)) continue;
    let shown = vis(el);
    if (!shown && el.labels) shown = [...el.labels].some(vis);  // styled checkboxes hide the box
    if (!shown) continue;
    let score = 0;
    if (re.test(label(el))) score += 3;
    if (arg.kind !== 'checkbox' && (el.type === 'number' || /decimal|numeric/.test(el.inputMode))) score += 1;
    const box = el.closest('section, fieldset, form, [role=group]');
    if (box && re.test(norm(box.innerText).slice(0, 400))) score += 2;
    if (score > bestScore) { best = el; bestScore = score; }
  }
  const m = mark(best, arg.tag);
  if (m) { m.checked = best.checked === true || best.getAttribute('aria-checked') === 'true'; }
  return m;
}

//@ FIND_NEAR_ALLOWANCE
(arg) => {
  /*PRELUDE*/
  if (arg.selector) return mark(bySelector(arg.selector), 'allowance-save');
  const input = document.querySelector('[data-byom-audit="allowance"]');
  if (!input) return null;
  return mark(nearestButton(input, new RegExp(arg.words, 'i'), new RegExp(arg.not, 'i')), 'allowance-save');
}

//@ VISIBLE_KEY
() => {
  /*PRELUDE*/
  const el = document.querySelector('[data-byom-audit="key"]');
  return !!(el && vis(el));
}

//@ MARK_WIZARD
(arg) => {
  /*PRELUDE*/
  // The connect wizard is the dialog that holds the key input (or the configured close_wizard
  // control): only that one may be closed after connecting; every other dialog is the app's.
  let d = null;
  const key = document.querySelector('[data-byom-audit="key"]');
  if (key) d = key.closest(DIALOGS);
  if (!d && arg.close) { const c = bySelector(arg.close); if (c) d = c.closest(DIALOGS); }
  if (!d) return null;
  d.setAttribute('data-byom-audit-wizard', '1');
  const h = d.querySelector('h1, h2, h3, [id]');
  return {id: d.id || null, heading: h ? squash(h.innerText).slice(0, 120) : null};
}

//@ WIZARD_OPEN
(arg) => {
  /*PRELUDE*/
  if ([...document.querySelectorAll('[data-byom-audit-wizard]')].some(vis)) return true;
  if (arg.close && bySelector(arg.close)) return true;
  const top = topDialog();
  if (!top || !arg.sig) return false;
  if (arg.sig.id && top.id === arg.sig.id) return true;
  const h = top.querySelector('h1, h2, h3, [id]');
  return !!(arg.sig.heading && h && squash(h.innerText).slice(0, 120) === arg.sig.heading);
}

//@ DIALOG_OPEN
() => {
  /*PRELUDE*/
  return !!topDialog(); }

//@ SNAPSHOT
(arg) => {
  /*PRELUDE*/
  const key = arg.stopAtKey ? document.querySelector('[data-byom-audit="key"]') : null;
  const scope = (key && key.closest(DIALOGS)) || topDialog() || document.body;
  const before = (node) => !key || !!(node.compareDocumentPosition(key) & Node.DOCUMENT_POSITION_FOLLOWING);
  const shown = new Map(), hidden = new Map();
  const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = squash(n.nodeValue);
    if (!t || !before(n)) continue;
    const el = n.parentElement;
    if (!el || ['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT'].includes(el.tagName)) continue;
    const block = el.closest('p, li, h1, h2, h3, h4, h5, h6, label, td, th, dt, dd, legend, summary, figcaption, blockquote, section, article, div') || el;
    const into = textVisible(n) ? shown : hidden;
    if (!into.has(block)) into.set(block, {node: n, parts: []});
    into.get(block).parts.push(t);
  }
  const items = [], hiddenItems = [];
  for (const [map, out] of [[shown, items], [hidden, hiddenItems]]) {
    for (const v of map.values()) out.push({kind: 'text', text: v.parts.join(' '), node: v.node});
  }
  for (const a of scope.querySelectorAll('a[href]')) {
    if (!before(a)) continue;
    (vis(a) ? items : hiddenItems).push({kind: 'link', text: display(a), href: a.href, node: a});
  }
  const order = (x, y) => x.node === y.node ? 0 : (x.node.compareDocumentPosition(y.node) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1);
  items.sort(order);
  hiddenItems.sort(order);
  const strip = (list) => list.map(x => ({kind: x.kind, text: x.text.slice(0, 600), href: x.href || null}));
  return {
    scope: scope === document.body ? 'page' : (scope.tagName.toLowerCase() + (scope.id ? '#' + scope.id : '')),
    items: strip(items), hidden: strip(hiddenItems),
  };
}

//@ RECONNECT_TEXT
(arg) => {
  /*PRELUDE*/
  if (arg.selector) { const el = bySelector(arg.selector); return el ? label(el).slice(0, 200) || 'shown' : null; }
  const re = new RegExp(arg.words, 'i');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = squash(n.nodeValue);
    if (t && re.test(norm(t)) && textVisible(n)) return t.slice(0, 200);
  }
  return null;
}

//@ BEFOREUNLOAD_PROBE
() => {
  const e = document.createEvent('BeforeUnloadEvent');
  e.initEvent('beforeunload', false, true);
  window.dispatchEvent(e);
  return {prevented: e.defaultPrevented, returnValue: String(e.returnValue || '')};
}

//@ STORAGE_SCAN
async (arg) => {
  const CAP = 4000000;
  const latin = (bytes) => { let s = ''; const n = Math.min(bytes.length, CAP);
    for (let i = 0; i < n; i += 8192) s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(n, i + 8192)));
    return s; };
  async function ser(v, depth) {
    try {
      if (v === null || v === undefined) return String(v);
      if (typeof v === 'string') return v;
      if (typeof v !== 'object') return String(v);
      if (v instanceof ArrayBuffer) return latin(new Uint8Array(v));
      if (ArrayBuffer.isView(v)) return latin(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      if (typeof Blob !== 'undefined' && v instanceof Blob) return latin(new Uint8Array(await v.slice(0, CAP).arrayBuffer()));
      if (v instanceof Date) return v.toISOString();
      if (depth > 8) return '';
      if (v instanceof Map) { const o = []; for (const [k, x] of v) o.push(await ser(k, depth + 1) + '=' + await ser(x, depth + 1)); return o.join(' '); }
      if (v instanceof Set || Array.isArray(v)) { const o = []; for (const x of v) o.push(await ser(x, depth + 1)); return o.join(' '); }
      const o = [];
      for (const k of Object.keys(v)) o.push(k + '=' + await ser(v[k], depth + 1));
      return o.join(' ');
    } catch (e) { return ''; }
  }
  const hits = [], inv = {localStorage: 0, sessionStorage: 0, indexedDB: 0, cacheStorage: 0, opfs: 0, cookies: 0, errors: []};
  function look(area, where, key, value) {
    for (const [lbl, needles] of Object.entries(arg.needles)) {
      for (const nd of needles) {
        for (const [part, text] of [['key', key], ['value', value]]) {
          const at = text.indexOf(nd);
          if (at >= 0) {
            hits.push({canary: lbl, area: area, where: where, entry: key.slice(0, 200), part: part,
              excerpt: text.slice(Math.max(0, at - 80), at + nd.length + 80), size: value.length});
            return;
          }
        }
      }
    }
  }
  for (const [name, st] of [['localStorage', window.localStorage], ['sessionStorage', window.sessionStorage]]) {
    try { for (let i = 0; i < st.length; i++) { const k = st.key(i); inv[name]++; look(name, name, k, st.getItem(k) || ''); } }
    catch (e) { inv.errors.push(name + ': ' + e); }
  }
  try { const c = document.cookie; if (c) { for (const p of c.split(';')) { inv.cookies++; const i = p.indexOf('='); look('cookies', 'document.cookie', p.slice(0, i).trim(), p.slice(i + 1)); } } }
  catch (e) { inv.errors.push('cookie: ' + e); }
  const req = (r) => new Promise((ok, bad) => { r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); });
  try {
    const dbs = indexedDB.databases ? await indexedDB.databases() : [];
    for (const info of dbs) {
      const db = await new Promise((ok, bad) => { const r = indexedDB.open(info.name);
        r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); r.onblocked = () => bad(new Error('blocked')); });
      try {
        for (const storeName of db.objectStoreNames) {
          const store = db.transaction(storeName, 'readonly').objectStore(storeName);
          const pk = req(store.getAllKeys()), pv = req(store.getAll());
          const keys = await pk, values = await pv;
          for (let i = 0; i < values.length; i++) {
            inv.indexedDB++;
            look('indexedDB', info.name + '/' + storeName, await ser(keys[i], 0), await ser(values[i], 0));
          }
        }
      } finally { db.close(); }
    }
  } catch (e) { inv.errors.push('indexedDB: ' + e); }
  try {
    if (self.caches) for (const name of await caches.keys()) {
      const c = await caches.open(name);
      for (const rq of await c.keys()) {
        inv.cacheStorage++;
        const res = await c.match(rq);
        let body = '';
        try { body = latin(new Uint8Array(await res.clone().arrayBuffer())); } catch (e) {}
        const heads = [...rq.headers].map(x => x.join(': ')).join('\n');
        look('cacheStorage', name, rq.url + '\n' + heads, body);
      }
    }
  } catch (e) { inv.errors.push('cacheStorage: ' + e); }
  try {
    if (navigator.storage && navigator.storage.getDirectory) {
      const walk = async (dir, prefix) => {
        for await (const [name, h] of dir.entries()) {
          if (h.kind === 'directory') { await walk(h, prefix + name + '/'); continue; }
          inv.opfs++;
          const f = await h.getFile();
          look('opfs', 'origin private file system', prefix + name, latin(new Uint8Array(await f.slice(0, CAP).arrayBuffer())));
        }
      };
      await walk(await navigator.storage.getDirectory(), '/');
    }
  } catch (e) { inv.errors.push('opfs: ' + e); }
  return {hits: hits, inventory: inv};
}

//@ DOM_SCRIPTS
() => [...document.scripts].map(s => ({
  src: s.src || null, integrity: s.integrity || null, type: s.type || 'text/javascript',
  inline: !s.src, length: s.src ? null : s.text.length, crossorigin: s.crossOrigin || null,
}))

//@ META_CSP
() => [...document.querySelectorAll('meta[http-equiv]')]
  .filter(m => m.httpEquiv.toLowerCase() === 'content-security-policy')
  .map(m => m.content)

//@ BYOM_CONFIG
// A byom-built page names its config (byom/config.json) on its kit script; its text, or null.
async () => {
  const s = document.querySelector('script[data-config]');
  if (!s) return null;
  try {
    const r = await fetch(new URL(s.dataset.config, document.baseURI), {cache: 'no-cache', credentials: 'omit'});
    return r.ok ? await r.text() : null;
  } catch (e) { return null; }
}

//@ READY
(sel) => { try { return !!document.querySelector(sel); } catch (e) { return false; } }
