// byom boot: starts Python (Pyodide, self-hosted) after the page has painted, loads the byom core
// and the app's Python into it, and connects them to the UI components (kit.js).
// First-party; no inline script, no eval. Python's stdout/stderr never reach the console.
"use strict";
(function () {
  const script = document.currentScript;
  const cfg = {
    pyodide: script.dataset.pyodide,
    zip: script.dataset.zip,
    zipIntegrity: script.dataset.zipIntegrity,
    snapshot: script.dataset.snapshot,
    snapshotIntegrity: script.dataset.snapshotIntegrity,
    config: script.dataset.config,
    module: script.dataset.module,
  };

  // ---- storage host for the Python store: IndexedDB rows + Web Locks ------------------------
  const DB_NAME = "byom";
  const ROWS = "rows";
  let dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        const req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () { req.result.createObjectStore(ROWS); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function range(appId) {
    return IDBKeyRange.bound(appId + "|", appId + "|\uffff");
  }
  const TAB_ID = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2)).replace(/-/g, "");
  if (navigator.locks) {
    navigator.locks.request("byom-tab:" + TAB_ID, { mode: "exclusive" }, function () {
      return new Promise(function () { /* held until the tab goes away */ });
    }).catch(function () { /* no locks: reservations stay "in flight" until cleared */ });
  }
  const host = {
    load: async function (appId) {
      const conn = await db();
      return new Promise(function (resolve, reject) {
        const out = {};
        const tx = conn.transaction(ROWS, "readonly");
        const req = tx.objectStore(ROWS).openCursor(range(appId));
        req.onsuccess = function () {
          const cursor = req.result;
          if (cursor) {
            out[String(cursor.key).slice(appId.length + 1)] = cursor.value;
            cursor.continue();
          }
        };
        tx.oncomplete = function () { resolve(JSON.stringify(out)); };
        tx.onerror = function () { reject(tx.error); };
      });
    },
    write: async function (appId, putsJson, deletesJson) {
      const puts = JSON.parse(putsJson);
      const deletes = JSON.parse(deletesJson);
      const conn = await db();
      return new Promise(function (resolve, reject) {
        const tx = conn.transaction(ROWS, "readwrite", { durability: "strict" });
        const store = tx.objectStore(ROWS);
        Object.keys(puts).forEach(function (k) { store.put(puts[k], appId + "|" + k); });
        deletes.forEach(function (k) { store.delete(appId + "|" + k); });
        tx.oncomplete = function () { resolve(); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    },
    lock: function (name) {
      if (!navigator.locks) {
        return Promise.reject(new Error("Web Locks are not available (not a secure context?)"));
      }
      return new Promise(function (resolve, reject) {
        navigator.locks.request(name, { mode: "exclusive" }, function () {
          return new Promise(function (release) { resolve(release); });
        }).catch(reject);
      });
    },
    // This tab's id: its reservations name it, and it holds the lock "byom-tab:<id>" while it
    // is open, so another tab can tell a closed tab's reservation from one still running.
    tab_id: TAB_ID,
    held: async function () {
      if (!navigator.locks || !navigator.locks.query) return "[]";
      const state = await navigator.locks.query();
      return JSON.stringify((state.held || []).map(function (l) { return l.name; }));
    },
    emit: function (json) {
      if (window.BYOM && window.BYOM._onEvent) window.BYOM._onEvent(JSON.parse(json));
    },
  };

  // ---- boot -----------------------------------------------------------------------------------
  const quiet = function () {};
  function progress(stage) {
    if (window.BYOM && window.BYOM._progress) window.BYOM._progress(stage);
  }

  // The build's memory snapshot (Python with the byom core imported, see byom/web/snapshot.py),
  // integrity-checked and gunzipped; null when there is none or it cannot be used here.
  async function snapshotBytes() {
    if (!cfg.snapshot || typeof DecompressionStream !== "function") return null;
    try {
      const response = await fetch(cfg.snapshot, { integrity: cfg.snapshotIntegrity });
      if (!response.ok) return null;
      const body = response.body.pipeThrough(new DecompressionStream("gzip"));
      return new Uint8Array(await new Response(body).arrayBuffer());
    } catch (error) {
      return null;
    }
  }

  // Restore the snapshot, or boot Python the ordinary way when there is none or it fails.
  async function startPython() {
    const options = { indexURL: cfg.pyodide, packages: [], stdout: quiet, stderr: quiet };
    const memory = await snapshotBytes();
    if (memory) {
      try {
        const restored = await window.loadPyodide(Object.assign({ _loadSnapshot: memory }, options));
        // The snapshot was made with fixed seeds: reseed from the browser's crypto. (Local time
        // needs nothing: localtime/mktime ask the browser's Date at every call.)
        restored.pyimport("random").seed();
        restored.pyimport("importlib").invalidate_caches();
        return { pyodide: restored, mode: "snapshot" };
      } catch (error) {
        // fall through to the ordinary boot
      }
    }
    return { pyodide: await window.loadPyodide(options), mode: "boot" };
  }

  async function boot() {
    const started = performance.now();
    progress("starting");
    const configPromise = fetch(cfg.config, { cache: "no-cache" }).then(function (r) {
      if (!r.ok) throw new Error("config");
      return r.text();
    });
    const zipPromise = fetch(cfg.zip, { integrity: cfg.zipIntegrity }).then(function (r) {
      if (!r.ok) throw new Error("python");
      return r.arrayBuffer();
    });
    const python = await startPython();
    const pyodide = python.pyodide;
    document.documentElement.dataset.byomBoot = python.mode;
    performance.mark("byom:pyodide");
    progress("python");
    pyodide.setStdout({ batched: quiet });
    pyodide.setStderr({ batched: quiet });
    pyodide.unpackArchive(await zipPromise, "zip", { extractDir: "/byom_site" });
    const sys = pyodide.pyimport("sys");
    if (!sys.path.toJs().includes("/byom_site")) sys.path.insert(0, "/byom_site");
    sys.dont_write_bytecode = true;
    const importlib = pyodide.pyimport("importlib");
    progress("app");
    const appModule = importlib.import_module(cfg.module);
    const shellModule = importlib.import_module("byom.web.browser.shell");
    performance.mark("byom:imported");
    const shell = await shellModule.start(appModule.app, host, await configPromise);
    window.BYOM._attach(shell, performance.now() - started);
  }

  function start() {
    boot().catch(function () {
      if (window.BYOM && window.BYOM._bootFailed) window.BYOM._bootFailed();
    });
  }
  // Let the free part of the page paint first (one frame), then start Python: its downloads and
  // WebAssembly compilation run off the main thread while the reader is already usable.
  requestAnimationFrame(function () { setTimeout(start, 0); });
})();
