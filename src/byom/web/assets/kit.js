// byom UI components: the connect wizard, the connection panel, the cost surface (one row per
// request; a run's steps grouped under one row with its running total) and the leave guard. Plain DOM, no framework, no innerHTML, no inline script or style. All money and key
// decisions happen in Python (the byom core); this file only shows them.
"use strict";
(function () {
  const script = document.currentScript;
  const CONFIG_URL = script.dataset.config;
  // The page's language: the one the user chose in the page (kept in this browser), else the
  // browser's. setLang() switches it live; the page listens for "byom:lang" to redraw its text.
  const LANG_SLOT = "byom:lang";
  function chosenLang() {
    let saved = null;
    try { saved = localStorage.getItem(LANG_SLOT); } catch (e) { saved = null; }
    if (saved === "en" || saved === "nl") return saved;
    return (navigator.language || "en").toLowerCase().indexOf("nl") === 0 ? "nl" : "en";
  }
  let lang = chosenLang();
  const strings = { en: {}, nl: {} };
  function addStrings(dict) {
    Object.keys(dict).forEach(function (l) { Object.assign(strings[l] || (strings[l] = {}), dict[l]); });
  }
  addStrings(window.BYOM_STRINGS || {});
  function t(key, vars) {
    let text = (strings[lang] && strings[lang][key]) || strings.en[key] || key;
    if (vars) {
      Object.keys(vars).forEach(function (k) { text = text.split("{" + k + "}").join(String(vars[k])); });
    }
    return text;
  }
  // t() whose placeholders may be DOM nodes: returns the pieces to append, in order.
  function tNodes(key, vars) {
    const text = (strings[lang] && strings[lang][key]) || strings.en[key] || key;
    return text.split(/(\{[a-z_]+\})/).filter(function (p) { return p !== ""; }).map(function (part) {
      const m = /^\{([a-z_]+)\}$/.exec(part);
      if (!m || !(m[1] in vars)) return part;
      const v = vars[m[1]];
      return typeof v === "string" || typeof v === "number" ? String(v) : v;
    });
  }
  function stepsText(n) { return n === 1 ? t("run.steps_one") : t("run.steps", { n: n }); }
  function money(m) {
    // Python formats dollars (byom.format_money: two significant digits below a cent); Dutch
    // writes them as format_money(…, "nl") does: "$ 0,42", "$ 1.234,50", "$ -0,10".
    const text = m && typeof m === "object" ? m.text : m;
    if (text === null || text === undefined) return "—";
    if (lang !== "nl") return text;
    const swapped = text.replace(/[.,]/g, function (c) { return c === "." ? "," : "."; });
    // (a no-break space after the sign: "$" never ends a line apart from its amount)
    return swapped.replace(/^(-?)\$/, function (all, minus) { return "$\u00a0" + minus; });
  }

  // ---- tiny DOM helper (textContent only) ----------------------------------------------------
  function h(tag, attrs) {
    const el = tag.indexOf("svg:") === 0
      ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
      : document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        const v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") el.textContent = v;
        else if (k === "class") el.setAttribute("class", v);
        else if (k.indexOf("on") === 0) el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? "" : v);
      });
    }
    for (let i = 2; i < arguments.length; i++) {
      const c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) el.appendChild(typeof x === "string" ? document.createTextNode(x) : x); });
      else el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return el;
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }
  function extLink(href, label) {
    return h("a", { href: href, target: "_blank", rel: "noopener noreferrer", class: "byom-ext" },
      label, h("span", { class: "byom-sr", text: " " + t("common.link_new_tab") }));
  }

  // ---- state ------------------------------------------------------------------------------------
  let shell = null;
  let config = null;
  let bootMs = null;
  let bootFailed = false;
  let readyResolve;
  const ready = new Promise(function (resolve) { readyResolve = resolve; });
  const chips = [];
  let runCounter = 0;
  const configPromise = fetch(CONFIG_URL, { cache: "no-cache" }).then(function (r) { return r.json(); })
    .then(function (c) {
      config = c;
      if (builtinHinted()) { document.documentElement.dataset.byomBuiltinEarly = "1"; warmBuiltin(true); }
      return c;
    });

  // Every call into Python goes through here: a failure becomes an error code, never an
  // uncaught exception (whose text would land in the console).
  const FAILED = '{"ok":false,"code":"byom_error"}';
  function guard(py) {
    const safe = {};
    ["status", "key_shape", "connect", "connect_builtin", "validate", "pkce_begin", "pkce_finish", "remember", "forget_key", "choose_model",
      "set_allowance", "clear_unreconciled", "reload", "history", "export", "delete_history", "run", "cancel", "in_flight",
      "builtin_prompt"]
      .forEach(function (name) {
        safe[name] = function () {
          try {
            const out = py[name].apply(null, arguments);
            if (out && typeof out.then === "function") return Promise.resolve(out).catch(function () { return FAILED; });
            return out;
          } catch (e) {
            return name === "in_flight" ? true : FAILED;
          }
        };
      });
    return safe;
  }
  function status() { return shell ? JSON.parse(shell.status()) : null; }

  // ---- the connection chip (the app places it) -------------------------------------------------
  function renderChips() {
    const st = status();
    noteConnection(st);
    chips.forEach(function (chip) {
      clear(chip);
      chip.classList.toggle("byom-chip-on", !!(st && st.connected));
      let label;
      if (bootFailed) label = t("chip.failed");
      else if (!st) label = t("chip.loading") + " " + t("progress.count", { n: PROGRESS.indexOf(progress) + 1, total: PROGRESS.length });
      else if (st.connected && st.option === "builtin") label = t("builtin.chip");
      else if (st.connected) label = t("chip.connected") + " · " + money(st.session_cost);
      else label = t("chip.connect");
      chip.dataset.state = bootFailed ? "failed" : (!st ? "loading" : (st.connected ? "connected" : "connect"));
      chip.title = !st && !bootFailed ? progressText() : (st && st.connected ? t("chip.title") : "");
      chip.appendChild(h("span", { class: "byom-dot" + (!st && !bootFailed ? " byom-dot-busy" : ""), "aria-hidden": "true" }));
      chip.appendChild(h("span", { class: "byom-chip-label", "data-testid": "chip-label", text: label }));
    });
  }
  function mountStatus(el) {
    el.classList.add("byom-chip");
    el.setAttribute("type", "button");
    el.addEventListener("click", function () { openPanel(); });
    chips.push(el);
    renderChips();
  }

  // ---- dialogs ------------------------------------------------------------------------------------
  function dialog(cls, labelId) {
    const d = h("dialog", { class: "byom-dialog " + cls, "aria-labelledby": labelId });
    document.body.appendChild(d);
    d.addEventListener("close", function () { d.remove(); });
    return d;
  }

  // ---- the providers a page can offer -------------------------------------------------------------
  // Names for the user, and where each provider's keys and spend limits are managed. The words
  // are in i18n.js ("prov.<kind>.*"); the links are the providers' own pages.
  const PROVIDER_NAMES = {
    openrouter: "OpenRouter", openai: "OpenAI", anthropic: "Anthropic", gemini: "Google Gemini",
    ollama: "Ollama", compatible: "OpenAI-compatible server",
  };
  const PROVIDER_LINKS = {
    openrouter: { key: "https://openrouter.ai/keys", limit: "https://openrouter.ai/settings/keys" },
    openai: { key: "https://platform.openai.com/api-keys", limit: "https://platform.openai.com/settings/organization/limits" },
    anthropic: { key: "https://console.anthropic.com/settings/keys", limit: "https://console.anthropic.com/settings/limits" },
    gemini: { key: "https://aistudio.google.com/apikey", limit: "https://console.cloud.google.com/billing/budgets" },
    ollama: { key: "https://ollama.com/download", limit: "https://github.com/ollama/ollama/blob/main/docs/faq.md" },
    compatible: {},
  };
  function providerName(kind) { return PROVIDER_NAMES[kind] || kind; }

  // ---- the key's shape, checked before anything is sent ------------------------------------------
  // The rule is byom.core.keyshape's (one rule, in Python): the shell answers with what is wrong,
  // and this words it. Only a hint for the user: the provider's own check decides.
  const SHAPE_CODES = { empty: "key_empty", space: "key_space", wrong_provider: "key_other_provider", wrong_prefix: "key_prefix" };
  function keyShapeProblem(optionId, key) {
    let verdict;
    try { verdict = JSON.parse(shell.key_shape(optionId, String(key || ""))); } catch (e) { verdict = null; }
    if (!verdict || !SHAPE_CODES[verdict.problem]) return null;
    return { code: SHAPE_CODES[verdict.problem], vars: { provider: providerName(verdict.provider), other: providerName(verdict.other), prefix: verdict.prefix || "" } };
  }

  // ---- addresses on this machine (a compatible server; mirrors byom.web.browser.loopback) -------
  function isLoopbackUrl(url) {
    let u;
    try { u = new URL(String(url || "").trim()); } catch (e) { return false; }
    if ((u.protocol !== "http:" && u.protocol !== "https:") || u.username || u.password) return false;
    return u.hostname === "localhost" || u.hostname === "127.0.0.1";
  }

  // ---- Ollama must allow this page: OLLAMA_ORIGINS, for the user's system ------------------------
  function userOs() {
    const uad = navigator.userAgentData;
    const p = String((uad && uad.platform) || navigator.platform || navigator.userAgent || "").toLowerCase();
    if (p.indexOf("mac") >= 0) return "macos";
    if (p.indexOf("win") >= 0) return "windows";
    return "linux";
  }
  const OLLAMA_STEPS = {
    macos: function (o) {
      return [["ollama.mac.1", "launchctl setenv OLLAMA_ORIGINS \"" + o + "\""], ["ollama.mac.2", null]];
    },
    linux: function (o) {
      return [["ollama.linux.1", "sudo systemctl edit ollama.service"],
        ["ollama.linux.2", "[Service]\nEnvironment=\"OLLAMA_ORIGINS=" + o + "\""],
        ["ollama.linux.3", "sudo systemctl daemon-reload\nsudo systemctl restart ollama"]];
    },
    windows: function (o) {
      return [["ollama.win.1", null], ["ollama.win.2", "setx OLLAMA_ORIGINS \"" + o + "\""], ["ollama.win.3", null]];
    },
  };
  function ollamaSteps(os, origin) {
    return h("ol", { class: "byom-howto", "data-testid": "ollama-steps-" + os }, OLLAMA_STEPS[os](origin).map(function (step) {
      return h("li", {}, h("span", { text: t(step[0]) }),
        step[1] ? h("pre", { class: "byom-code" }, h("code", { text: step[1] })) : null);
    }));
  }
  // What to do when this page cannot reach Ollama: it is not running, or it does not allow this
  // page's origin (a browser cannot tell the two apart: both are a failed fetch).
  function ollamaHelp(baseUrl) {
    const os = userOs();
    const origin = location.origin;
    const others = ["macos", "linux", "windows"].filter(function (x) { return x !== os; });
    return h("section", { class: "byom-sec byom-warn", "data-testid": "wizard-ollama-origins", "data-os": os },
      h("h3", { text: t("ollama.title") }),
      h("p", { text: t("ollama.body", { url: baseUrl }) }),
      h("p", {}, h("strong", { text: t("ollama.os." + os) }), " ", t("ollama.allow", { origin: origin })),
      ollamaSteps(os, origin),
      h("p", { class: "byom-note", text: t("ollama.already_set") }),
      h("details", {}, h("summary", { text: t("ollama.other_os") }), others.map(function (x) {
        return h("div", {}, h("p", {}, h("strong", { text: t("ollama.os." + x) })), ollamaSteps(x, origin));
      })));
  }

  // ---- the wizard (R5.2 order, then R5.3) ----------------------------------------------------------
  // Nothing counts as connected until the last step is saved: cancelling at any step (Cancel,
  // Escape) forgets a key this wizard connected, so no request is sent under an allowance the
  // user never confirmed.
  // ---- the built-in model (sites built with builtin = true) ----------------------------------------
  // Its runtime (byom/builtin.js, integrity-checked) is inserted only when the user picks it: a
  // page that never uses it loads none of it, and no model byte.
  let builtinScript = null;
  function builtinEnabled() { return !!(config && config.builtin); }
  function firstProvider() {
    const o = config.providers.find(function (p) { return !p.builtin; });
    return o ? o.id : config.providers[0].id;
  }
  function builtinRuntime() {
    if (!builtinEnabled()) return Promise.reject(new Error("builtin"));
    if (!builtinScript) {
      builtinScript = new Promise(function (resolve, reject) {
        if (window.byomBuiltin) { window.byomBuiltin.configure(config.builtin); resolve(window.byomBuiltin); return; }
        const el = h("script", { src: config.builtin.script, integrity: config.builtin.script_integrity });
        el.addEventListener("load", function () { window.byomBuiltin.configure(config.builtin); resolve(window.byomBuiltin); });
        el.addEventListener("error", function () { builtinScript = null; reject(new Error("builtin")); });
        document.head.appendChild(el);
      });
    }
    return builtinScript;
  }
  function mb(bytes) { return (bytes / 1e6).toFixed(0); }
  // The progress of loading the built-in model, in a <progress> bar and one line of words.
  function builtinProgress() {
    const bar = h("progress", { class: "byom-builtin-bar", max: "100", value: "0", "data-testid": "builtin-progress" });
    const label = h("p", { class: "byom-note", role: "status", "aria-live": "polite", "data-testid": "builtin-status" });
    const el = h("div", { class: "byom-builtin-progress", hidden: true }, bar, label);
    let shown = false;
    function update(st) {
      el.hidden = false;
      fill(st);
      if (!shown && el.isConnected) {  // first shown: bring it into view (a phone's dialog scrolls)
        shown = true;
        el.scrollIntoView({ block: "nearest" });
      }
    }
    function fill(st) {
      el.dataset.phase = st.phase;
      if (st.phase === "download" && !st.fromCache) {
        bar.value = st.total ? Math.floor(100 * st.loaded / st.total) : 0;
        label.textContent = t("builtin.downloading", { loaded: mb(st.loaded), total: mb(st.total) });
      } else if (st.phase === "download" || st.phase === "starting" || st.phase === "runtime") {
        bar.value = st.phase === "runtime" ? 0 : 100;
        label.textContent = t(st.fromCache ? "builtin.from_disk" : (st.phase === "runtime" ? "builtin.preparing" : "builtin.starting"));
      } else if (st.phase === "ready") {
        bar.value = 100;
        label.textContent = t("builtin.ready");
      } else if (st.phase === "reading") {
        if (st.of) bar.value = Math.floor(100 * st.read / st.of);
        else bar.removeAttribute("value"); // how much is read is not known yet: indeterminate
        label.textContent = st.eta_s && (!st.of || st.read < st.of)
          ? t("builtin.reading_eta", { s: st.eta_s })
          : t("builtin.reading", { read: st.read, of: st.of });
      }
    }
    function fail(code) {
      el.hidden = false;
      label.className = "byom-note byom-bad";
      label.dataset.code = code;
      label.textContent = t(code === "unsupported" ? "builtin.unsupported" : "builtin.failed");
    }
    return { el: el, update: update, fail: fail };
  }
  // A connection to the built-in model restored from an earlier visit: start its runtime from
  // this device once the page is idle, so the user's first press waits only for the model to
  // read (its load takes ~3 s more). Only when the whole model is already on this device — this
  // never downloads anything the user did not ask for in this visit — and not when the browser
  // asks to save data. A failure stays quiet: the first press tries again and says what failed.
  //
  // It starts even before Python is up when this browser's last connection to this app was the
  // built-in model (a hint kept beside it, `early`): the runtime then loads while Python boots.
  function builtinHintKey() { return "byom-builtin-connected:" + ((config && config.app_id) || ""); }
  function noteConnection(st) {  // keeps the hint in step with the connection Python reports
    if (!st || !builtinEnabled()) return;
    try {
      if (st.connected && st.option === "builtin") window.localStorage.setItem(builtinHintKey(), "1");
      else window.localStorage.removeItem(builtinHintKey());
    } catch (e) { /* no hint: the start waits for Python */ }
  }
  function builtinHinted() {
    try { return builtinEnabled() && window.localStorage.getItem(builtinHintKey()) === "1"; } catch (e) { return false; }
  }
  function warmBuiltin(early) {
    const st = early ? null : status();
    if (!builtinEnabled() || (!early && (!st || !st.connected || st.option !== "builtin"))) return;
    // What was decided, for tests and the curious: "started", "not_on_device", "save_data".
    const mark = function (how) { document.documentElement.dataset.byomBuiltinWarm = how; };
    if (navigator.connection && navigator.connection.saveData) { mark("save_data"); return; }
    const idle = early ? function (fn) { return setTimeout(fn, 0); }
      : (window.requestIdleCallback || function (fn) { return setTimeout(fn, 200); });
    idle(function () {
      builtinRuntime().then(function (runtime) {
        if (!runtime.supported()) { mark("unsupported"); return null; }
        return runtime.cached().then(function (onDisk) {
          mark(onDisk ? "started" : "not_on_device");
          if (!onDisk) return null;
          const started = runtime.load();
          tryPrepare();
          return started;
        });
      }).catch(function () { /* said on the first press */ });
    }, { timeout: 3000 });
  }
  // Let the built-in model read a likely request ahead (BYOM.prepare): the page names a feature
  // and its inputs (say Summarize, when a document opens); when the built-in model is the
  // connection and its runtime is started or starting, it reads that prompt now, so the user's
  // press gets its first word almost at once. The latest wish waits for the runtime's start.
  let prepareWish = null;
  function prepare(feature, inputs) {
    prepareWish = { feature: feature, inputs: inputs || {} };
    tryPrepare();
  }
  function tryPrepare() {
    const wish = prepareWish;
    const st = status();
    if (!wish || !st || !st.connected || st.option !== "builtin" || !window.byomBuiltin) return;
    let res;
    try { res = JSON.parse(shell.builtin_prompt(wish.feature, JSON.stringify(wish.inputs))); } catch (e) { return; }
    if (res.ok) window.byomBuiltin.prefill(res.messages).catch(function () { /* only a head start */ });
  }
  // Load the built-in model (once per page) with its progress shown in `progress`.
  async function loadBuiltin(progress) {
    const runtime = await builtinRuntime();
    if (!runtime.supported()) { const e = new Error("unsupported"); e.byomCode = "unsupported"; throw e; }
    await runtime.load({ onProgress: progress.update });
    return runtime;
  }
  // The wizard's first choice when the app offers the built-in model.
  function builtinChoice(choose) {
    if (!builtinEnabled()) return null;
    return h("section", { class: "byom-sec byom-builtin-choice", "data-testid": "wizard-builtin-choice" },
      h("h3", {}, h("span", { class: "byom-sec-mark", "aria-hidden": "true" }), t("builtin.label")),
      h("p", { text: t("builtin.choice") }),
      h("button", { type: "button", class: "byom-btn byom-btn-primary", "data-testid": "wizard-builtin", text: t("builtin.use"), onclick: choose }));
  }
  // Step 2 for the built-in model: what it is, then the download with its progress bar.
  function builtinOptionBody(onConnected) {
    const progress = builtinProgress();
    const start = h("button", { type: "button", class: "byom-btn byom-btn-primary", "data-testid": "wizard-builtin-start", text: t("builtin.start") });
    start.addEventListener("click", async function () {
      start.disabled = true;
      progress.update({ phase: "runtime" });
      try {
        await loadBuiltin(progress);
        const res = JSON.parse(await shell.connect_builtin());
        if (!res.ok) throw new Error(res.code);
        onConnected();
      } catch (e) {
        progress.fail(e && e.byomCode ? e.byomCode : "failed");
        start.disabled = false;
      }
    });
    return h("section", { class: "byom-sec byom-builtin", "data-testid": "wizard-builtin-section" },
      h("p", { text: t("builtin.about") }),
      h("p", { class: "byom-note", text: t("builtin.small") }),
      h("div", { class: "byom-row" }, start),
      progress.el);
  }

  let wizardOpen = null;
  function openWizard(featureName, startAt) {
    if (wizardOpen) return wizardOpen;
    wizardOpen = new Promise(function (resolve) {
      const st = status();
      const feature = (st.features.find(function (f) { return f.name === featureName; }) || st.features[0]);
      const category = feature.category;
      const d = dialog("byom-wizard", "byom-wizard-title");
      d.dataset.testid = "wizard";
      let finished = false;
      // A key connected by this wizard (pasted and checked, or from the sign-in): forgotten
      // again unless the user finishes.
      let connectedHere = !!pendingKeyInfo;
      d.addEventListener("close", async function () {
        if (!finished && connectedHere && shell) await shell.forget_key();
        wizardOpen = null;
        renderChips();
        resolve(finished);
      });
      d.addEventListener("cancel", function () { finished = false; });
      const steps = ["wizard.step1", "wizard.step2", "wizard.step3"];
      let keyInfo = pendingKeyInfo;
      pendingKeyInfo = null;
      let optionId = null;

      function header(step) {
        return h("header", { class: "byom-wizard-head" },
          h("div", { class: "byom-brand" }, h("span", { class: "byom-plug", "aria-hidden": "true" }), "BYOM"),
          h("h2", { id: "byom-wizard-title", text: t("wizard.title") }),
          h("p", { class: "byom-lede", text: t("wizard.for_feature", { feature: featureLabel(feature) }) }),
          h("ol", { class: "byom-steps", "aria-label": t("wizard.step_of", { n: step + 1, total: steps.length }) }, steps.map(function (s, i) {
            return h("li", { class: i === step ? "byom-step-now" : (i < step ? "byom-step-done" : ""), "aria-current": i === step ? "step" : null },
              h("span", { class: "byom-step-n", text: String(i + 1) }), h("span", { text: t(s) }));
          })));
      }
      function footer(buttons) { return h("footer", { class: "byom-wizard-foot" }, buttons); }
      function cancelButton() {
        return h("button", { type: "button", class: "byom-btn byom-btn-quiet", "data-testid": "wizard-cancel", text: t("common.cancel"), onclick: function () { d.close(); } });
      }
      function backButton(to) {
        return h("button", { type: "button", class: "byom-btn byom-btn-quiet byom-back", "data-testid": "wizard-back", text: t("common.back"), onclick: to });
      }
      // Step 1's topics are not numbered: the only numbers in the wizard are its three steps.
      function section(testid, title, body, extra) {
        return h("section", { class: "byom-sec byom-sec-topic", "data-testid": testid },
          h("h3", {}, h("span", { class: "byom-sec-mark", "aria-hidden": "true" }), title),
          h("p", { text: body }), extra || null);
      }

      // The provider kinds this page offers, in its order (the demo simulator stands in for
      // OpenRouter, so it adds none).
      function kinds() {
        const seen = [];
        config.providers.forEach(function (o) { if (!o.builtin && seen.indexOf(o.provider) < 0) seen.push(o.provider); });
        return seen;
      }
      // A provider's page for keys ("key") or for spend limits ("limit"), or its words alone
      // where it has none (a server of your own).
      function guideLink(kind, which) {
        const href = (PROVIDER_LINKS[kind] || {})[which];
        const label = t("prov." + kind + "." + which + "_link");
        return href ? extLink(href, label) : h("span", { text: label });
      }
      function perProvider(which) {
        return h("ul", { class: "byom-provider-links" }, kinds().map(function (k) {
          return h("li", {}, h("strong", { text: t("prov." + k + ".name") + ": " }), guideLink(k, which));
        }));
      }

      function screen1() {
        clear(d);
        d.dataset.screen = "1";
        d.appendChild(header(0));
        // One provider: its own words and links. Several: each one's links here, and its own
        // words beside its key box in the next step.
        const ks = kinds();
        const one = ks.length === 1 ? ks[0] : null;
        d.appendChild(h("div", { class: "byom-wizard-body" },
          builtinChoice(function () { optionId = "builtin"; screen2(); }),
          section("wizard-what", t("wizard.what.title"), t("wizard.what.body")),
          section("wizard-key-what", t("wizard.key.title"), one ? t("prov." + one + ".key") : t("wizard.key.body_many"),
            one ? h("p", {}, guideLink(one, "key")) : perProvider("key")),
          section("wizard-limit", t("wizard.limit.title"), one ? t("prov." + one + ".limit") : t("wizard.limit.body_many"),
            one ? h("p", {}, guideLink(one, "limit")) : perProvider("limit")),
          section("wizard-threat", t("wizard.threat.title"), t("wizard.threat.body"))));
        d.appendChild(footer([cancelButton(),
          h("button", { type: "button", class: "byom-btn byom-btn-primary", "data-testid": "wizard-next", text: t("common.continue"), onclick: function () { optionId = firstProvider(); screen2(); } })]));
      }

      // ``fromChoice``: redrawn because the user picked another provider — the focus stays on
      // the choice, so arrow keys keep moving through the providers.
      function screen2(notice, fromChoice) {
        clear(d);
        d.dataset.screen = "2";
        d.appendChild(header(1));
        const options = config.providers;
        const st = status();
        // the built-in model is chosen on step 1; step 2 opens on a provider (also when the
        // user comes from the panel to switch away from the built-in model)
        optionId = optionId || (st && st.option && st.option !== "builtin" ? st.option : firstProvider());
        const option = options.find(function (o) { return o.id === optionId; }) || options[0];
        const body = h("div", { class: "byom-wizard-body" });
        if (options.length > 1) body.appendChild(providerChoice(options));
        const part = optionBody(option);
        body.appendChild(part.el);
        d.appendChild(body);
        d.appendChild(footer([backButton(screen1), cancelButton()]));
        if (notice && part.msg) showError(part.msg, notice);
        const picked = fromChoice ? body.querySelector("input[name=byom-provider]:checked") : null;
        if (picked) picked.focus(); else if (part.focus) part.focus.focus();
      }
      function optionName(o) {
        if (o.builtin) return t("builtin.label");
        return o.simulator ? t("wizard.sim_label") : t("prov." + o.provider + ".name");
      }
      function providerChoice(options) {
        // side by side once there are more than a few (a page may offer six providers)
        return h("fieldset", { class: "byom-options" + (options.length > 3 ? " byom-options-grid" : ""), "data-testid": "wizard-provider" },
          h("legend", { text: t("wizard.provider") }),
          options.map(function (o) {
            const r = h("input", { type: "radio", name: "byom-provider", value: o.id, checked: o.id === optionId,
              onchange: function () { optionId = o.id; screen2(null, true); } });
            return h("label", { class: "byom-option" + (o.simulator ? " byom-option-sim" : ""), "data-option": o.id }, r,
              h("span", {}, h("strong", { text: optionName(o) }),
                o.simulated ? h("small", { class: "byom-badge", text: t("wizard.simulated") }) : null,
                o.simulator ? h("small", { text: t("wizard.sim_note") }) : null,
                o.builtin ? h("small", { text: t("builtin.note") }) : null));
          }));
      }
      // The part of step 2 for one option: its guide (when the page offers several providers),
      // then what connecting it takes — a key, a server address, or only a check.
      function optionBody(option) {
        if (option.builtin) {  // the built-in model: no key, a download instead
          return { el: builtinOptionBody(function () { finished = true; d.close(); }), msg: null, focus: null };
        }
        if (option.keyless) return keylessBody(option);
        if (option.loopback) return loopbackBody(option);
        return keyBody(option);
      }
      function optionGuide(option) {
        if (option.simulator || kinds().length < 2) return null;
        const k = option.provider;
        return h("section", { class: "byom-sec byom-guide", "data-testid": "wizard-option-guide", "data-provider": k },
          h("h3", { text: t(option.keyless || option.loopback ? "wizard.guide_title_server" : "wizard.guide_title", { provider: t("prov." + k + ".name") }) }),
          h("p", { text: t("prov." + k + ".key") }), h("p", {}, guideLink(k, "key")),
          h("p", { text: t("prov." + k + ".limit") }), h("p", {}, guideLink(k, "limit")),
          option.simulated ? h("p", { class: "byom-note", "data-testid": "wizard-simulated-note", text: t("wizard.simulated_note") }) : null);
      }
      function messageLine() {
        return h("p", { class: "byom-msg", role: "status", "aria-live": "polite", "data-testid": "wizard-message" });
      }
      function checking(msg, text) {
        msg.className = "byom-msg";
        delete msg.dataset.code;
        msg.textContent = text;
      }
      function connected(res, keyless) {
        connectedHere = true;
        keyInfo = res.key;
        keyInfo.keyless = !!keyless;
        screen3();
      }
      function keyInput(placeholder) {
        return h("input", { type: "password", id: "byom-key", class: "byom-input", autocomplete: "off", spellcheck: "false",
          placeholder: placeholder, "data-testid": "wizard-key-input" });
      }
      function checkButton(label) {
        return h("button", { type: "button", class: "byom-btn byom-btn-primary", "data-testid": "wizard-validate", text: label });
      }
      function onSubmit(input, check, go) {
        check.addEventListener("click", go);
        input.addEventListener("keydown", function (e) { if (e.key === "Enter") go(); });
      }

      // A provider that takes a key: OpenRouter (with its sign-in), OpenAI, Anthropic, Gemini.
      function keyBody(option) {
        const msg = messageLine();
        const input = keyInput(t("prov." + option.provider + ".placeholder"));
        const check = checkButton(t("wizard.validate"));
        const pkce = option.pkce ? h("div", { class: "byom-pkce" },
          h("button", { type: "button", class: "byom-btn byom-btn-secondary", "data-testid": "wizard-pkce", text: t(option.simulator ? "wizard.pkce_sim" : "wizard.pkce"),
            onclick: function () { startPkce(option.id, option.simulator); } }),
          h("small", { text: t("wizard.pkce_note") })) : null;
        const simKey = option.simulator ? h("button", { type: "button", class: "byom-btn byom-btn-quiet", "data-testid": "wizard-sim-key",
          text: t("wizard.sim_use_key"), onclick: function () {
            input.value = "sk-or-v1-simulated-demo-key";
            msg.className = "byom-msg byom-msg-ok";
            delete msg.dataset.code;
            msg.textContent = t("wizard.sim_key_filled");
            check.focus();
          } }) : null;
        const el = h("div", { class: "byom-option-body", "data-kind": option.provider }, optionGuide(option),
          h("section", { class: "byom-sec", "data-testid": "wizard-key-section" },
            pkce,
            h("label", { for: "byom-key", class: "byom-label", text: pkce ? t("wizard.or_paste") : t("wizard.key_label_for", { provider: optionName(option) }) }),
            h("div", { class: "byom-row" }, input, check), simKey, msg));
        async function validate() {
          const key = input.value;
          const problem = keyShapeProblem(option.id, key);
          if (problem) {
            showError(msg, { code: problem.code }, t("err." + problem.code, problem.vars));
            input.focus();
            return;
          }
          check.disabled = true;
          checking(msg, t("wizard.checking"));
          const res = JSON.parse(await shell.connect(option.id, key, ""));
          input.value = "";
          check.disabled = false;
          if (!res.ok) { showError(msg, res, unreachableText(option, res)); return; }
          connected(res, false);
        }
        onSubmit(input, check, validate);
        return { el: el, msg: msg, focus: input };
      }

      // Ollama on this machine: no key; the check is whether it answers this page.
      function keylessBody(option) {
        const msg = messageLine();
        const help = h("div", { "data-testid": "wizard-help" });
        const check = checkButton(t("wizard.check_server"));
        const el = h("div", { class: "byom-option-body", "data-kind": option.provider }, optionGuide(option),
          h("section", { class: "byom-sec", "data-testid": "wizard-key-section" },
            h("p", { text: t("prov." + option.provider + ".connect_note", { url: option.base_url }) }),
            h("div", { class: "byom-row" }, check), msg),
          help);
        check.addEventListener("click", async function () {
          check.disabled = true;
          clear(help);
          checking(msg, t("wizard.checking_server"));
          const res = JSON.parse(await shell.connect(option.id, "", ""));
          check.disabled = false;
          if (res.ok) { connected(res, true); return; }
          showError(msg, res, unreachableText(option, res));
          if (unreachable(res) && option.provider === "ollama") {
            check.textContent = t("wizard.check_again");
            help.appendChild(ollamaHelp(option.base_url));
          }
        });
        return { el: el, msg: msg, focus: check };
      }

      // An OpenAI-compatible server on this machine: its address (loopback only) and, if it
      // wants one, a key.
      function loopbackBody(option) {
        const msg = messageLine();
        const url = h("input", { type: "url", id: "byom-url", class: "byom-input", autocomplete: "off", spellcheck: "false",
          value: option.base_url, "data-testid": "wizard-url-input" });
        const input = keyInput(t("wizard.key_optional_placeholder"));
        const check = checkButton(t("wizard.check_server"));
        const el = h("div", { class: "byom-option-body", "data-kind": option.provider }, optionGuide(option),
          h("section", { class: "byom-sec", "data-testid": "wizard-key-section" },
            h("label", { for: "byom-url", class: "byom-label", text: t("wizard.url_label") }),
            url,
            h("p", { class: "byom-note", "data-testid": "wizard-loopback-note", text: t("wizard.loopback_note") }),
            h("label", { for: "byom-key", class: "byom-label", text: t("wizard.key_optional_label") }),
            h("div", { class: "byom-row" }, input, check), msg));
        async function validate() {
          const address = url.value.trim();
          if (!isLoopbackUrl(address)) {
            showError(msg, { code: "not_loopback" }, t("err.not_loopback"));
            url.focus();
            return;
          }
          const key = input.value;
          const problem = key.trim() ? keyShapeProblem(option.id, key) : null;
          if (problem) {
            showError(msg, { code: problem.code }, t("err." + problem.code, problem.vars));
            input.focus();
            return;
          }
          check.disabled = true;
          checking(msg, t("wizard.checking_server"));
          const res = JSON.parse(await shell.connect(option.id, key, address));
          input.value = "";
          check.disabled = false;
          if (!res.ok) { showError(msg, res, unreachableText(option, res, address)); return; }
          connected(res, !key.trim());
        }
        onSubmit(input, check, validate);
        onSubmit(url, check, validate);
        return { el: el, msg: msg, focus: url };
      }
      // A request that got no answer at all (not running, refused by CORS, timed out).
      function unreachable(res) { return res.code === "provider_unavailable" || res.code === "timeout"; }
      function unreachableText(option, res, address) {
        if (res.code === "not_loopback") return t("err.not_loopback");
        if (!unreachable(res) || res.status) return undefined;
        const own = option.provider === "ollama" || option.provider === "compatible";
        return t(own ? "err.unreachable." + option.provider : "err.unreachable", { url: address || option.base_url, provider: optionName(option) });
      }

      function screen3() {
        clear(d);
        d.dataset.screen = "3";
        d.appendChild(header(2));
        const st = status();
        const body = h("div", { class: "byom-wizard-body" });
        if (keyInfo) {
          const info = keyInfo;
          const limitText = info.keyless ? t("wizard.server_note")
            : (info.limit && info.limit.text
              ? t("wizard.key_limit", { limit: money(info.limit), remaining: money(info.limit_remaining), usage: money(info.usage) })
              : t("wizard.key_nolimit"));
          body.appendChild(h("section", { class: "byom-sec byom-ok", "data-testid": "wizard-key-result" },
            h("p", {}, h("strong", { text: t(info.keyless ? "wizard.server_ok" : "wizard.key_ok") }), " ", limitText)));
        }
        const remember = h("input", { type: "checkbox", id: "byom-remember", "data-testid": "wizard-remember" });
        body.appendChild(h("section", { class: "byom-sec", "data-testid": "wizard-remember-section" },
          h("label", { class: "byom-check", for: "byom-remember" }, remember, h("span", { text: t("wizard.remember") })),
          h("p", { class: "byom-note", text: t("wizard.remember_note") })));
        const cat = st.categories[category];
        const select = h("select", { id: "byom-model", class: "byom-input", "data-testid": "wizard-model" },
          cat.models.map(function (m) {
            return h("option", { value: m.id, selected: m.id === cat.chosen, text: m.name + " — " + priceText(m) });
          }));
        body.appendChild(h("section", { class: "byom-sec", "data-testid": "wizard-model-section" },
          h("label", { class: "byom-label", for: "byom-model" }, t("wizard.model", { category: categoryName(category) }),
            " ", categorySmall(category)),
          select,
          h("p", { class: "byom-note", text: t("wizard.model_note", { category_text: t("category." + category + "_text") }) })));
        const amount = h("input", { type: "text", inputmode: "decimal", id: "byom-amount", class: "byom-input byom-amount",
          value: lang === "nl" ? "1,00" : "1.00", "data-testid": "wizard-amount" });
        const period = h("select", { id: "byom-period", class: "byom-input", "data-testid": "wizard-period" },
          ["day", "month", "total", "session"].map(function (p) { return h("option", { value: p, text: t("period." + p) }); }));
        const msg = h("p", { class: "byom-msg", role: "status", "aria-live": "polite", "data-testid": "wizard-message" });
        body.appendChild(h("section", { class: "byom-sec", "data-testid": "wizard-allowance" },
          h("h3", { text: t("wizard.allowance") }),
          h("p", { class: "byom-note", text: t("wizard.allowance_note") }),
          h("div", { class: "byom-row" },
            h("label", { class: "byom-field" }, h("span", { text: t("wizard.amount") }), h("span", { class: "byom-dollar" }, "$", amount)),
            h("label", { class: "byom-field" }, h("span", { text: t("wizard.period") }), period)),
          h("p", { class: "byom-note", text: t("panel.strict_note") }), msg));
        d.appendChild(body);
        const finish = h("button", { type: "button", class: "byom-btn byom-btn-primary", "data-testid": "wizard-finish", text: t("wizard.finish") });
        d.appendChild(footer([backButton(function () { screen2(); }), cancelButton(), finish]));
        finish.addEventListener("click", async function () {
          finish.disabled = true;
          const a = JSON.parse(await shell.set_allowance(amount.value, period.value, lang === "nl"));
          if (!a.ok) { finish.disabled = false; showError(msg, a); amount.focus(); return; }
          await shell.choose_model(category, select.value);
          await shell.remember(remember.checked);
          finished = true;
          d.close();
        });
      }

      closeResume();
      d.showModal();
      if (startAt === "builtin") optionId = "builtin";
      else if (startAt === 2) optionId = firstProvider();
      if (startAt === 3) screen3(); else if (startAt === 2 || startAt === "builtin") screen2(); else screen1();
    });
    return wizardOpen;
  }

  // Everyday words for a category, with its id in small print for those who know it.
  function categoryName(category) {
    const key = "category." + category;
    return (strings[lang] && strings[lang][key]) || strings.en[key] || category;
  }
  function categorySmall(category) {
    return h("small", { class: "byom-cat-id", text: t("category.id", { id: category }) });
  }

  function featureLabel(f) {
    const key = "feature." + f.name;
    return (strings[lang] && strings[lang][key]) || strings.en[key] || f.description || f.name;
  }
  function priceText(m) {
    if (m.prompt_per_million === null) return t("price.unknown");
    const f = function (x) { return money({ text: "$" + priceNum(x) }); };
    return t("price.per_million", { prompt: f(m.prompt_per_million), completion: f(m.completion_per_million) });
  }
  // A chart figure as dollars by byom.format_money's rule: cents from a cent up ("0.42",
  // "0.00"), two significant digits below a cent ("0.0040", "0.000015"), never an exponent.
  function trimNum(x) {
    const n = Number(x);
    if (!(n > 0)) return "0.00";
    if (n >= 0.01) return n.toFixed(2);
    const digits = Math.min(14, 1 - Math.floor(Math.log10(n)));
    return n.toFixed(digits).replace(/0+$/, "").replace(/\.$/, "");
  }
  // A list price per million tokens: every digit it has, at least two decimals ("0.075",
  // "0.60", "3.00"), as format_money(…, exact=True) writes list prices.
  function priceNum(x) {
    const n = Number(x);
    if (!(n > 0)) return "0.00";
    const s = String(Number(n.toPrecision(12)));
    return (s.split(".")[1] || "").length < 2 ? n.toFixed(2) : s;
  }

  // ---- OAuth PKCE: leave for the provider, come back with a code --------------------------------
  const PKCE_SLOT = "byom:pkce";
  function startPkce(optionId, simulated) {
    const callback = location.origin + location.pathname;
    const res = JSON.parse(shell.pkce_begin(optionId, callback));
    sessionStorage.setItem(PKCE_SLOT, JSON.stringify({ option: optionId, verifier: res.verifier, simulated: !!simulated }));
    window.dispatchEvent(new Event("byom:before-redirect"));
    location.assign(res.url);
  }
  // Back from the provider's sign-in, the page loads again and Python takes a few seconds to
  // start: until the wizard can go on (step 3), a dialog in the wizard's place says what is
  // happening, so the user is never left looking at a page that forgot what they were doing.
  let resumeDialog = null;
  function pkceReturning() {
    try {
      return new URLSearchParams(location.search).has("code") && !!sessionStorage.getItem(PKCE_SLOT);
    } catch (e) { return false; }
  }
  function showResume() {
    if (resumeDialog || !pkceReturning()) return;
    let simulated = false;
    try { simulated = !!JSON.parse(sessionStorage.getItem(PKCE_SLOT)).simulated; } catch (e) { simulated = false; }
    const d = dialog("byom-wizard byom-resume", "byom-resume-title");
    d.dataset.testid = "wizard-resume";
    d.addEventListener("cancel", function (e) { e.preventDefault(); });
    d.appendChild(h("header", { class: "byom-wizard-head" },
      h("div", { class: "byom-brand" }, h("span", { class: "byom-plug", "aria-hidden": "true" }), "BYOM"),
      h("h2", { id: "byom-resume-title", text: t("wizard.title") }),
      h("ol", { class: "byom-steps" }, ["wizard.step1", "wizard.step2", "wizard.step3"].map(function (s, i) {
        return h("li", { class: i === 1 ? "byom-step-now" : (i < 1 ? "byom-step-done" : ""), "aria-current": i === 1 ? "step" : null },
          h("span", { class: "byom-step-n", text: String(i + 1) }), h("span", { text: t(s) }));
      }))));
    d.appendChild(h("div", { class: "byom-wizard-body" },
      h("section", { class: "byom-sec" },
        h("h3", { text: t(simulated ? "wizard.resume_title_sim" : "wizard.resume_title") }),
        h("p", { text: t("wizard.resume_body") }),
        h("p", { class: "byom-progress", role: "status", "data-testid": "wizard-resume-status" },
          h("span", { class: "byom-spinner", "aria-hidden": "true" }), h("span", { class: "byom-progress-text", text: progressText() })))));
    resumeDialog = d;
    d.showModal();
  }
  function closeResume() {
    if (resumeDialog) { const d = resumeDialog; resumeDialog = null; d.close(); }
  }
  async function finishPkce() {
    const params = new URLSearchParams(location.search);
    const code = params.get("code");
    const saved = sessionStorage.getItem(PKCE_SLOT);
    if (!code || !saved) { closeResume(); return; }
    sessionStorage.removeItem(PKCE_SLOT);
    history.replaceState(null, "", location.pathname + location.hash);
    const state = JSON.parse(saved);
    setProgress("connecting");
    const res = JSON.parse(await shell.pkce_finish(state.option, code, state.verifier));
    if (res.ok) {
      await openWizardAfterPkce(res.key);
    } else {
      closeResume();
      toast(errorText(res));
    }
  }
  async function openWizardAfterPkce(info) {
    // Resume at step 3 with the key the provider issued (connected, not yet confirmed).
    const st = status();
    pendingKeyInfo = info;
    await openWizard(st.features[0].name, 3);
  }
  let pendingKeyInfo = null;

  // ---- errors ------------------------------------------------------------------------------------
  function errorText(res) {
    const code = res.code || "byom_error";
    if (code === "budget_exceeded" && res.figures) {
      const f = res.figures;
      return t("err.budget_exceeded", { estimate: money(f.estimate), spent: money(f.spent), allowance: money(f.allowance), period: t("period." + f.period) });
    }
    const key = "err." + code;
    if (code === "boot") return t("err.boot");
    return strings.en[key] ? t(key) : t("err.byom_error");
  }
  function showError(el, res, text) {
    el.className = "byom-msg byom-msg-error";
    el.dataset.code = res.code || "byom_error";
    el.textContent = text || errorText(res);
    if (el.scrollIntoView) el.scrollIntoView({ block: "nearest" });  // never below the fold
  }
  function toast(text) {
    const el = h("div", { class: "byom-toast", role: "alert", text: text });
    document.body.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }

  // ---- the cost surface (R4.1): pending → real cost, running total, one row per request -----------
  let costEl = null;
  let costSlot = null;
  let costRows = null;
  let costTotal = null;
  let costClose = null;
  let inFlight = 0;
  function ensureCost() {
    if (costEl) return;
    costRows = h("ol", { class: "byom-cost-rows", "data-testid": "cost-rows" });
    costTotal = h("data", { class: "byom-cost-total", "data-testid": "cost-total", value: "0", text: money("$0.00") });
    costClose = h("button", { type: "button", class: "byom-icon-btn", "aria-label": t("common.close"), text: "×",
      onclick: function () { if (!inFlight) { costEl.hidden = true; document.body.classList.remove("byom-cost-open"); } } });
    costEl = h("aside", { class: "byom-cost", "data-testid": "cost-surface", "aria-live": "polite", "aria-label": t("cost.title") },
      h("header", {}, h("strong", { text: t("cost.title") }), costClose),
      h("div", { class: "byom-cost-sum" }, h("span", { text: t("cost.session") }), costTotal),
      costRows);
    if (costSlot) {
      costEl.classList.add("byom-cost-inline");
      costSlot.appendChild(costEl);
    } else {
      document.body.appendChild(costEl);
    }
  }
  function costRow(ev) {
    let row = costRows.querySelector('[data-call="' + ev.call_id + '"]');
    if (!row) {
      const group = ev.run_id ? runGroup(ev) : null;
      row = h("li", { class: "byom-cost-row" + (group ? " byom-cost-step" : ""), "data-call": ev.call_id, "data-testid": "cost-row",
        "data-run": ev.run_id || null },
        h("span", { class: "byom-cost-what" },
          h("strong", { text: group ? t("cost.step", { n: ev.step }) : featureLabel({ name: ev.feature, description: "" }) }), h("small", { text: ev.model })),
        h("span", { class: "byom-cost-figure" }));
      if (group) group.querySelector(".byom-cost-steps").appendChild(row);
      else costRows.insertBefore(row, costRows.firstChild);
    }
    return row;
  }
  // A run: one row for the whole run (feature · steps · running total), its steps inside.
  function runGroup(ev) {
    let group = costRows.querySelector('[data-run="' + ev.run_id + '"].byom-cost-run');
    if (!group) {
      group = h("li", { class: "byom-cost-run", "data-run": ev.run_id, "data-testid": "cost-run", "data-state": "running",
        "data-feature": ev.feature },
        h("p", { class: "byom-cost-run-summary", "data-testid": "cost-run-summary" }),
        h("p", { class: "byom-cost-run-note", "data-testid": "cost-run-note" }),
        h("ol", { class: "byom-cost-steps", "data-testid": "cost-run-steps" }));
      costRows.insertBefore(group, costRows.firstChild);
      renderRun(group, { feature: ev.feature, steps: 0, cost: { exact: "0", text: "$0.00" }, max_cost: ev.max_cost });
    }
    return group;
  }
  // ev: the run's latest figures (a run event), or null to redraw with the last ones (a step
  // was sent or settled).
  function renderRun(group, ev) {
    if (ev) group._run = ev; else ev = group._run;
    const finished = ev.type === "runfinished";
    const label = featureLabel({ name: ev.feature || group.dataset.feature, description: "" });
    const sent = group.querySelectorAll(".byom-cost-step").length;
    const steps = Math.max(ev.steps || 0, finished ? 0 : sent);
    const total = h("data", { class: "byom-cost-run-total", "data-testid": "cost-run-total", value: ev.cost.exact || "0",
      title: ev.cost.exact ? ev.cost.exact + " USD" : "", text: money(ev.cost) });
    const summary = group.querySelector(".byom-cost-run-summary");
    clear(summary);
    const pieces = tNodes(finished ? "cost.run_done" : (steps ? "cost.run_running" : "cost.run_starting"),
      { feature: h("strong", { text: label }), steps: stepsText(steps), cost: total });
    // The amount keeps the words after it ("so far") on its line.
    const at = pieces.indexOf(total);
    if (at >= 0) pieces.splice(at, 2, h("span", { class: "byom-nowrap" }, pieces.slice(at, at + 2)));
    summary.append.apply(summary, pieces);
    const note = group.querySelector(".byom-cost-run-note");
    const parts = [];
    if (finished) {
      group.dataset.state = ev.stopped === "done" ? "done" : "stopped";
      group.dataset.stopped = ev.stopped;
      if (ev.stopped !== "done") parts.push(t("run.short." + ev.stopped));
    } else if (ev.max_cost && ev.max_cost.text) {
      parts.push(t("cost.run_ceiling", { ceiling: money(ev.max_cost) }));
    }
    if (ev.unreconciled) parts.push(t("cost.run_unreconciled", { steps: stepsText(ev.unreconciled) }));
    note.textContent = parts.join(" · ");
    note.hidden = !parts.length;
    note.classList.toggle("byom-bad", !!(finished && (ev.stopped !== "done" || ev.unreconciled)));
  }
  function onEvent(ev) {
    inFlight = ev.in_flight + (ev.runs || 0);
    ensureCost();
    costEl.hidden = false;
    if (!costSlot) document.body.classList.add("byom-cost-open");
    if (ev.type === "runstarted" || ev.type === "steplanded" || ev.type === "runfinished") {
      renderRun(runGroup(ev), ev);
      afterEvent(ev);
      return;
    }
    const row = costRow(ev);
    if (ev.run_id) renderRun(runGroup(ev), null);
    const fig = row.querySelector(".byom-cost-figure");
    clear(fig);
    row.dataset.state = ev.type;
    if (ev.type === "pending") {
      fig.appendChild(h("span", { class: "byom-pending", text: t("cost.pending") }));
    } else if (ev.type === "landed") {
      fig.appendChild(h("data", { value: ev.cost.exact === null ? "" : ev.cost.exact, "data-testid": "cost-value",
        title: ev.cost.exact ? ev.cost.exact + " USD" : "", text: money(ev.cost) }));
      fig.appendChild(h("small", { text: t("cost.tokens", { prompt: ev.usage.prompt, completion: ev.usage.completion }) +
        (ev.cost_source === "computed" ? " · " + t("cost.computed") : "") }));
    } else if (ev.type === "refused") {
      const ceiling = ev.error && ev.error.code === "run_ceiling";
      fig.appendChild(h("span", { class: "byom-bad", text: t(ceiling ? "cost.refused_ceiling" : "cost.refused") }));
    } else if (ev.type === "failed") {
      if (ev.cost && ev.cost.exact !== null) {
        fig.appendChild(h("data", { value: ev.cost.exact, "data-testid": "cost-value", text: money(ev.cost) }));
      }
      // a call the user stopped that cannot have been charged (the built-in model) is "stopped";
      // one that may have been charged says so, whatever stopped it
      const stopped = !ev.unreconciled && ev.error && ev.error.code === "cancelled";
      fig.appendChild(h("span", { class: stopped ? "byom-stopped" : "byom-bad", "data-testid": "cost-outcome",
        text: ev.unreconciled ? t("cost.unreconciled") : t(stopped ? "cost.stopped" : "cost.failed") }));
    }
    afterEvent(ev);
  }
  function afterEvent(ev) {
    costTotal.value = ev.session_cost.exact || "0";
    costTotal.textContent = money(ev.session_cost);
    costClose.disabled = inFlight > 0;
    costClose.title = inFlight > 0 ? t("cost.close_busy") : t("common.close");
    costEl.classList.toggle("byom-busy", inFlight > 0);
    renderChips();
    if (panelRefresh) panelRefresh();
  }

  // ---- the connection panel (R5.5) ----------------------------------------------------------------
  // The built-in model is active: say so, and offer to connect a provider instead.
  function builtinPanel(d) {
    return h("section", { class: "byom-sec", "data-testid": "panel-connection", "data-active": "builtin" },
      h("p", {}, h("strong", { text: t("panel.provider", { provider: t("builtin.label") }) })),
      h("p", { class: "byom-note", "data-testid": "panel-key-where", text: t("builtin.panel_note") }),
      h("div", { class: "byom-row" },
        h("button", { type: "button", class: "byom-btn byom-btn-secondary", "data-testid": "panel-switch", text: t("builtin.switch_away"),
          onclick: async function () { d.close(); await openWizard(null, 2); } })));
  }
  let panelRefresh = null;
  async function openPanel() {
    if (!shell) return;
    await shell.reload();
    const d = dialog("byom-panel", "byom-panel-title");
    d.dataset.testid = "panel";
    d.addEventListener("close", function () { panelRefresh = null; });
    function render() {
      clear(d);
      const st = status();
      d.appendChild(h("header", { class: "byom-panel-head" },
        h("h2", { id: "byom-panel-title", text: t("panel.title") }),
        h("button", { type: "button", class: "byom-icon-btn", "aria-label": t("common.close"), text: "×", onclick: function () { d.close(); } })));
      const body = h("div", { class: "byom-panel-body" });
      d.appendChild(body);
      if (!st.connected) {
        body.appendChild(h("section", { class: "byom-sec" }, h("p", { text: t("panel.not_connected") }),
          h("button", { type: "button", class: "byom-btn byom-btn-primary", "data-testid": "panel-connect", text: t("panel.connect"),
            onclick: async function () { d.close(); await openWizard(null); } })));
      } else {
        const option = config.providers.find(function (o) { return o.id === st.option; });
        const where = st.key_where.indexOf("browser") >= 0 ? t("panel.key_browser") : t("panel.key_memory");
        if (option && option.builtin) body.appendChild(builtinPanel(d));
        else body.appendChild(h("section", { class: "byom-sec", "data-testid": "panel-connection" },
          h("p", {}, h("strong", { text: t("panel.provider", { provider: option ? (option.simulator ? t("wizard.sim_label") : t("prov." + option.provider + ".name")) : "?" }) })),
          h("p", { class: "byom-note", "data-testid": "panel-key-where", text: where }),
          h("div", { class: "byom-row" },
            h("button", { type: "button", class: "byom-btn byom-btn-secondary", "data-testid": "panel-clear", text: t("panel.clear"),
              onclick: async function () { await shell.forget_key(); renderChips(); render(); } }),
            h("button", { type: "button", class: "byom-btn byom-btn-secondary", "data-testid": "panel-rotate", text: t("panel.rotate"),
              onclick: async function () { d.close(); await openWizard(null, 2); } })),
          builtinEnabled() ? h("button", { type: "button", class: "byom-btn byom-btn-quiet", "data-testid": "panel-use-builtin", text: t("builtin.switch_to"),
            onclick: async function () { d.close(); await openWizard(null, "builtin"); } }) : null));
        const models = h("section", { class: "byom-sec", "data-testid": "panel-models" }, h("h3", { text: t("panel.models") }));
        Object.keys(st.categories).forEach(function (cat) {
          const c = st.categories[cat];
          const sel = h("select", { class: "byom-input", id: "byom-panel-model-" + cat,
            onchange: async function () { await shell.choose_model(cat, sel.value); renderChips(); } },
            c.models.map(function (m) { return h("option", { value: m.id, selected: m.id === c.chosen, text: m.name + " — " + priceText(m) }); }));
          models.appendChild(h("label", { class: "byom-field", for: "byom-panel-model-" + cat },
            h("span", {}, t("wizard.model", { category: categoryName(cat) }), " ", categorySmall(cat)), sel));
        });
        body.appendChild(models);
      }
      // allowance
      const a = st.allowances[0];
      const amount = h("input", { type: "text", inputmode: "decimal", class: "byom-input byom-amount", "data-testid": "panel-amount",
        value: a ? money(a.amount).replace("$", "") : "" });
      const period = h("select", { class: "byom-input", "data-testid": "panel-period" },
        ["day", "month", "total", "session"].map(function (p) { return h("option", { value: p, selected: a && a.period === p, text: t("period." + p) }); }));
      const amsg = h("p", { class: "byom-msg", role: "status" });
      body.appendChild(h("section", { class: "byom-sec", "data-testid": "panel-allowance" },
        h("h3", { text: t("panel.allowance") }),
        h("p", { "data-testid": "panel-spent", text: a ? t("panel.spent", { spent: money(a.spent), amount: money(a.amount), period: t("period." + a.period) }) : t("panel.no_allowance") }),
        a ? spendParts(a, st.unreconciled.length > 0) : null,
        h("div", { class: "byom-row" }, h("span", { class: "byom-dollar" }, "$", amount), period,
          h("button", { type: "button", class: "byom-btn byom-btn-secondary", text: t("common.save"),
            onclick: async function () {
              const res = JSON.parse(await shell.set_allowance(amount.value, period.value, lang === "nl"));
              if (!res.ok) showError(amsg, res); else render();
            } })),
        h("p", { class: "byom-note", text: t("panel.strict_note") }), amsg));
      if (st.unreconciled.length) {
        body.appendChild(h("section", { class: "byom-sec byom-warn", id: "byom-unfinished", "data-testid": "panel-unfinished" },
          h("h3", { text: t("panel.unreconciled") }), h("p", { class: "byom-note", text: t("panel.unreconciled_note") }),
          h("ul", {}, st.unreconciled.map(function (u) {
            return h("li", { "data-testid": "unfinished-row" }, featureLabel({ name: u.feature, description: "" }) + " · " + u.model + " · " + money(u.estimate) + " ",
              h("button", { type: "button", class: "byom-btn byom-btn-quiet", "data-testid": "unfinished-clear", text: t("panel.stop_counting"),
                onclick: async function () { await shell.clear_unreconciled(u.id); render(); } }));
          }))));
      }
      body.appendChild(historySection());
    }
    panelRefresh = render;
    render();
    d.showModal();
  }

  // What the allowance figure is made of, so it adds up on screen: settled + in flight +
  // unfinished = counted. Unfinished requests say how to clear them (the list below).
  function spendParts(a, listed) {
    const row = function (key, value, testid, extra) {
      return h("li", { "data-testid": testid },
        h("span", { text: t(key) }), h("data", { value: value.exact || "0", text: money(value) }), extra || null);
    };
    const unfinished = Number(a.unfinished.exact || "0") > 0;
    return h("div", { class: "byom-parts", "data-testid": "spend-parts" },
      h("ul", {},
        row("spend.settled", a.settled, "spend-settled"),
        row("spend.in_flight", a.in_flight, "spend-in-flight"),
        row("spend.unfinished", a.unfinished, "spend-unfinished",
          unfinished && listed ? h("a", { href: "#byom-unfinished", class: "byom-parts-link", text: t("spend.unfinished_how") }) : null),
        h("li", { class: "byom-parts-sum", "data-testid": "spend-counted" },
          h("span", { text: t("spend.counted") }), h("data", { value: a.spent.exact || "0", text: money(a.spent) }))),
      h("p", { class: "byom-note", text: t("spend.history_note") }));
  }

  // Delete history only after the user confirms, in words that say the allowance stays.
  function confirmDelete() {
    return new Promise(function (resolve) {
      const d = dialog("byom-confirm", "byom-confirm-title");
      d.dataset.testid = "confirm-delete";
      let answer = false;
      d.addEventListener("close", function () { resolve(answer); });
      d.appendChild(h("h2", { id: "byom-confirm-title", text: t("panel.delete_confirm_title") }));
      d.appendChild(h("p", { text: t("panel.delete_confirm_body") }));
      d.appendChild(h("p", { class: "byom-note", text: t("panel.delete_note") }));
      const keep = h("button", { type: "button", class: "byom-btn byom-btn-secondary", "data-testid": "confirm-delete-no", text: t("panel.delete_keep"),
        onclick: function () { d.close(); } });
      d.appendChild(h("div", { class: "byom-row byom-confirm-foot" }, keep,
        h("button", { type: "button", class: "byom-btn byom-btn-danger", "data-testid": "confirm-delete-yes", text: t("panel.delete_yes"),
          onclick: function () { answer = true; d.close(); } })));
      d.showModal();
      keep.focus();
    });
  }

  function historySection() {
    const hist = JSON.parse(shell.history());
    const sec = h("section", { class: "byom-sec", "data-testid": "panel-history" },
      h("h3", { text: t("panel.history") }), h("p", { class: "byom-note", text: t("panel.history_note") }));
    sec.appendChild(chart(hist.days));
    if (!hist.rows.length) {
      sec.appendChild(h("p", { class: "byom-note", text: t("panel.history_empty") }));
    } else {
      sec.appendChild(h("p", { "data-testid": "history-total", text: t("panel.total", { total: money(hist.total) }) }));
      // Built for its widths: the cost sits beside what was done and never scrolls out of
      // sight; long model names wrap; on a phone each row becomes a small card (kit.css).
      const cols = ["hist.when", "hist.feature", "hist.cost", "hist.outcome", "hist.model", "hist.tokens"];
      const table = h("table", { class: "byom-table byom-history", "data-testid": "history-table" },
        h("thead", {}, h("tr", {}, cols.map(function (k) { return h("th", { scope: "col", class: "byom-col-" + k.slice(5), text: t(k) }); }))),
        h("tbody", {}, hist.rows.slice(0, 50).map(function (r) {
          const cell = function (k, attrs) { return h("td", Object.assign({ class: "byom-col-" + k, "data-label": t("hist." + k) }, attrs || {})); };
          const when = cell("when"); when.textContent = new Date(r.started_at * 1000).toLocaleString(lang, { dateStyle: "short", timeStyle: "short" });
          const feat = cell("feature"); feat.textContent = featureLabel({ name: r.feature, description: "" });
          const cost = cell("cost", { "data-testid": "history-cost" });
          cost.appendChild(h("data", { value: r.cost.exact || "", text: r.cost.exact === null ? "—" : money(r.cost) }));
          const outcome = cell("outcome"); outcome.textContent = t("outcome." + r.outcome);
          const model = cell("model"); model.classList.add("byom-mono");
          r.model.split("/").forEach(function (part, i) {  // a long id breaks after its slash
            if (i) { model.appendChild(document.createTextNode("/")); model.appendChild(h("wbr")); }
            model.appendChild(document.createTextNode(part));
          });
          const tokens = cell("tokens"); tokens.textContent = t("hist.tokens_value", { prompt: r.tokens[0], completion: r.tokens[1] });
          return h("tr", { "data-testid": "history-row", "data-run": r.run_id || null }, when, feat, cost, outcome, model, tokens);
        })));
      sec.appendChild(h("div", { class: "byom-table-wrap" }, table));
    }
    sec.appendChild(h("div", { class: "byom-row" },
      h("button", { type: "button", class: "byom-btn byom-btn-secondary", "data-testid": "export-csv", text: t("panel.export_csv"), onclick: function () { download("csv"); } }),
      h("button", { type: "button", class: "byom-btn byom-btn-secondary", "data-testid": "export-json", text: t("panel.export_json"), onclick: function () { download("json"); } }),
      h("button", { type: "button", class: "byom-btn byom-btn-quiet", "data-testid": "history-delete", text: t("panel.delete"),
        onclick: async function () {
          if (!(await confirmDelete())) return;
          await shell.delete_history();
          if (panelRefresh) panelRefresh();
        } })));
    sec.appendChild(h("p", { class: "byom-note", text: t("panel.delete_note") }));
    return sec;
  }

  function chart(days) {
    const W = 560, H = 120, pad = 22;
    const today = new Date();
    const keys = [];
    for (let i = 13; i >= 0; i--) {
      const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() - i);
      keys.push(d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0"));
    }
    const values = keys.map(function (k) { return days[k] ? Number(days[k].exact) : 0; });
    const max = Math.max.apply(null, values.concat([0]));
    const svg = h("svg:svg", { viewBox: "0 0 " + W + " " + H, class: "byom-chart", role: "img", "aria-label": t("panel.chart"), "data-testid": "history-chart" });
    svg.appendChild(h("svg:title", { text: t("panel.chart") }));
    svg.appendChild(h("svg:line", { x1: 0, x2: W, y1: H - pad, y2: H - pad, class: "byom-axis" }));
    const bw = W / keys.length;
    keys.forEach(function (k, i) {
      const v = values[i];
      const bh = max > 0 ? Math.max(v > 0 ? 2 : 0, (H - pad - 14) * v / max) : 0;
      const bar = h("svg:rect", { x: (i * bw + bw * 0.18).toFixed(1), y: (H - pad - bh).toFixed(1), width: (bw * 0.64).toFixed(1), height: bh.toFixed(1), rx: 2, class: "byom-bar" });
      bar.appendChild(h("svg:title", { text: k + ": " + (days[k] ? money(days[k]) : money("$0.00")) }));
      svg.appendChild(bar);
      if (i % 2 === 1 || keys.length < 8) {
        svg.appendChild(h("svg:text", { x: (i * bw + bw / 2).toFixed(1), y: H - 6, class: "byom-tick", "text-anchor": "middle", text: k.slice(8) }));
      }
    });
    if (max > 0) svg.appendChild(h("svg:text", { x: 2, y: 10, class: "byom-tick", text: money({ text: "$" + trimNum(max) }) }));
    return svg;
  }

  function download(fmt) {
    const text = shell.export(fmt);
    const blob = new Blob([text], { type: fmt === "json" ? "application/json" : "text/csv" });
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: "byom-history." + fmt });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  // ---- running a feature ---------------------------------------------------------------------------
  async function run(feature, inputs, opts) {
    opts = opts || {};
    await ready;
    if (!shell) return { ok: false, code: "boot", message: t("err.boot") };
    let st = status();
    // Nothing is sent without a key AND an allowance the user confirmed (the wizard's last
    // step). A key remembered from before with no allowance goes through that step first.
    // The built-in model costs nothing: it needs no allowance (the guard still runs, at $0).
    const onDevice = function () { return st.connected && st.option === "builtin"; };
    if (!st.connected || (!st.allowances.length && !onDevice())) {
      const ok = await openWizard(feature, st.connected ? 3 : 1);
      st = status();
      if (!ok || !st.connected || (!st.allowances.length && !onDevice())) return { ok: false, code: "not_connected" };
    }

    const taskId = "task-" + (++runCounter);
    // The cost surface is in place before the page shows its answer area, so the page can
    // bring both into view at once without the surface pushing the answer down afterwards.
    ensureCost();
    costEl.hidden = false;
    if (!costSlot) document.body.classList.add("byom-cost-open");
    if (opts.onSend) opts.onSend();
    activeRuns += 1;
    let unsubscribe = null;
    try {
      if (onDevice()) {
        // The built-in model: start its runtime (a connection restored from an earlier visit
        // has not loaded it yet) and show the page its progress — the download or the load from
        // this device, then how much of the prompt it has read before the first word.
        const progress = builtinProgress();
        if (opts.onBuiltinProgress) opts.onBuiltinProgress(progress.el);
        try {
          const runtime = await loadBuiltin(progress);
          unsubscribe = runtime.onProgress(progress.update);
        } catch (e) {
          return { ok: false, code: "builtin_unavailable", message: t("err.builtin_unavailable") };
        }
      }
      return await send(taskId, feature, inputs, opts);
    } finally {
      if (unsubscribe) unsubscribe();
      activeRuns -= 1;
    }
  }
  async function send(taskId, feature, inputs, opts) {
    if (opts.signal) opts.signal.addEventListener("abort", function () { shell.cancel(taskId); }, { once: true });
    const onDelta = function (text) { if (opts.onDelta) opts.onDelta(text); };
    // An agent feature's settled steps (figures and what the app says of its tool calls).
    const onStep = function (json) { if (opts.onStep) opts.onStep(JSON.parse(json)); };
    const options = JSON.stringify({ max_cost: opts.maxCost || null, max_steps: opts.maxSteps || null });
    const res = JSON.parse(await shell.run(taskId, feature, JSON.stringify(inputs || {}), onDelta, onStep, options));
    if (!res.ok) {
      res.message = res.run && res.code === "cancelled"
        ? stoppedText({ stopped: "cancelled", steps: res.run.steps, run: res.run })
        : errorText(res);
    } else if (res.stopped && res.stopped !== "done") {
      res.message = stoppedText(res);
    }
    const failure = res.ok ? res.error : res;
    if (failure && failure.code === "key_rejected") {
      renderChips();
      toast(errorText(failure));
      openWizard(feature, 2);
    }
    renderChips();
    return res;
  }

  // Why a run stopped before it answered, in plain words (R5.6).
  function stoppedText(res) {
    const run = res.run || {};
    let text;
    if (res.stopped === "max_steps") text = t("run.stopped.max_steps", { steps: stepsText(res.steps) });
    else if (res.stopped === "max_cost") text = t("run.stopped.max_cost", { ceiling: money(res.max_cost || run.max_cost) });
    else if (res.stopped === "allowance") text = t("run.stopped.allowance") + (res.error ? " " + errorText(res.error) : "");
    else if (res.stopped === "cancelled") text = t("run.stopped.cancelled", { steps: stepsText(res.steps || 0) });
    else if (res.stopped === "error") text = t("run.stopped.error") + (res.error ? " " + errorText(res.error) : "");
    else return "";
    if (run.unreconciled) text += " " + t("run.unreconciled");
    return text;
  }
  function featureInfo(name) {
    const st = status();
    const f = st && st.features.find(function (x) { return x.name === name; });
    return f ? Object.assign({ label: featureLabel(f) }, f) : null;
  }

  // ---- leave guard (R4.5) ------------------------------------------------------------------------
  // Up from the moment a feature is sent (before the core has reserved: the Web Lock, the
  // storage read and the estimate come first) until it has settled and been written, and
  // whenever the core has paid work in flight. A browser shows the warning only if the user
  // has interacted with the page (clicked, typed) since it loaded — Chromium, Firefox and
  // Safari all require that — and never when the tab is killed or discarded; see the
  // integration guide. The handler is registered at once, so it is in place before any run.
  let activeRuns = 0;
  function leaveGuard() { return activeRuns > 0 || !!(shell && shell.in_flight()); }
  function onBeforeUnload(e) {
    if (!leaveGuard()) return undefined;
    e.preventDefault();
    e.returnValue = t("leave.warning");  // older browsers need a non-empty value; none show it
    return e.returnValue;
  }
  window.addEventListener("beforeunload", onBeforeUnload);

  // ---- language ------------------------------------------------------------------------------------
  function setLang(next) {
    if (next !== "en" && next !== "nl") return;
    lang = next;
    try { localStorage.setItem(LANG_SLOT, next); } catch (e) { /* kept for this page only */ }
    document.documentElement.lang = lang;
    renderChips();
    if (panelRefresh) panelRefresh();
    window.dispatchEvent(new CustomEvent("byom:lang", { detail: lang }));
  }

  // ---- start-up progress: Python takes seconds to start; say which part is under way -------------
  // The stages boot.js reports, in order ("connecting": back from a sign-in, the key is fetched).
  const PROGRESS = ["starting", "python", "app"];
  let progress = "starting";
  function progressText() { return t("progress." + progress); }
  function setProgress(stage) {
    progress = stage;
    renderChips();
    document.querySelectorAll(".byom-progress-text").forEach(function (el) { el.textContent = progressText(); });
  }

  window.BYOM = {
    get lang() { return lang; },
    setLang: setLang,
    t: t,
    h: h,
    money: money,
    addStrings: addStrings,
    ready: ready,
    run: run,
    prepare: prepare,
    openPanel: openPanel,
    openWizard: function (feature) { return ready.then(function () { return openWizard(feature); }); },
    mountStatus: mountStatus,
    // Place the cost surface inside the page (else it floats bottom-right).
    mountCost: function (el) { costSlot = el; },
    leaveGuard: leaveGuard,
    errorText: errorText,
    stoppedText: stoppedText,
    stepsText: stepsText,
    // A feature's category and, for an agent feature, its declared limits (for the page to state).
    featureInfo: featureInfo,
    get bootMs() { return bootMs; },
    get isReady() { return !!shell; },
    _attach: async function (s, ms) {
      await configPromise;
      shell = guard(s);
      bootMs = ms;
      document.documentElement.dataset.byomReady = "1";
      performance.mark("byom:ready");
      renderChips();
      readyResolve();
      warmBuiltin();
      await finishPkce();
    },
    _bootFailed: function () {
      bootFailed = true;
      document.documentElement.dataset.byomReady = "failed";
      renderChips();
      readyResolve();
    },
    _onEvent: onEvent,
    _progress: setProgress,
    _status: status,
    get _config() { return config; },
    _setAllowance: function (amount, period) { return shell.set_allowance(amount, period, false).then(JSON.parse); },
  };
  document.documentElement.lang = lang;
  showResume();
})();
