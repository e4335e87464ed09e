// Reader: the free core (open, read, outline, search, reading time, bookmarks) in plain
// JavaScript — it paints and works before Python has loaded, and without any key. The model
// tools call BYOM.run(), which runs the Python feature through byom.
"use strict";
(function () {
  const B = window.BYOM;
  const t = B.t;
  const h = B.h;
  const $ = function (id) { return document.getElementById(id); };
  const MAX_BYTES = 5 * 1024 * 1024;
  const SAMPLES = [
    { file: "samples/connecting-a-key.md", title: { en: "A plain guide to connecting a key", nl: "A plain guide to connecting a key (English)" } },
    { file: "samples/lighthouse.md", title: { en: "The lighthouse keeper's log", nl: "The lighthouse keeper's log (English)" } },
    { file: "samples/rustig-lezen.md", title: { en: "Rustig lezen (Dutch)", nl: "Rustig lezen" } },
  ];
  const state = { title: "", text: "", plain: false, hash: "", headings: [], marks: [], markIndex: -1, controller: null, jumped: null };

  // ---- i18n of the static page ----------------------------------------------------------------
  function translatePage() {
    document.querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (el) { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.title = t("app.name") + " — " + t("welcome.title");
  }

  // ---- Markdown → DOM (a safe subset; text only ever goes through textContent) ------------------
  function inline(text, parent) {
    const re = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)|(\[[^\]]+\]\((https?:\/\/[^)\s]+)\))/g;
    let last = 0;
    let m;
    while ((m = re.exec(text))) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      const s = m[0];
      if (m[1]) parent.appendChild(h("code", { text: s.slice(1, -1) }));
      else if (m[2]) parent.appendChild(h("strong", { text: s.slice(2, -2) }));
      else if (m[3]) parent.appendChild(h("em", { text: s.slice(1, -1) }));
      else if (m[4]) {
        const label = s.slice(1, s.indexOf("]("));
        parent.appendChild(h("a", { href: m[5], target: "_blank", rel: "noopener noreferrer", text: label }));
      }
      last = m.index + s.length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
    return parent;
  }
  function renderMarkdown(src, target, plain) {
    const lines = src.replace(/\r\n?/g, "\n").split("\n");
    const headings = [];
    let i = 0;
    let para = [];
    function flush() {
      if (para.length) { target.appendChild(inline(para.join(" "), h("p"))); para = []; }
    }
    while (i < lines.length) {
      const line = lines[i];
      let m;
      if (!plain && /^```/.test(line)) {
        flush();
        const code = [];
        i++;
        while (i < lines.length && !/^```/.test(lines[i])) code.push(lines[i++]);
        i++;
        target.appendChild(h("pre", {}, h("code", { text: code.join("\n") })));
        continue;
      }
      if (!plain && (m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
        flush();
        const level = m[1].length;
        const id = "h-" + headings.length;
        const el = inline(m[2], h("h" + Math.min(level + 1, 6), { id: id, "data-level": level }));
        headings.push({ id: id, level: level, text: el.textContent });
        target.appendChild(el);
        i++;
        continue;
      }
      if (!plain && /^(\*\s*\*\s*\*|-\s*-\s*-|_\s*_\s*_)[\s*_-]*$/.test(line)) { flush(); target.appendChild(h("hr")); i++; continue; }
      if (!plain && /^>\s?/.test(line)) {
        flush();
        const quote = [];
        while (i < lines.length && /^>\s?/.test(lines[i])) quote.push(lines[i++].replace(/^>\s?/, ""));
        target.appendChild(inline(quote.join(" "), h("blockquote")));
        continue;
      }
      if (!plain && /^\s*([-*+]|\d+[.)])\s+/.test(line)) {
        flush();
        const ordered = /^\s*\d/.test(line);
        const list = h(ordered ? "ol" : "ul");
        while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i])) {
          let item = lines[i++].replace(/^\s*([-*+]|\d+[.)])\s+/, "");
          while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !/^\s*([-*+]|\d+[.)])\s+/.test(lines[i])) item += " " + lines[i++].trim();
          list.appendChild(inline(item, h("li")));
        }
        target.appendChild(list);
        continue;
      }
      if (!line.trim()) { flush(); i++; continue; }
      para.push(line.trim());
      i++;
    }
    flush();
    return headings;
  }

  // ---- opening a document ---------------------------------------------------------------------------
  async function sha256(text) {
    const data = new TextEncoder().encode(text);
    const digest = await crypto.subtle.digest("SHA-256", data);
    return Array.from(new Uint8Array(digest).slice(0, 12)).map(function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }
  async function openDocument(title, text, isPlain) {
    state.title = title;
    state.text = text;
    state.plain = !!isPlain;
    state.hash = await sha256(text);
    const doc = $("doc");
    while (doc.firstChild) doc.removeChild(doc.firstChild);
    state.headings = renderMarkdown(text, doc, isPlain);
    $("welcome").hidden = true;
    document.querySelector(".layout").classList.add("has-doc");
    doc.hidden = false;
    $("doc-head").hidden = false;
    $("side").hidden = false;
    $("tools").hidden = false;
    $("search").disabled = false;
    const words = (text.match(/\S+/g) || []).length;
    const minutes = Math.max(1, Math.round(words / 230));
    $("doc-meta").textContent = t("meta", { minutes: minutes, words: words.toLocaleString(B.lang) });
    renderOutline();
    renderBookmarks();
    clearSearch();
    $("result").hidden = true;
    document.title = title + " — " + t("app.name");
    state.jumped = null;
    window.scrollTo(0, 0);
    updateJump();
    readAhead();
  }
  // On the model on this device, let it read the Summarize request for this document ahead (the
  // same inputs as the button sends), so a press gets its first word almost at once. Nothing is
  // sent anywhere and nothing is counted; with a provider connected this does nothing.
  function readAhead() {
    if (state.text && B.prepare) B.prepare("summarize", { title: state.title, text: state.text, lang: B.lang });
  }
  function readFile(file) {
    if (!file) return;
    if (file.size > MAX_BYTES) { alertBox(t("file.too_big")); return; }
    const reader = new FileReader();
    reader.onload = function () {
      const text = String(reader.result || "");
      if (text.indexOf("\u0000") >= 0) { alertBox(t("file.unreadable")); return; }
      openDocument(file.name, text, /\.txt$/i.test(file.name));
    };
    reader.onerror = function () { alertBox(t("file.unreadable")); };
    reader.readAsText(file);
  }
  function alertBox(text) {
    const el = h("div", { class: "notice", role: "alert", text: text });
    document.body.appendChild(el);
    setTimeout(function () { el.remove(); }, 5000);
  }
  async function openSample(sample) {
    const r = await fetch(sample.file);
    const text = await r.text();
    await openDocument(sample.title[B.lang] || sample.title.en, text, false);
  }

  // ---- outline ---------------------------------------------------------------------------------------
  function renderOutline() {
    const ol = $("outline");
    while (ol.firstChild) ol.removeChild(ol.firstChild);
    if (!state.headings.length) { ol.appendChild(h("li", { class: "muted", text: t("outline.none") })); return; }
    state.headings.forEach(function (hd) {
      ol.appendChild(h("li", { class: "lvl-" + hd.level },
        h("a", { href: "#" + hd.id, onclick: function (e) {
          e.preventDefault();
          const el = $(hd.id);
          state.jumped = Array.prototype.indexOf.call($("doc").children, el);
          el.scrollIntoView({ behavior: "smooth", block: "start" });
        }, text: hd.text })));
    });
  }

  // ---- bookmarks (per document, in this browser) ----------------------------------------------------
  function bookmarkKey() { return "reader:bookmarks:" + state.hash; }
  function loadBookmarks() {
    try { return JSON.parse(localStorage.getItem(bookmarkKey()) || "[]"); } catch (e) { return []; }
  }
  function saveBookmarks(list) { localStorage.setItem(bookmarkKey(), JSON.stringify(list)); }
  // The block the reader is at: the heading they last jumped to from the outline while it is
  // still on screen (near the end of a document the page cannot scroll it to the top), else
  // the first block below the sticky header.
  function currentBlock() {
    const blocks = $("doc").children;
    if (state.jumped !== null && blocks[state.jumped]) {
      const r = blocks[state.jumped].getBoundingClientRect();
      if (r.top >= 0 && r.top < window.innerHeight) return state.jumped;
    }
    for (let i = 0; i < blocks.length; i++) {
      if (blocks[i].getBoundingClientRect().bottom > 80) return i;
    }
    return 0;
  }
  function labelFor(index) {
    const blocks = $("doc").children;
    for (let i = index; i >= 0; i--) {
      if (/^H[2-6]$/.test(blocks[i].tagName)) {
        return blocks[i].textContent + (i === index ? "" : " ¶" + (index - i));
      }
    }
    return (blocks[index] ? blocks[index].textContent : "").slice(0, 40) + "…";
  }
  function renderBookmarks() {
    const ol = $("bookmarks");
    while (ol.firstChild) ol.removeChild(ol.firstChild);
    const list = loadBookmarks();
    if (!list.length) { ol.appendChild(h("li", { class: "muted", text: t("bookmark.none") })); return; }
    list.forEach(function (bm, n) {
      ol.appendChild(h("li", { "data-testid": "bookmark" },
        h("a", { href: "#", text: bm.label, onclick: function (e) {
          e.preventDefault();
          const el = $("doc").children[bm.block];
          if (el) el.scrollIntoView({ behavior: "smooth", block: "start" });
        } }),
        h("button", { type: "button", class: "icon-btn", "aria-label": t("bookmark.remove"), text: "×", onclick: function () {
          const next = loadBookmarks(); next.splice(n, 1); saveBookmarks(next); renderBookmarks();
        } })));
    });
  }
  function addBookmark() {
    const block = currentBlock();
    const list = loadBookmarks();
    if (!list.some(function (b) { return b.block === block; })) {
      list.push({ block: block, label: labelFor(block) });
      list.sort(function (a, b) { return a.block - b.block; });
      saveBookmarks(list);
    }
    renderBookmarks();
  }

  // ---- search -----------------------------------------------------------------------------------------
  function clearSearch() {
    state.marks.forEach(function (mark) {
      const parent = mark.parentNode;
      if (!parent) return;
      parent.replaceChild(document.createTextNode(mark.textContent), mark);
      parent.normalize();
    });
    state.marks = [];
    state.markIndex = -1;
    $("search-count").textContent = "";
    $("search-prev").disabled = $("search-next").disabled = true;
  }
  function search(query) {
    clearSearch();
    query = query.trim();
    if (query.length < 2) return;
    const needle = query.toLocaleLowerCase();
    const walker = document.createTreeWalker($("doc"), NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(function (node) {
      const text = node.nodeValue;
      const lower = text.toLocaleLowerCase();
      let at = lower.indexOf(needle);
      if (at < 0) return;
      const frag = document.createDocumentFragment();
      let last = 0;
      while (at >= 0) {
        frag.appendChild(document.createTextNode(text.slice(last, at)));
        const mark = h("mark", { text: text.slice(at, at + needle.length) });
        state.marks.push(mark);
        frag.appendChild(mark);
        last = at + needle.length;
        at = lower.indexOf(needle, last);
      }
      frag.appendChild(document.createTextNode(text.slice(last)));
      node.parentNode.replaceChild(frag, node);
    });
    if (!state.marks.length) { $("search-count").textContent = t("search.none"); return; }
    $("search-prev").disabled = $("search-next").disabled = false;
    step(1);
  }
  function step(delta) {
    if (!state.marks.length) return;
    if (state.markIndex >= 0) state.marks[state.markIndex].classList.remove("current");
    state.markIndex = (state.markIndex + delta + state.marks.length) % state.marks.length;
    const mark = state.marks[state.markIndex];
    mark.classList.add("current");
    mark.scrollIntoView({ block: "center" });
    $("search-count").textContent = t("search.count", { n: state.markIndex + 1, total: state.marks.length });
  }

  // ---- model tools (through byom) ---------------------------------------------------------------------
  function selectedPassage() {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed) return "";
    const range = sel.getRangeAt(0);
    if (!$("doc").contains(range.commonAncestorContainer)) return "";
    return sel.toString().trim();
  }
  // The result panel: one feature's answer at a time. begin() clears it and returns the parts.
  // Called when the request is actually sent (after the wizard, if it was needed): before
  // that there is nothing to show, so no card.
  function beginResult(title, controller) {
    const result = $("result");
    result.hidden = false;
    $("result-title").textContent = title;
    clear($("result-body"));
    $("result-body").appendChild(h("p", { class: "muted", text: t("result.waiting") }));
    clear($("result-steps"));
    $("result-steps").hidden = true;
    clear($("result-sources"));
    $("result-sources").hidden = true;
    const foot = $("result-foot");
    foot.textContent = "";
    foot.className = "fine";
    delete foot.dataset.code;
    delete foot.dataset.stopped;
    if (state.controller && state.controller !== controller) state.controller.abort();
    state.controller = controller;
    $("result-stop").hidden = false;
    $("result-stop").onclick = function () { controller.abort(); };
    setBusy(true);
    return controller;
  }
  function endResult(controller) {
    $("result-stop").hidden = true;
    if (state.controller === controller) state.controller = null;
    setBusy(false);
  }
  function setBusy(busy) {
    document.querySelectorAll(".tool, #ask-form button, #research-form button").forEach(function (b) { b.disabled = busy; });
    if (!busy) updateExplain();
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }
  // Once per answer, when it starts to come in: on a narrow screen scroll to it; beside the
  // document the tools column scrolls on its own, so bring ``from`` (the cost surface, or the
  // answer itself) to its top.
  function showAnswerArea(from) {
    if (window.matchMedia("(max-width: 1100px)").matches) {
      $(from).scrollIntoView({ block: "start" });
    } else {
      // Beside the document: scroll the tools column (never up) until the answer's start sits in
      // its upper part, with room below for the answer; the tools above stay partly in view.
      const tools = $("tools");
      const top = $("result").getBoundingClientRect().top - tools.getBoundingClientRect().top + tools.scrollTop;
      tools.scrollTo({ top: Math.max(tools.scrollTop, top - Math.max(120, tools.clientHeight - 340)) });
    }
  }
  function streamer(body, from) {
    const self = {
      text: "",
      shown: false,
      reveal: function () { if (!self.shown) { self.shown = true; showAnswerArea(from || "cost-slot"); } },
      add: function (piece) {
        self.text += piece;
        self.reveal();
        clear(body);
        body.appendChild(h("p", { text: self.text }));
      },
      reset: function () { self.text = ""; },
    };
    return self;
  }
  function showFailure(res, streamed) {
    const body = $("result-body");
    const foot = $("result-foot");
    clear(body);
    if (streamed) body.appendChild(h("p", { text: streamed }));
    foot.className = "fine error";
    foot.dataset.code = res.code;
    foot.textContent = res.message || B.errorText(res);
    if (res.code === "not_connected" && !streamed) $("result").hidden = true;
  }

  // "Cost $0.42 · model"; for a model on this device (free) the tokens it counted instead.
  function costLine(res) {
    if (res.cost_source === "free" && res.tokens) {
      return t("result.cost_tokens", { cost: B.money(res.cost), tokens: res.tokens[0] + res.tokens[1], model: res.model });
    }
    return t("result.cost", { cost: B.money(res.cost), model: res.model });
  }
  async function runTool(feature, extra) {
    const body = $("result-body");
    const foot = $("result-foot");
    const controller = new AbortController();
    const stream = streamer(body);
    const inputs = Object.assign({ title: state.title, text: state.text, lang: B.lang }, extra || {});
    let sent = false;
    const onSend = function () { sent = true; beginResult(t("feature." + feature), controller); stream.reveal(); };
    try {
      const onBuiltinProgress = function (el) { body.appendChild(el); };
      const res = await B.run(feature, inputs, { signal: controller.signal, onDelta: stream.add, onSend: onSend, onBuiltinProgress: onBuiltinProgress });
      if (!sent) {  // not sent: the wizard was cancelled (nothing to show), or Python is down
        if (res.code !== "not_connected") { beginResult(t("feature." + feature), controller); showFailure(res, ""); }
        return;
      }
      if (res.ok) {
        clear(body);
        renderMarkdown(res.text || stream.text, body, false);
        foot.textContent = costLine(res) + (res.truncated ? " · " + t("result.cut") : "");
        if (res.builtin_read) foot.textContent += " · " + B.t("builtin.read", { kept: res.builtin_read.kept, of: res.builtin_read.of });
      } else {
        showFailure(res, stream.text);
      }
    } finally {
      endResult(controller);
    }
  }

  // ---- "Research this document": a run of several steps, with sources -----------------------
  // Python (reader_research.py) gives the model two tools over the open document; the page shows
  // each settled step, streams the answer, and links the sections it cites to where they are.
  function sectionTarget(source) {
    return (source.anchor && $(source.anchor)) || $("doc");
  }
  function sectionLink(source, text) {
    const target = sectionTarget(source);
    const label = text || (source.anchor && $(source.anchor) ? $(source.anchor).textContent : source.title);
    return h("a", { href: "#" + (source.anchor || "doc"), class: "source-link", "data-testid": "source-link",
      "data-section": source.id, "data-anchor": source.anchor || "",
      onclick: function (e) {
        e.preventDefault();
        target.scrollIntoView({ behavior: "smooth", block: "start" });
        target.classList.remove("cited-flash");
        void target.offsetWidth;
        target.classList.add("cited-flash");
      }, text: label });
  }
  function stepText(call) {
    const d = call.details || {};
    if (d.kind === "search") return [t("research.step_search", { query: d.query })];
    if (d.kind === "read" && d.id) {
      const pieces = t("research.step_read", { title: "\u0000" }).split("\u0000");
      return [pieces[0], sectionLink(d), pieces[1] || ""];
    }
    if (d.kind === "read") return [t("research.step_read_missing")];
    return [t("research.step_tool", { tool: call.tool })];
  }
  function addStep(step) {
    const list = $("result-steps");
    list.hidden = false;
    const what = step.calls.length ? [] : [t("research.step_answer")];
    step.calls.forEach(function (call, i) {
      if (i) what.push("; ");
      stepText(call).forEach(function (x) { what.push(x); });
    });
    list.appendChild(h("li", { "data-testid": "result-step", "data-step": step.step },
      h("span", { class: "run-step-what" }, what),
      h("small", { class: "run-step-cost", text: step.cost.exact === null ? "—" : B.money(step.cost) })));
  }
  // [§3] in the answer becomes a link to section 3.
  function linkCitations(body, sources) {
    const byId = {};
    sources.forEach(function (s) { byId[s.id] = s; });
    const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(function (node) {
      const re = /\[§\s*(\d{1,4})\]/g;
      const text = node.nodeValue;
      if (!re.test(text)) return;
      re.lastIndex = 0;
      const frag = document.createDocumentFragment();
      let last = 0;
      let m;
      while ((m = re.exec(text))) {
        frag.appendChild(document.createTextNode(text.slice(last, m.index)));
        const source = byId[Number(m[1])];
        frag.appendChild(source ? sectionLink(source, m[0]) : document.createTextNode(m[0]));
        last = m.index + m[0].length;
      }
      frag.appendChild(document.createTextNode(text.slice(last)));
      node.parentNode.replaceChild(frag, node);
    });
  }
  function showSources(report) {
    const box = $("result-sources");
    clear(box);
    const sources = (report && report.sources) || [];
    box.hidden = false;
    box.appendChild(h("h3", { text: report && report.cited ? t("research.sources") : t("research.read") }));
    if (!sources.length) { box.appendChild(h("p", { class: "muted", text: t("research.no_sources") })); return sources; }
    box.appendChild(h("ol", {}, sources.map(function (s) { return h("li", {}, sectionLink(s)); })));
    return sources;
  }
  async function runResearch(question, opts) {
    opts = opts || {};
    const body = $("result-body");
    const foot = $("result-foot");
    const controller = new AbortController();
    const info = B.featureInfo("research");
    const maxSteps = (info && info.run && info.run.max_steps) || "?";
    const stream = streamer(body, "result");
    const working = function (n) { clear(body); body.appendChild(h("p", { class: "muted", text: t("research.working", { n: n, max: maxSteps }) })); };
    let sent = false;
    const onSend = function () {
      sent = true;
      beginResult(t("feature.research"), controller);
      $("result-title").textContent = t("research.title", { question: question.length > 80 ? question.slice(0, 79) + "…" : question });
      working(1);
      stream.reveal();
    };
    const inputs = { title: state.title, text: state.text, lang: B.lang, plain: state.plain, question: question };
    let res;
    try {
      res = await B.run("research", inputs, {
        signal: controller.signal,
        onSend: onSend,
        maxCost: opts.maxCost,
        maxSteps: opts.maxSteps,
        onDelta: stream.add,
        onStep: function (step) {
          addStep(step);
          stream.reveal();
          if (step.calls.length) { stream.reset(); working(step.step + 1); }  // text of a tool step was interim
        },
      });
      if (!sent) {
        if (res.code !== "not_connected") { beginResult(t("feature.research"), controller); showFailure(res, ""); }
        return res;
      }
      clear(body);
      if (res.ok) {
        renderMarkdown(res.text || stream.text || "", body, false);
        const sources = showSources(res.report);
        linkCitations(body, sources);
        foot.textContent = t("research.cost", { cost: B.money(res.cost), steps: B.stepsText(res.steps), model: res.model || "" }) +
          (res.truncated ? " · " + t("result.cut") : "");
        if (res.stopped !== "done") {
          foot.dataset.stopped = res.stopped;
          foot.appendChild(h("span", { class: "stopped", "data-testid": "result-stopped", text: res.message }));
        }
      } else {
        showFailure(res, stream.text);
        if (res.run) foot.dataset.stopped = "cancelled";
      }
    } finally {
      endResult(controller);
    }
    return res;
  }
  function showLimits() {
    const info = B.featureInfo("research");
    if (!info || !info.run) return;
    $("research-note").textContent = t("research.note", { steps: B.stepsText(info.run.max_steps), cost: B.money(info.run.max_cost) });
  }
  // Explain needs a selection: say so next to the greyed-out button, not only by greying it.
  function updateExplain() {
    const none = !selectedPassage();
    $("t-explain").disabled = none || !!state.controller;
    $("explain-hint").hidden = !none;
  }

  // ---- wiring -------------------------------------------------------------------------------------------
  translatePage();
  B.mountStatus($("byom-chip"));
  B.mountCost($("cost-slot"));
  function renderSamples() {
    clear($("samples"));
    SAMPLES.forEach(function (s) {
      $("samples").appendChild(h("li", {}, h("button", { type: "button", class: "sample", "data-testid": "sample", text: s.title[B.lang] || s.title.en,
        onclick: function () { openSample(s); } })));
    });
  }
  renderSamples();
  // The reader moving on their own ends "where I jumped to" for bookmarks.
  ["wheel", "touchmove", "keydown"].forEach(function (type) {
    window.addEventListener(type, function () { state.jumped = null; }, { passive: true });
  });
  // Language: the page's own switch (kept in this browser), not only the browser's setting.
  const langSwitch = $("lang-switch");
  langSwitch.value = B.lang;
  langSwitch.addEventListener("change", function () { B.setLang(langSwitch.value); });
  window.addEventListener("byom:lang", function () {
    readAhead();  // the request names the answer's language
    langSwitch.value = B.lang;
    langSwitch.setAttribute("aria-label", t("lang.label"));
    translatePage();
    renderSamples();
    if (state.text) {
      const words = (state.text.match(/\S+/g) || []).length;
      $("doc-meta").textContent = t("meta", { minutes: Math.max(1, Math.round(words / 230)), words: words.toLocaleString(B.lang) });
      document.title = state.title + " — " + t("app.name");
      renderOutline();
      renderBookmarks();
    }
    showLimits();
  });
  langSwitch.setAttribute("aria-label", t("lang.label"));
  // On a narrow screen the tools come after the whole document: a button takes the reader
  // there while the tools are out of sight.
  const jump = $("jump-tools");
  jump.addEventListener("click", function () {
    $("tools").scrollIntoView({ block: "start" });
    const first = $("t-summarize");
    if (first) first.focus({ preventScroll: true });
  });
  let toolsSeen = false;
  function updateJump() {
    const narrow = window.matchMedia("(max-width: 1100px)").matches;
    jump.hidden = !(narrow && state.text && !toolsSeen);
  }
  if ("IntersectionObserver" in window) {
    new IntersectionObserver(function (entries) {
      toolsSeen = entries.some(function (e) { return e.isIntersecting; });
      updateJump();
    }).observe($("tools"));
  }
  window.addEventListener("resize", updateJump);
  $("file-input").addEventListener("change", function (e) { readFile(e.target.files[0]); e.target.value = ""; });
  document.addEventListener("dragover", function (e) { e.preventDefault(); });
  document.addEventListener("drop", function (e) { e.preventDefault(); if (e.dataTransfer.files.length) readFile(e.dataTransfer.files[0]); });
  let searchTimer = null;
  $("search").addEventListener("input", function (e) { clearTimeout(searchTimer); searchTimer = setTimeout(function () { search(e.target.value); }, 120); });
  $("search").addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); step(e.shiftKey ? -1 : 1); } });
  $("search-next").addEventListener("click", function () { step(1); });
  $("search-prev").addEventListener("click", function () { step(-1); });
  $("add-bookmark").addEventListener("click", addBookmark);
  document.addEventListener("selectionchange", updateExplain);
  $("t-summarize").addEventListener("click", function () { runTool("summarize"); });
  $("t-critique").addEventListener("click", function () { runTool("critique"); });
  $("t-explain").addEventListener("click", function () { const p = selectedPassage(); if (p) runTool("explain", { passage: p }); });
  $("ask-form").addEventListener("submit", function (e) {
    e.preventDefault();
    const q = $("ask-input").value.trim();
    if (q) runTool("ask", { question: q });
  });
  $("research-form").addEventListener("submit", function (e) {
    e.preventDefault();
    const q = $("research-input").value.trim();
    if (q) runResearch(q);
  });
  B.ready.then(showLimits);
  $("open-panel").addEventListener("click", function () { B.openPanel(); });
  // A document open before an OAuth redirect comes back with the page.
  window.addEventListener("byom:before-redirect", function () {
    if (state.text) sessionStorage.setItem("reader:doc", JSON.stringify({ title: state.title, text: state.text }));
  });
  const stashed = sessionStorage.getItem("reader:doc");
  if (stashed) {
    sessionStorage.removeItem("reader:doc");
    try { const d = JSON.parse(stashed); openDocument(d.title, d.text, false); } catch (e) { /* ignore */ }
  }
  window.Reader = { openDocument: openDocument, research: runResearch, state: state };
})();
