// byom built-in model, in the page: wllama (llama.cpp in WebAssembly, self-hosted) running the
// built-in model, answering the Python side's requests to http://builtin.invalid/v1 without any
// network. Shipped only by sites built with `builtin = true`, and loaded only when the user picks
// the built-in model (kit.js inserts this script then; nothing of it runs on page load).
//
// - The model comes from the site itself, as raw byte parts (< 25 MB each) listed in
//   byom/config.json with their SHA-384; each part is checked before use, the parts are joined
//   into one Blob and kept in the origin-private file system (OPFS) under the model's SHA-256,
//   so a second visit loads from disk and makes no model request at all.
// - wllama's own loadModel() can hang for good when a worker or the wasm compile is refused:
//   it runs under our own timeout, which ends in a plain error.
// - Compat mode is off (setCompat(null)): it would fetch a CDN build the CSP blocks. Browsers
//   without WebAssembly Memory64 (Safari today) are told the model cannot run here.
// - Threads: 2 when the page is cross-origin isolated (COOP/COEP) and the device has 4 or more
//   logical cores, else 1. WebGPU layers when the browser has a usable WebGPU adapter.
//
// First-party; no inline script, no eval; nothing of the text is logged.
"use strict";
(function () {
  const LOAD_TIMEOUT_MS = 180000;
  const OPFS_DIR = "byom-builtin";
  const quietLogger = { debug: function () {}, log: function () {}, info: function () {}, warn: function () {}, error: function () {} };

  let config = null; // config.builtin from byom/config.json
  let wllama = null; // the loaded runtime
  let loading = null; // the promise of the load in progress
  let last = null; // the figures of the latest request (see respond)
  const listeners = new Set();
  const state = { phase: "idle", loaded: 0, total: 0, fromCache: false, threads: 0, gpu: false, error: null, timings: {} };

  function emit(patch) {
    Object.assign(state, patch);
    const copy = Object.assign({}, state);
    listeners.forEach(function (fn) { try { fn(copy); } catch (e) { /* a UI callback failing stays local */ } });
    document.documentElement.dataset.byomBuiltin = state.phase;
  }

  function plainError(message, code) {
    const error = new Error(message);
    error.byomCode = code;
    return error;
  }

  // Whether this browser can run the runtime without wllama's compat build.
  function supported() {
    try {
      new WebAssembly.Memory({ address: "i64", initial: 1n });
    } catch (e) {
      return false;
    }
    return typeof Worker === "function" && typeof Blob === "function";
  }

  function abs(url) { return new URL(url, document.baseURI).href; }

  // wllama's ES module, with Subresource Integrity: a modulepreload with the integrity fills the
  // module map, and import() of the same URL uses that checked copy.
  async function importWllama() {
    const url = abs(config.wllama.js);
    await new Promise(function (resolve, reject) {
      const link = document.createElement("link");
      link.rel = "modulepreload";
      link.href = url;
      link.integrity = config.wllama.js_integrity;
      link.onload = resolve;
      link.onerror = function () { reject(plainError("The built-in model's runtime could not be loaded.", "runtime")); };
      document.head.appendChild(link);
    });
    return import(url);
  }

  function b64(buffer) {
    let s = "";
    new Uint8Array(buffer).forEach(function (b) { s += String.fromCharCode(b); });
    return btoa(s);
  }

  async function opfsDir() {
    if (!navigator.storage || !navigator.storage.getDirectory) return null;
    try {
      const root = await navigator.storage.getDirectory();
      return await root.getDirectoryHandle(OPFS_DIR, { create: true });
    } catch (e) {
      return null;
    }
  }

  // The model as one Blob: from OPFS when a complete copy is there, else downloaded part by
  // part (each checked against its SHA-384) and then written to OPFS.
  async function modelBlob() {
    const model = config.model;
    const name = model.sha256 + ".gguf";
    const dir = await opfsDir();
    if (dir) {
      try {
        const file = await (await dir.getFileHandle(name)).getFile();
        if (file.size === model.size) {
          emit({ phase: "download", loaded: model.size, total: model.size, fromCache: true });
          return file;
        }
      } catch (e) { /* not cached yet */ }
    }
    emit({ phase: "download", loaded: 0, total: model.size, fromCache: false });
    const parts = [];
    let loaded = 0;
    for (const part of model.parts) {
      const response = await fetch(part.url, { cache: "no-cache", credentials: "same-origin" });
      if (!response.ok || !response.body) throw plainError("The built-in model could not be downloaded.", "download");
      const reader = response.body.getReader();
      const chunks = [];
      for (;;) {
        const step = await reader.read();
        if (step.done) break;
        chunks.push(step.value);
        loaded += step.value.byteLength;
        emit({ phase: "download", loaded: loaded, total: model.size });
      }
      const blob = new Blob(chunks);
      const digest = await crypto.subtle.digest("SHA-384", await blob.arrayBuffer());
      if ("sha384-" + b64(digest) !== part.integrity) {
        throw plainError("The built-in model's download did not match its pinned hash.", "mismatch");
      }
      parts.push(blob);
    }
    const joined = new Blob(parts);
    if (dir) {
      try { // best effort: a full disk or a private window only means downloading again
        const handle = await dir.getFileHandle(name, { create: true });
        const writable = await handle.createWritable();
        await writable.write(joined);
        await writable.close();
      } catch (e) {
        try { await dir.removeEntry(name); } catch (e2) { /* nothing to remove */ }
      }
    }
    return joined;
  }

  function withTimeout(promise, ms, message) {
    let timer = null;
    const limit = new Promise(function (resolve, reject) {
      timer = setTimeout(function () { reject(plainError(message, "timeout")); }, ms);
    });
    return Promise.race([promise, limit]).finally(function () { clearTimeout(timer); });
  }

  async function doLoad(wanted, timeoutMs) {
    if (!supported()) throw plainError("This browser cannot run the built-in model.", "unsupported");
    const started = performance.now();
    emit({ phase: "runtime", error: null });
    const mod = await importWllama();
    const blob = await modelBlob();
    const downloaded = performance.now();
    emit({ phase: "starting" });
    // Threads need cross-origin isolation (SharedArrayBuffer). Two when the device has cores to
    // spare (4 or more logical ones); on a 2-core machine two threads compete with the page and
    // the browser, and measured far slower than one when anything else runs (shared/spec).
    const cores = navigator.hardwareConcurrency || 1;
    const isolated = !!self.crossOriginIsolated;
    let threads = isolated && cores >= 4 ? 2 : 1;
    if (isolated && Number.isInteger(wanted) && wanted >= 1) threads = Math.min(wanted, cores); // benchmarks
    let gpu = false; // WebGPU when the browser has a usable adapter (not merely the API)
    if (navigator.gpu) {
      try { gpu = !!(await navigator.gpu.requestAdapter()); } catch (e) { gpu = false; }
    }
    const runtime = new mod.Wllama({ default: abs(config.wllama.wasm) }, { logger: quietLogger, suppressNativeLog: true, allowOffline: true });
    runtime.setCompat(null);
    const params = { n_ctx: config.model.context_length, n_threads: threads, n_gpu_layers: gpu ? 999 : 0, n_parallel: 1 };
    try {
      await withTimeout(runtime.loadModel([blob], params), timeoutMs || LOAD_TIMEOUT_MS,
        "The built-in model did not start in this browser.");
    } catch (error) {
      try { runtime.exit(); } catch (e) { /* it may never have started */ }
      throw error.byomCode ? error : plainError("The built-in model did not start in this browser.", "load");
    }
    wllama = runtime;
    const done = performance.now();
    emit({ phase: "ready", threads: threads, gpu: gpu,
      timings: { download_ms: downloaded - started, load_ms: done - downloaded, total_ms: done - started } });
    return runtime;
  }

  // Load the model (once); resolve when it is ready. `onProgress(state)` sees every phase;
  // `threads` and `timeoutMs` override the defaults (benchmarks, tests).
  function load(options) {
    if (options && typeof options.onProgress === "function") listeners.add(options.onProgress);
    if (wllama) return Promise.resolve(Object.assign({}, state));
    if (!loading) {
      loading = doLoad(options && options.threads, options && options.timeoutMs).then(function () { return Object.assign({}, state); }, function (error) {
        loading = null;
        emit({ phase: "failed", error: error.byomCode || "load" });
        throw error;
      });
    }
    return loading;
  }

  // ---- the responder for http://builtin.invalid/v1 ----------------------------------------------

  const encoder = new TextEncoder();
  const SAMPLING = ["temperature", "top_p", "top_k", "min_p", "seed", "stop", "repeat_penalty", "presence_penalty", "frequency_penalty", "ignore_eos"];

  function jsonResponse(status, body) {
    return new Response(JSON.stringify(body), { status: status, headers: { "content-type": "application/json" } });
  }
  function errorBody(message, code) { return { error: { message: message, code: code } }; }

  function bodyText(body) {
    if (body == null) return "";
    if (typeof body === "string") return body;
    return new TextDecoder().decode(body);
  }

  // One chunk as the Python side reads it: the model id it asked for, no runtime internals.
  function clean(chunk, model) {
    const out = { id: chunk.id, object: "chat.completion.chunk", model: model, choices: chunk.choices || [] };
    if (chunk.usage) out.usage = { prompt_tokens: chunk.usage.prompt_tokens, completion_tokens: chunk.usage.completion_tokens, total_tokens: chunk.usage.total_tokens };
    return out;
  }

  // ---- how long until the first word ---------------------------------------------------------------
  // Before the first word the runtime reads the whole prompt, at a speed that depends on the
  // device (~10 tokens a second on a 2-core CPU, one thread). The page says up front about how
  // long that takes: the prompt's characters as tokens, times the seconds a token takes. Both
  // ratios are what this device measured on its previous answer (English takes ~4 characters a
  // token, Dutch ~2.5; wllama offers no tokenizer call to count first), kept in localStorage as
  // two figures (nothing of the text); before any answer, cautious guesses.
  const RATE_KEY = "byom-builtin-read-rate"; // seconds a token
  const CHARS_KEY = "byom-builtin-chars-per-token";
  const FIRST_RATE = 1 / 8; // slower than any CPU measured here
  const FIRST_CHARS = 3;
  const TEMPLATE_CHARS = 16; // the chat template's markers per message, as characters

  function promptChars(messages) {
    let chars = 0;
    for (const m of messages) chars += TEMPLATE_CHARS + (typeof m.content === "string" ? m.content.length : 0);
    return chars;
  }
  function kept(key, guess) {
    try {
      const value = Number(window.localStorage.getItem(key));
      if (Number.isFinite(value) && value > 0) return value;
    } catch (e) { /* storage refused: the guess */ }
    return guess;
  }
  function keepRate(record) {
    const t = record.timings;
    if (!t || !(t.prompt_n >= 16) || !(Number(t.prompt_ms) > 0)) return; // too short to tell
    try {
      window.localStorage.setItem(RATE_KEY, (Number(t.prompt_ms) / 1000 / t.prompt_n).toPrecision(3));
      // characters a token over the whole prompt (a part of it may have been in the cache)
      const whole = record.promptTokens >= t.prompt_n ? record.promptTokens : t.prompt_n;
      if (record.chars > 0) window.localStorage.setItem(CHARS_KEY, (record.chars / whole).toPrecision(3));
    } catch (e) { /* not kept */ }
  }
  // `read` of `of` tokens read; `eta` the estimate made before reading began (seconds).
  function reading(read, of, eta) {
    const left = Math.max(1, Math.ceil(eta * (of ? 1 - read / of : 1)));
    listeners.forEach(function (fn) {
      try { fn(Object.assign({}, state, { phase: "reading", read: read, of: of, eta_s: left })); } catch (e) { /* stays local */ }
    });
  }

  function promptProgress(chunk) {
    if (chunk && chunk.timings && last) last.timings = chunk.timings; // the runtime's own figures
    if (chunk && chunk.usage && last) last.promptTokens = chunk.usage.prompt_tokens;
    const p = chunk && chunk.prompt_progress;
    if (!p) return false;
    reading(p.processed, p.total, last ? last.eta : 0);
    return !(chunk.choices && chunk.choices.length && chunk.choices[0].delta && chunk.choices[0].delta.content);
  }

  // ---- reading ahead ----------------------------------------------------------------------------
  // The page may let the runtime read a likely prompt before the user asks for it (BYOM.prepare,
  // say when a document opens): the runtime keeps what it read (llama.cpp's prompt cache), so
  // when that request comes, its first word follows almost at once instead of after seconds of
  // reading. Only while the runtime is started or starting (never a download), never while a
  // request runs, one at a time (a newer one replaces an older one). A request that comes while
  // a read-ahead runs waits for it when it is the same prompt (it then reuses all of it), and
  // stops it otherwise. Nothing of it is counted or recorded: it is not a call.
  let active = 0; // requests being answered
  let ahead = null; // { key, abort, done, started }
  let cachedKey = null; // the prompt the runtime's cache holds, read whole (read ahead or asked)

  function promptKey(messages) {
    return JSON.stringify(messages.map(function (m) { return [m.role, m.content]; }));
  }
  async function settleAhead(messages) {
    const current = ahead;
    if (!current) return;
    if (current.key !== promptKey(messages)) current.abort.abort();
    await current.done;
  }
  async function prefill(messages) {
    if (!Array.isArray(messages) || !messages.length) return false;
    if (!wllama && !loading) return false; // not started: reading ahead never downloads
    await load();
    if (active) return false;
    const key = promptKey(messages);
    if (ahead && ahead.key === key) return ahead.done;
    if (cachedKey === key) return true; // read already
    await settleAhead(messages); // another prompt's read-ahead: stopped
    if (active) return false;
    const abort = new AbortController();
    const current = { key: key, abort: abort, done: null, started: performance.now() };
    cachedKey = null;
    current.done = wllama.createChatCompletion({ messages: messages, max_tokens: 1, stream: true,
      abortSignal: abort.signal, onData: function () {} })
      .then(function () { return !abort.signal.aborted; }, function () { return false; })
      .then(function (read) {
        if (ahead === current) ahead = null;
        if (read) cachedKey = key;
        state.readAhead = read ? (state.readAhead || 0) + 1 : (state.readAhead || 0);
        return read;
      });
    ahead = current;
    return current.done;
  }

  // Answer one request the way an OpenAI-compatible server would: a chat.completion body, or
  // chat.completion.chunk server-sent events ending with finish_reason, usage and [DONE].
  async function respond(url, init) {
    init = init || {};
    const path = new URL(url).pathname;
    if ((init.method || "GET").toUpperCase() !== "POST" || !/\/chat\/completions$/.test(path)) {
      return jsonResponse(404, errorBody("The built-in model answers chat requests only.", 404));
    }
    let body;
    try {
      body = JSON.parse(bodyText(init.body));
    } catch (e) {
      return jsonResponse(400, errorBody("Bad request.", 400));
    }
    if (!body || !Array.isArray(body.messages) || !Number.isInteger(body.max_tokens)) {
      return jsonResponse(400, errorBody("Bad request.", 400));
    }
    const outer = init.signal;
    if (outer && outer.aborted) throw new DOMException("aborted", "AbortError");
    // What became of this request, for the page's tests and the benchmark (figures only):
    // tokens the runtime still produced after the abort, and when it let go of the request.
    const record = { aborted: false, afterAbort: 0, chunks: 0, finished: false };
    last = record;
    await load();
    active += 1;
    // The wait before the first word, said up front: nothing when the runtime has this very
    // prompt read already; what is left of a read-ahead of it; else the whole prompt's reading.
    const key = promptKey(body.messages);
    record.chars = promptChars(body.messages);
    record.eta = record.chars / kept(CHARS_KEY, FIRST_CHARS) * kept(RATE_KEY, FIRST_RATE); // seconds
    if (ahead && ahead.key === key) record.eta = Math.max(1, record.eta - (performance.now() - ahead.started) / 1000);
    record.announced = key !== cachedKey && record.eta > 0;
    if (record.announced) reading(0, 0, record.eta);
    await settleAhead(body.messages);
    cachedKey = null;
    const runtime = wllama;
    const model = String(body.model || config.model.id);
    const abort = new AbortController();
    if (outer) outer.addEventListener("abort", function () { abort.abort(); }, { once: true });
    abort.signal.addEventListener("abort", function () { record.aborted = true; }, { once: true });
    const count = function () { record.chunks += 1; if (record.aborted) record.afterAbort += 1; };
    // `answered`: the runtime finished the request (its prompt then stays in its cache).
    const settle = function (answered) {
      if (!record.finished) active -= 1;
      record.finished = true;
      if (answered && !record.aborted) cachedKey = key;
      keepRate(record);
    };
    const params = { messages: body.messages, max_tokens: body.max_tokens, stream: true,
      stream_options: { include_usage: true }, return_progress: true, abortSignal: abort.signal };
    SAMPLING.forEach(function (k) { if (body[k] !== undefined) params[k] = body[k]; });

    if (!body.stream) {
      let text = "", finish = null, usage = null, id = null;
      params.onData = function (chunk) {
        if (promptProgress(chunk)) return;
        count();
        id = chunk.id || id;
        (chunk.choices || []).forEach(function (c) {
          if (c.delta && c.delta.content) text += c.delta.content;
          if (c.finish_reason) finish = c.finish_reason;
        });
        if (chunk.usage) usage = clean(chunk, model).usage;
      };
      let answered = false;
      try {
        await runtime.createChatCompletion(params);
        answered = true;
      } finally {
        settle(answered);
      }
      return jsonResponse(200, { id: id, object: "chat.completion", model: model,
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: finish }], usage: usage });
    }

    let controller = null;
    const stream = new ReadableStream({
      start: function (c) { controller = c; },
      cancel: function () { abort.abort(); },
    });
    if (outer) outer.addEventListener("abort", function () {
      try { controller.error(new DOMException("aborted", "AbortError")); } catch (e) { /* closed */ }
    }, { once: true });
    params.onData = function (chunk) {
      if (promptProgress(chunk)) return;
      count();
      if (record.aborted) return;
      controller.enqueue(encoder.encode("data: " + JSON.stringify(clean(chunk, model)) + "\n\n"));
    };
    runtime.createChatCompletion(params).then(function () {
      settle(true);
      try {
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        controller.close();
      } catch (e) { /* cancelled meanwhile */ }
    }, function () {
      settle(false);
      if (abort.signal.aborted) return; // the reader went away: nothing to say
      try {
        controller.enqueue(encoder.encode("data: " + JSON.stringify(errorBody("The built-in model failed while answering.", 500)) + "\n\n"));
        controller.close();
      } catch (e) { /* closed */ }
    });
    return new Response(stream, { status: 200, headers: { "content-type": "text/event-stream" } });
  }

  window.byomBuiltin = {
    configure: function (cfg) { if (!config) config = cfg; },
    supported: supported,
    load: load,
    loaded: function () { return !!wllama; },
    // Whether a complete copy of the model is on this device (starting it downloads nothing).
    cached: async function () {
      const dir = await opfsDir();
      if (!dir || !config) return false;
      try {
        return (await (await dir.getFileHandle(config.model.sha256 + ".gguf")).getFile()).size === config.model.size;
      } catch (e) {
        return false;
      }
    },
    state: function () { return Object.assign({}, state); },
    onProgress: function (fn) { listeners.add(fn); return function () { listeners.delete(fn); }; },
    fetch: respond,
    prefill: prefill,
    lastRequest: function () { return last ? Object.assign({}, last) : null; },
    // Forget the copy kept on this device (the next use downloads the model again).
    forget: async function () {
      const dir = await opfsDir();
      if (dir && config) {
        try { await dir.removeEntry(config.model.sha256 + ".gguf"); } catch (e) { /* none */ }
      }
    },
  };
  document.dispatchEvent(new CustomEvent("byom-builtin-ready"));
})();
