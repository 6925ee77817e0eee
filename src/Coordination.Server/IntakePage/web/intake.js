/*
 * The web intake page. The conversation runs here, in the reporter's browser: the answers never
 * leave it except inside a box sealed (crypto_box_seal, libsodium-wrappers) to the intake team's
 * public key. The formats are the relay's intake contract (protocol section 11):
 *   report = {"v":1,"flow","language","answers":{stepId: value},"receipt","submittedOn":"yyyy-MM-dd"}
 *            as UTF-8 JSON, padded to a multiple of 1024 bytes (sodium_pad), then sealed;
 *   receipt = 8 words drawn uniformly from the relay's word list (/intake/assets/words.txt);
 *   lookup secret = BLAKE2b-256(key "coordination/v1/receipt-lookup", receipt);
 *   reply key = BLAKE2b-256(key "coordination/v1/receipt-reply", receipt), a reply being
 *   nonce(24) || XChaCha20-Poly1305(reply key, ad "coordination/v1/intake-reply") of the reply
 *   JSON padded to a multiple of 256 bytes;
 *   proof of work = a counter such that BLAKE2b-256(nonce || counter as u64 big-endian) starts
 *   with `difficulty` zero bits.
 * The HTML pins every script and stylesheet, and the word list and page texts fetched here, with
 * Subresource Integrity hashes. A link of the form /intake/{id}#k=<base64url public key> also pins
 * the intake's key: the fragment never reaches the server, and the page refuses to seal to any
 * other key the server names.
 * Nothing is kept in the browser's storage and no cookie is used. Every text is put in the page
 * with textContent, never as HTML.
 */
(function () {
  "use strict";

  const LOOKUP_LABEL = "coordination/v1/receipt-lookup";
  const REPLY_LABEL = "coordination/v1/receipt-reply";
  const REPLY_AD = "coordination/v1/intake-reply";
  const RECEIPT_WORDS = 8;
  const REPORT_BLOCK = 1024;
  const REPLY_BLOCK = 256;
  const TEXTAREA_ABOVE = 300;
  const POW_BATCH = 2048;

  const el = (id) => document.getElementById(id);

  const state = {
    intakeId: null,
    intake: null,
    flowsDocument: null,
    texts: {},
    lang: null,
    flow: null,
    index: -1,
    answers: {},
    words: null,
    keyMismatch: false,
    wordSet: null,
    pending: null,
  };

  // ---------------------------------------------------------------- texts

  function t(key, values) {
    const own = state.texts[state.lang] || {};
    let text = own[key] !== undefined ? own[key] : (state.texts.en || {})[key];
    if (text === undefined) {
      text = key;
    }
    if (values) {
      for (const [name, value] of Object.entries(values)) {
        text = text.split("{" + name + "}").join(String(value));
      }
    }
    return text;
  }

  function flowText(localized) {
    if (localized === null || localized === undefined) {
      return "";
    }
    if (typeof localized === "string") {
      return withRetention(localized);
    }
    const text = localized[state.lang] !== undefined ? localized[state.lang]
      : localized.en !== undefined ? localized.en
        : Object.values(localized)[0];
    return withRetention(text === undefined ? "" : String(text));
  }

  function withRetention(text) {
    return state.intake ? text.split("{retentionDays}").join(String(state.intake.retentionDays)) : text;
  }

  function show(id, visible) {
    el(id).hidden = !visible;
  }

  function showOnly(...ids) {
    for (const id of ["language", "flows", "intro", "step", "sending", "done", "declined"]) {
      show(id, ids.includes(id));
    }
  }

  function setStatus(text) {
    el("status").textContent = text || "";
    el("status").hidden = !text;
  }

  function setProblem(text) {
    el("problem").textContent = text || "";
    el("problem").hidden = !text;
  }

  function focusHeading(id) {
    const heading = el(id);
    if (heading) {
      heading.focus({ preventScroll: false });
    }
  }

  function button(text, onClick, options) {
    const b = document.createElement("button");
    b.type = (options && options.type) || "button";
    b.textContent = text;
    if (options && options.primary) {
      b.className = "primary";
    }
    if (options && options.id) {
      b.id = options.id;
    }
    if (onClick) {
      b.addEventListener("click", onClick);
    }
    return b;
  }

  // ---------------------------------------------------------------- HTTP

  class HttpError extends Error {
    constructor(status, detail) {
      super(detail || ("HTTP " + status));
      this.status = status;
      this.detail = detail;
    }
  }

  /** The SHA-384 the HTML pins for a data file (filled in by the relay), if any. */
  function integrityOf(name) {
    const meta = document.querySelector('meta[name="integrity-' + name + '"]');
    return meta && meta.content.startsWith("sha384-") ? meta.content : undefined;
  }

  async function request(method, path, body, integrity) {
    const init = {
      method,
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      redirect: "error",
      headers: { Accept: "application/json" },
    };
    if (integrity) {
      init.integrity = integrity;
    }
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (!response.ok) {
      let detail = null;
      try {
        const problem = await response.json();
        detail = problem.detail || problem.title || null;
      } catch (e) {
        detail = null;
      }
      throw new HttpError(response.status, detail);
    }
    const type = response.headers.get("Content-Type") || "";
    return type.includes("json") ? response.json() : response.text();
  }

  // ---------------------------------------------------------------- crypto helpers

  const b64 = (bytes) => sodium.to_base64(bytes, sodium.base64_variants.ORIGINAL);
  const unb64 = (text) => sodium.from_base64(text, sodium.base64_variants.ORIGINAL);

  function keyed(label, phrase) {
    return sodium.crypto_generichash(32, sodium.from_string(phrase), sodium.from_string(label));
  }

  function todayUtc() {
    return new Date().toISOString().slice(0, 10);
  }

  function todayLocal() {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
  }

  async function loadWords() {
    if (!state.words) {
      const text = await request("GET", "/intake/assets/words.txt", undefined, integrityOf("words"));
      const words = text.split("\n").map((w) => w.trim()).filter((w) => w.length > 0);
      if (words.length < 7000) {
        throw new Error("The receipt word list is incomplete.");
      }
      state.words = words;
      state.wordSet = new Set(words);
    }
    return state.words;
  }

  function newReceipt(words) {
    const picked = [];
    for (let i = 0; i < RECEIPT_WORDS; i++) {
      picked.push(words[sodium.randombytes_uniform(words.length)]);
    }
    return picked.join(" ");
  }

  /** Lower-case, single spaces; null unless it is eight words from the list (as ReceiptPhrase.Normalize). */
  function normalizeReceipt(typed) {
    if (!typed || typed.length > 200) {
      return null;
    }
    const words = typed.trim().toLowerCase().split(/\s+/).filter((w) => w.length > 0);
    return words.length === RECEIPT_WORDS && words.every((w) => state.wordSet.has(w)) ? words.join(" ") : null;
  }

  function leadingZeroBits(hash) {
    let bits = 0;
    for (const b of hash) {
      if (b === 0) {
        bits += 8;
        continue;
      }
      return bits + Math.clz32(b) - 24;
    }
    return bits;
  }

  /** Searches counters from 0, yielding to the page between batches. */
  async function solve(nonce, difficulty) {
    const input = new Uint8Array(nonce.length + 8);
    input.set(nonce);
    const view = new DataView(input.buffer);
    let counter = 0;
    for (;;) {
      const end = counter + POW_BATCH;
      for (; counter < end; counter++) {
        view.setUint32(nonce.length, Math.floor(counter / 4294967296));
        view.setUint32(nonce.length + 4, counter >>> 0);
        if (leadingZeroBits(sodium.crypto_generichash(32, input, null)) >= difficulty) {
          return counter;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  // ---------------------------------------------------------------- start

  async function start() {
    const match = /^\/intake\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\/?$/.exec(location.pathname);
    state.intakeId = match ? match[1].toLowerCase() : null;

    let texts;
    try {
      texts = await request("GET", "/intake/assets/page-texts.json", undefined, integrityOf("page-texts"));
    } catch (e) {
      setStatus("");
      setProblem("The page could not load its texts. · Страница не смогла загрузить тексты.");
      return;
    }
    for (const [key, value] of Object.entries(texts)) {
      if (!key.startsWith("$")) {
        state.texts[key] = value;
      }
    }

    if (typeof sodium === "undefined") {
      setStatus("");
      setProblem(allLanguages("cryptoUnavailable"));
      return;
    }

    const intakePath = "/api/v1/intakes/" + encodeURIComponent(state.intakeId || "none");
    // sodium.ready never settles when WebAssembly is refused: give up after a while and say so.
    const ready30s = Promise.race([sodium.ready, new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 30000))]);
    const [ready, intake, flows] = await Promise.allSettled([
      ready30s,
      state.intakeId ? request("GET", intakePath) : Promise.reject(new HttpError(404)),
      state.intakeId ? request("GET", intakePath + "/flows") : Promise.reject(new HttpError(404)),
    ]);
    if (ready.status !== "fulfilled") {
      setStatus("");
      setProblem(allLanguages("cryptoUnavailable"));
      return;
    }
    if (intake.status === "fulfilled" && flows.status === "fulfilled") {
      state.intake = intake.value;
      state.flowsDocument = flows.value;
      state.keyMismatch = !keyMatchesLink(state.intake.publicKey);
    }

    const languages = pickLanguages();
    setStatus("");
    if (languages.length === 1) {
      chooseLanguage(languages[0]);
      return;
    }
    el("language-heading").textContent = languages.map((l) => (state.texts[l] || {}).chooseLanguage || l).join(" · ");
    const options = el("language-options");
    options.replaceChildren();
    for (const lang of languages) {
      const b = button((state.texts[lang] || {}).languageName || lang, () => chooseLanguage(lang));
      b.lang = lang;
      b.dataset.lang = lang;
      options.appendChild(b);
    }
    showOnly("language");
  }

  /** True unless the link's fragment names an intake key (#k=base64url) other than the one the server gave. */
  function keyMatchesLink(publicKey) {
    const pinned = new URLSearchParams(location.hash.slice(1)).get("k");
    if (!pinned) {
      return true;
    }
    try {
      const expected = sodium.from_base64(pinned, sodium.base64_variants.URLSAFE_NO_PADDING);
      const given = unb64(publicKey);
      return expected.length === given.length && sodium.memcmp(expected, given);
    } catch (e) {
      return false;
    }
  }

  function allLanguages(key) {
    return Object.keys(state.texts).map((l) => state.texts[l][key]).filter((x) => x).join(" · ");
  }

  /** The intake's languages the page can speak; the page's own labels fall back to English. */
  function pickLanguages() {
    const offered = (state.intake && state.intake.languages && state.intake.languages.length > 0) ? state.intake.languages
      : (state.flowsDocument && state.flowsDocument.languages) ? state.flowsDocument.languages
        : Object.keys(state.texts);
    const languages = offered.filter((l) => typeof l === "string" && /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(l));
    return languages.length > 0 ? languages : ["en"];
  }

  function chooseLanguage(lang) {
    state.lang = lang;
    document.documentElement.lang = lang;
    document.title = t("pageTitle");
    el("page-title").textContent = t("pageTitle");
    setProblem("");
    setupReplies();
    if (!state.intake || !state.flowsDocument) {
      showOnly();
      setProblem(t("intakeUnavailable"));
      return;
    }
    if (state.keyMismatch) {
      showOnly();
      setProblem(t("keyMismatch"));
      return;
    }
    const flows = (state.flowsDocument.flows || []).filter((f) => f && f.key && Array.isArray(f.steps));
    if (flows.length === 1) {
      chooseFlow(flows[0]);
      return;
    }
    el("privacy-note").textContent = t("privacyNote");
    el("flows-heading").textContent = t("chooseFlow");
    const options = el("flow-options");
    options.replaceChildren();
    for (const flow of flows) {
      const b = button(flowText(flow.title), () => chooseFlow(flow));
      b.dataset.flow = flow.key;
      options.appendChild(b);
    }
    showOnly("flows");
    focusHeading("flows-heading");
  }

  function chooseFlow(flow) {
    state.flow = flow;
    state.answers = {};
    state.index = -1;
    el("intro-heading").textContent = flowText(flow.title);
    el("intro-text").textContent = flowText(flow.intro);
    el("intro-retention").textContent = t("retention", { days: state.intake.retentionDays });
    const startButton = el("intro-start");
    startButton.textContent = t("start");
    startButton.onclick = () => goTo(nextIndex(-1));
    showOnly("intro");
    el("intro-heading").tabIndex = -1;
    focusHeading("intro-heading");
  }

  // ---------------------------------------------------------------- steps

  function isVisible(step) {
    if (!step.showIf) {
      return true;
    }
    const value = state.answers[step.showIf.step];
    return Array.isArray(step.showIf.in) && value !== undefined && step.showIf.in.includes(value);
  }

  function nextIndex(from) {
    const steps = state.flow.steps;
    for (let i = from + 1; i < steps.length; i++) {
      if (isVisible(steps[i])) {
        return i;
      }
    }
    return steps.length;
  }

  function previousIndex(from) {
    for (let i = from - 1; i >= 0; i--) {
      if (isVisible(state.flow.steps[i])) {
        return i;
      }
    }
    return -1;
  }

  function goTo(index) {
    if (index < 0) {
      chooseFlow(state.flow);
      return;
    }
    if (index >= state.flow.steps.length) {
      // A flow without a consent step: nothing more to ask.
      submit();
      return;
    }
    state.index = index;
    renderStep();
  }

  function renderStep() {
    const step = state.flow.steps[state.index];
    const answer = step.answer || { kind: "text" };
    const visible = state.flow.steps.filter(isVisible);
    const position = visible.indexOf(step) + 1;
    el("step-progress").textContent = t("stepOf", { n: position, total: visible.length }) + (step.optional ? " · " + t("optional") : "");
    el("step-question").textContent = flowText(step.question);
    const hint = flowText(step.hint);
    el("step-hint").textContent = hint;
    el("step-hint").hidden = !hint;
    showStepError("");

    const area = el("step-answer");
    area.replaceChildren();
    const saved = state.answers[step.id];
    const describedBy = hint ? "step-hint" : "";

    if (answer.kind === "choice") {
      const fieldset = document.createElement("fieldset");
      fieldset.setAttribute("aria-labelledby", "step-question");
      if (describedBy) {
        fieldset.setAttribute("aria-describedby", describedBy);
      }
      const selected = saved !== undefined ? saved : answer.default;
      (answer.options || []).forEach((option, i) => {
        const label = document.createElement("label");
        label.className = "choice";
        const input = document.createElement("input");
        input.type = "radio";
        input.name = "answer";
        input.value = option.value;
        input.id = "answer-" + i;
        input.checked = option.value === selected;
        const span = document.createElement("span");
        span.textContent = flowText(option.label);
        label.append(input, span);
        fieldset.appendChild(label);
      });
      area.appendChild(fieldset);
    } else if (answer.kind === "date") {
      const input = document.createElement("input");
      input.type = "date";
      input.id = "answer";
      input.name = "answer";
      input.max = todayLocal();
      input.setAttribute("aria-labelledby", "step-question");
      if (describedBy) {
        input.setAttribute("aria-describedby", describedBy);
      }
      if (saved !== undefined) {
        input.value = saved;
      }
      area.appendChild(input);
    } else if (answer.kind === "consent") {
      // The question says it all; the two buttons are the answer.
    } else {
      const max = Number.isInteger(answer.maxLength) && answer.maxLength > 0 ? answer.maxLength : null;
      const input = document.createElement(max !== null && max <= TEXTAREA_ABOVE ? "input" : "textarea");
      if (input.tagName === "INPUT") {
        input.type = "text";
      }
      input.id = "answer";
      input.name = "answer";
      input.autocomplete = "off";
      input.setAttribute("aria-labelledby", "step-question");
      const counter = document.createElement("p");
      counter.id = "answer-count";
      counter.className = "note";
      input.setAttribute("aria-describedby", (describedBy + " answer-count").trim());
      if (max !== null) {
        input.maxLength = max;
      }
      if (saved !== undefined) {
        input.value = saved;
      }
      const update = () => {
        counter.textContent = max !== null ? t("charactersLeft", { n: Math.max(0, max - input.value.length) }) : "";
      };
      input.addEventListener("input", update);
      update();
      area.append(input, counter);
    }

    const buttons = el("step-buttons");
    buttons.replaceChildren();
    if (answer.kind === "consent") {
      buttons.append(
        button(t("consentYes"), null, { type: "submit", primary: true, id: "step-next" }),
        button(t("consentNo"), decline, { id: "step-decline" }));
    } else {
      buttons.append(button(t("next"), null, { type: "submit", primary: true, id: "step-next" }));
      // A choice with a default is never left empty (the relay's bot records the default too).
      if (step.optional && answer.default === undefined) {
        buttons.append(button(t("skip"), skip, { id: "step-skip" }));
      }
    }
    buttons.append(button(t("back"), () => goTo(previousIndex(state.index)), { id: "step-back" }));

    showOnly("step");
    focusHeading("step-question");
  }

  function showStepError(text) {
    el("step-error").textContent = text || "";
    el("step-error").hidden = !text;
    const input = el("answer") || el("step-answer").querySelector("fieldset");
    if (input) {
      if (text) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-errormessage", "step-error");
        input.focus();
      } else {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-errormessage");
      }
    }
  }

  function readAnswer(step) {
    const answer = step.answer || { kind: "text" };
    if (answer.kind === "choice") {
      const checked = el("step-answer").querySelector("input[name=answer]:checked");
      const value = checked ? checked.value : "";
      if (value && !(answer.options || []).some((o) => o.value === value)) {
        return { error: t("chooseOne") };
      }
      return { value };
    }
    if (answer.kind === "consent") {
      return { value: "yes" };
    }
    const input = el("answer");
    const value = input ? input.value.trim() : "";
    if (answer.kind === "date") {
      if (value && !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
        return { error: t("invalidDate") };
      }
      return { value };
    }
    if (Number.isInteger(answer.maxLength) && value.length > answer.maxLength) {
      return { error: t("tooLong", { max: answer.maxLength }) };
    }
    return { value };
  }

  function onStepSubmit(event) {
    event.preventDefault();
    const step = state.flow.steps[state.index];
    const read = readAnswer(step);
    if (read.error) {
      showStepError(read.error);
      return;
    }
    if (!read.value && (step.answer || {}).default !== undefined) {
      read.value = step.answer.default;
    }
    if (!read.value) {
      if (!step.optional) {
        const kind = (step.answer || {}).kind;
        showStepError(kind === "choice" ? t("chooseOne") : kind === "date" ? t("invalidDate") : t("required"));
        return;
      }
      delete state.answers[step.id];
    } else {
      state.answers[step.id] = read.value;
    }
    goTo(nextIndex(state.index));
  }

  function skip() {
    const step = state.flow.steps[state.index];
    delete state.answers[step.id];
    goTo(nextIndex(state.index));
  }

  /** A "no" to consent: everything typed is dropped, nothing is sent. */
  function decline() {
    state.answers = {};
    el("step-answer").replaceChildren();
    el("declined-text").textContent = t("discarded");
    el("declined-restart").textContent = t("startOver");
    el("declined-restart").onclick = () => chooseLanguage(state.lang);
    showOnly("declined");
    focusHeading("declined-text");
  }

  // ---------------------------------------------------------------- sealing and sending

  function assembleReport(receipt) {
    const answers = {};
    for (const step of state.flow.steps) {
      if (isVisible(step) && state.answers[step.id] !== undefined && state.answers[step.id] !== "") {
        answers[step.id] = state.answers[step.id];
      }
    }
    return {
      v: 1,
      flow: state.flow.key,
      language: state.lang,
      answers,
      receipt,
      submittedOn: todayUtc(),
    };
  }

  function showSending(text, canRetry) {
    el("sending-text").textContent = text;
    el("sending-progress").hidden = canRetry;
    const retry = el("sending-retry");
    retry.textContent = t("retry");
    retry.hidden = !canRetry;
    showOnly("sending");
  }

  async function submit() {
    showSending(t("sealing"), false);
    try {
      const words = await loadWords();
      const receipt = newReceipt(words);
      const plaintext = sodium.from_string(JSON.stringify(assembleReport(receipt)));
      const padded = sodium.pad(plaintext, REPORT_BLOCK);
      const sealed = sodium.crypto_box_seal(padded, unb64(state.intake.publicKey));
      sodium.memzero(plaintext);
      sodium.memzero(padded);
      state.pending = { sealed, receipt, lookup: keyed(LOOKUP_LABEL, receipt) };
      // The answers are in the sealed box now; the page drops its own copy.
      state.answers = {};
      el("step-answer").replaceChildren();
    } catch (e) {
      showSending(t("networkError"), true);
      el("sending-retry").onclick = () => submit();
      return;
    }
    await send();
  }

  async function send() {
    const pending = state.pending;
    el("sending-retry").onclick = () => send();
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        showSending(t("solving"), false);
        const base = "/api/v1/intakes/" + encodeURIComponent(state.intakeId);
        const challenge = await request("POST", base + "/challenges");
        const counter = await solve(unb64(challenge.nonce), challenge.difficulty);
        showSending(t("sending"), false);
        await request("POST", base + "/reports", {
          pow: { challengeId: challenge.challengeId, counter },
          sealedReport: b64(pending.sealed),
          receiptLookupSecret: b64(pending.lookup),
        });
        state.pending = null;
        done(pending.receipt);
        return;
      } catch (e) {
        if (e instanceof HttpError && e.status === 429) {
          showSending(t("tooMany"), true);
          return;
        }
        if (e instanceof HttpError && e.status >= 400 && e.status < 500 && attempt < 2) {
          // An expired or already used challenge: ask for a new one.
          continue;
        }
        showSending(e instanceof HttpError ? t("refused", { detail: e.detail || e.status }) : t("networkError"), true);
        return;
      }
    }
  }

  function done(receipt) {
    el("done-heading").textContent = flowText(state.flow.title);
    el("done-text").textContent = flowText(state.flow.completion);
    el("receipt-label").textContent = t("receiptLabel");
    el("receipt").textContent = receipt;
    el("receipt-note").textContent = t("receiptNote");
    el("replies-receipt").value = receipt;
    showOnly("done");
    focusHeading("done-heading");
  }

  // ---------------------------------------------------------------- replies

  function setupReplies() {
    el("replies-heading").textContent = t("repliesHeading");
    el("replies-intro").textContent = t("repliesIntro");
    el("replies-label").textContent = t("receiptInput");
    el("replies-check").textContent = t("check");
    el("replies-status").textContent = "";
    el("replies-list").replaceChildren();
    show("replies", true);
  }

  async function checkReplies(event) {
    event.preventDefault();
    const status = el("replies-status");
    const list = el("replies-list");
    list.replaceChildren();
    status.textContent = t("checking");
    try {
      await loadWords();
      const phrase = normalizeReceipt(el("replies-receipt").value);
      if (!phrase) {
        status.textContent = t("invalidReceipt");
        return;
      }
      let replies;
      try {
        replies = await request("POST", "/api/v1/receipts/replies", { receiptLookupSecret: b64(keyed(LOOKUP_LABEL, phrase)) });
      } catch (e) {
        status.textContent = e instanceof HttpError && e.status === 404 ? t("unknownReceipt")
          : e instanceof HttpError && e.status === 429 ? t("tooMany")
            : t("networkError");
        return;
      }
      const key = keyed(REPLY_LABEL, phrase);
      const ad = sodium.from_string(REPLY_AD);
      let failed = 0;
      for (const reply of (replies.replies || [])) {
        try {
          const sealed = unb64(reply.sealed);
          const nonce = sealed.subarray(0, sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
          const ciphertext = sealed.subarray(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
          const padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
          const content = JSON.parse(sodium.to_string(sodium.unpad(padded, REPLY_BLOCK)));
          const item = document.createElement("li");
          item.dataset.replyId = reply.replyId;
          const heading = document.createElement("p");
          heading.className = "note";
          heading.textContent = t("replyOf", { date: typeof content.sentOn === "string" ? content.sentOn : "" });
          const text = document.createElement("p");
          text.className = "reply-text";
          text.textContent = typeof content.text === "string" ? content.text : "";
          item.append(heading, text);
          list.appendChild(item);
        } catch (e) {
          failed++;
        }
      }
      sodium.memzero(key);
      const shown = list.children.length;
      status.textContent = (shown === 0 && failed === 0 ? t("noReplies") : "") + (failed > 0 ? t("undecryptable") : "");
    } catch (e) {
      status.textContent = t("networkError");
    }
  }

  // ---------------------------------------------------------------- wiring

  document.addEventListener("DOMContentLoaded", () => {
    el("step-form").addEventListener("submit", onStepSubmit);
    el("replies-form").addEventListener("submit", checkReplies);
    start().catch(() => {
      setStatus("");
      setProblem("The page could not start. · Страница не смогла запуститься.");
    });
  });
})();
