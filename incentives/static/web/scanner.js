// The merchant scanner: staff login, camera scanning (@zxing/browser, loaded on demand),
// manual code entry and a "paste token" field; an offline signature check with the keys
// of /api/v1/voucher-keys; a preview to compare with the ID card; a confirm button; a
// large green or red result; today's redemptions.
// A personal credit pass (信用码, token XP1…) instead lists the merchant's entitlement
// offers to apply; the pass check always goes to the server. Today's entitlement uses and
// redemptions can be reported as incidents (city staff decide).
//
// Offline: when the server cannot be reached, a scanned QR is checked here (signature
// with a cached key inside its validity, expiry, this merchant, not already redeemed on
// this device), queued in IndexedDB (scanner-offline.js) and shown as redeemed offline;
// the pending count is always on screen; back online, the queue is uploaded to
// /merchant/redemptions/batch and each row shows its outcome.

import {
  Api,
  applyLangToShell,
  busy,
  config,
  errorText,
  field,
  fmtDateTime,
  fmtTime,
  h,
  loginHandler,
  has,
  idempotencyKey,
  mount,
  notice,
  onLangSwitch,
  serviceToday,
  spinner,
  t,
  toast,
  useStrings,
  watchOnline,
} from "./common.js";
import { SCANNER, SHARED } from "./strings.js";
import { checkToken, codeProblem, looksLikeToken, normalizeCode, useNobleFallback } from "./voucher-token.js";
import { queueRedemption, rows as offlineRows, syncPending } from "./scanner-offline.js";

useStrings(SHARED, SCANNER);
useNobleFallback(config.noble);

const KEYS_CACHE = "xinyou.scan.voucher-keys";
const ME_CACHE = "xinyou.scan.me"; // who is logged in and their merchant, for offline starts
// what this device learnt online, to name the offer and the masked holder offline:
// {offers: [voucher offer titles], seen: {voucher id: {title, holder, id_last4, at}}}
const KNOWN_CACHE = "xinyou.scan.known";
const KNOWN_MAX = 300;
const KEYS_REFRESH_MS = 10 * 60 * 1000;
const SYNC_RETRY_MS = 20 * 1000;
const view = document.getElementById("view");
const api = new Api("xinyou.scanner.tokens", () => {
  state.me = null;
  state.flash = t("login.expired");
  render();
});
const state = {
  me: null,
  flash: null,
  keys: [],
  keysSource: "none", // live | cached | none
  camera: null, // zxing controls while the camera runs
  result: null, // what the result panel shows (kept across a language switch)
  setup: null, // GET /merchant/scanner: merchant_id, max_batch
  offline: [], // this merchant's offline rows (IndexedDB), newest first
  syncing: false,
};
let els = {}; // the live elements of the main screen

// ------------------------------------------------------------------------------ keys

async function loadKeys() {
  try {
    const keys = await api.request("GET", "/voucher-keys", { auth: false });
    state.keys = keys;
    state.keysSource = "live";
    localStorage.setItem(KEYS_CACHE, JSON.stringify(keys));
  } catch {
    try {
      state.keys = JSON.parse(localStorage.getItem(KEYS_CACHE)) || [];
    } catch {
      state.keys = [];
    }
    state.keysSource = state.keys.length ? "cached" : "none";
  }
  drawKeyStatus();
}

function drawKeyStatus() {
  if (!els.keys) return;
  const n = state.keys.length;
  const text = { live: t("scan.keys_ok", { n }), cached: t("scan.keys_cached", { n }), none: t("scan.keys_none") }[state.keysSource];
  els.keys.className = `key-status key-${state.keysSource}`;
  els.keys.textContent = text;
  els.keys.title = t("scan.keys_count", { n });
  els.keys.dataset.keys = String(n);
}

// ------------------------------------------------------------------------------ screens

async function render() {
  applyLangToShell();
  if (!api.loggedIn) return loginScreen();
  mount(view, spinner());
  try {
    if (!state.me) {
      state.me = await api.request("GET", "/me");
      if (state.me.roles.includes("merchant_staff")) {
        state.setup = await api.request("GET", "/merchant/scanner");
        localStorage.setItem(ME_CACHE, JSON.stringify({ me: state.me, setup: state.setup }));
      }
    }
  } catch (error) {
    const cached = error.code === "network_error" && readCachedMe();
    if (!cached) {
      mount(view, notice("error", errorText(error)), h("button", { type: "button", class: "btn btn-primary btn-block", onclick: render }, t("common.retry")));
      return;
    }
    state.me = cached.me; // offline start: the last known clerk and merchant
    state.setup = cached.setup;
  }
  if (!state.me.roles.includes("merchant_staff")) {
    api.logout();
    state.me = null;
    state.flash = t("scan.not_staff");
    return loginScreen();
  }
  mainScreen();
}

function readCachedMe() {
  try {
    const cached = JSON.parse(localStorage.getItem(ME_CACHE));
    return cached?.me && cached?.setup ? cached : null;
  } catch {
    return null;
  }
}

function loginScreen() {
  stopCamera();
  const phone = field({ name: "phone", label: t("login.phone"), type: "tel", inputmode: "numeric", autocomplete: "username", maxlength: 11 });
  const password = field({ name: "password", label: t("login.password"), type: "password", autocomplete: "current-password" });
  // staff log in with a second factor (docs/accounts.md): the authenticator's code
  const otp = field({ name: "otp", label: t("login.otp"), hint: t("login.otp_hint"), inputmode: "numeric", autocomplete: "one-time-code", maxlength: 20 });
  const error = h("div", { class: "form-error", "data-test": "form-error" });
  if (state.flash) mount(error, notice("error", state.flash));
  state.flash = null;
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", "data-test": "login-submit" }, t("login.submit"));
  const onLogin = loginHandler({
    api, phone, password, otp, error, submit,
    onDone: () => {
      state.me = null;
      render();
    },
  });
  mount(
    view,
    h(
      "form",
      { class: "card form", novalidate: true, onsubmit: onLogin },
      h("h1", {}, t("login.title")),
      phone.wrap,
      password.wrap,
      otp.wrap,
      error,
      submit
    )
  );

}

function mainScreen() {
  const codeInput = h("input", {
    type: "text",
    id: "code-input",
    class: "code-input",
    inputmode: "text",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    maxlength: 16,
    placeholder: t("scan.manual_placeholder"),
    "aria-label": t("scan.manual_title"),
    "data-test": "code-input",
  });
  const tokenInput = h("textarea", { rows: 3, spellcheck: "false", placeholder: "XY1… / XP1…", "aria-label": t("scan.token_title"), "data-test": "token-input" });
  const video = h("video", { class: "camera-video", muted: true, playsinline: true, autoplay: true });
  const cameraBox = h("div", { class: "camera-box", hidden: true }, video, h("div", { class: "camera-frame", "aria-hidden": "true" }), h("p", { class: "camera-hint" }, t("scan.camera_hint")));
  const cameraButton = h("button", { type: "button", class: "btn btn-primary btn-block btn-xl", "data-test": "camera" }, cameraIcon(), t("scan.camera_start"));
  const cameraMessage = h("div");
  els = {
    keys: h("p", { class: "key-status", "data-test": "key-status" }),
    pending: h("div", { class: "pending-bar", "data-test": "pending", "aria-live": "polite" }),
    offline: h("section", { class: "card offline-list", "data-test": "offline-list" }),
    result: h("section", { class: "result-area", id: "result", "aria-live": "assertive" }),
    today: h("section", { class: "card today", "data-test": "today" }),
    uses: h("section", { class: "card today", "data-test": "uses-today" }),
    codeInput,
    video,
    cameraBox,
    cameraButton,
    cameraMessage,
  };

  mount(
    view,
    h(
      "div",
      { class: "staff-bar" },
      h("span", { "data-test": "staff" }, t("scan.staff", { name: state.me.real_name })),
      h("button", { type: "button", class: "link-button", onclick: logout, "data-test": "logout" }, t("common.logout"))
    ),
    els.keys,
    els.pending,
    els.result,
    h("section", { class: "card" }, h("h2", {}, t("scan.camera_title")), cameraBox, cameraMessage, cameraButton),
    h(
      "form",
      { class: "card", novalidate: true, "data-test": "manual-form", onsubmit: (e) => { e.preventDefault(); onCode(codeInput.value, e.submitter || e.target.querySelector("button")); } },
      h("h2", {}, h("label", { for: "code-input" }, t("scan.manual_title"))),
      h("div", { class: "inline-form" }, codeInput, h("button", { type: "submit", class: "btn btn-primary", "data-test": "code-submit" }, t("scan.manual_submit")))
    ),
    h(
      "details",
      { class: "card token-card" },
      h("summary", {}, t("scan.token_title")),
      h(
        "form",
        { novalidate: true, "data-test": "token-form", onsubmit: (e) => { e.preventDefault(); onScanned(tokenInput.value); } },
        tokenInput,
        h("button", { type: "submit", class: "btn btn-secondary btn-block", "data-test": "token-submit" }, t("scan.token_submit"))
      )
    ),
    els.offline,
    els.today,
    els.uses
  );
  cameraButton.addEventListener("click", () => (state.camera ? stopCamera() : startCamera()));
  drawKeyStatus();
  drawResult();
  loadToday();
  loadUses();
  loadVoucherOffers();
  refreshOffline().then(() => syncNow());
}

function logout() {
  stopCamera();
  localStorage.removeItem(ME_CACHE);
  state.setup = null;
  api.logout();
  state.me = null;
  state.result = null;
  render();
}

// ------------------------------------------------------------------------------ camera

function cameraIcon() {
  const icon = h("span", { class: "icon", "aria-hidden": "true" });
  icon.innerHTML =
    '<svg viewBox="0 0 24 24" width="26" height="26" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M4 8h3l2-3h6l2 3h3v11H4z"/><circle cx="12" cy="13" r="3.5"/></svg>';
  return icon;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    if (globalThis.ZXingBrowser) return resolve();
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
}

async function startCamera() {
  mount(els.cameraMessage);
  if (!navigator.mediaDevices?.getUserMedia) {
    mount(els.cameraMessage, notice("warn", t("scan.camera_failed"), "camera-failed"));
    return;
  }
  try {
    await loadScript(config.zxing);
    const reader = new globalThis.ZXingBrowser.BrowserQRCodeReader();
    els.cameraBox.hidden = false;
    state.camera = await reader.decodeFromConstraints({ video: { facingMode: "environment" } }, els.video, (result, _error, controls) => {
      if (!result) return;
      controls.stop();
      cameraStopped();
      onScanned(result.getText());
    });
    els.cameraButton.replaceChildren(t("scan.camera_stop"));
    els.cameraButton.className = "btn btn-secondary btn-block btn-xl";
  } catch {
    cameraStopped();
    mount(els.cameraMessage, notice("warn", t("scan.camera_failed"), "camera-failed"));
  }
}

function stopCamera() {
  state.camera?.stop();
  cameraStopped();
}

function cameraStopped() {
  state.camera = null;
  if (!els.cameraBox) return;
  els.cameraBox.hidden = true;
  els.cameraButton.replaceChildren(cameraIcon(), t("scan.camera_start"));
  els.cameraButton.className = "btn btn-primary btn-block btn-xl";
}

// ------------------------------------------------------------------------------ checks

async function onScanned(text) {
  const value = (text || "").trim();
  if (!value) return;
  if (/^XP1/i.test(value)) return passFlow(value.toUpperCase());
  if (!looksLikeToken(value)) return onCode(value);
  let check = await checkToken(value, state.keys);
  if (check.reason === "unknown_key" && navigator.onLine) {
    await loadKeys(); // a key may have been added since we fetched them
    check = await checkToken(value, state.keys);
  }
  const decidable = state.keysSource !== "none" && check.reason !== "unsupported";
  if (!check.ok && decidable) {
    const text = () =>
      ({
        malformed: t("scan.offline_malformed"),
        unknown_key: t("scan.offline_unknown_key"),
        key_not_valid: t("scan.offline_key_not_valid"),
        bad_signature: t("scan.offline_forged"),
        expired: t("scan.offline_expired", { time: fmtDateTime(check.claims?.expiresAt?.toISOString()) }),
      })[check.reason];
    showResult({ kind: "fail", text: () => text(), offline: true, reason: `offline_${check.reason}` });
    return;
  }
  if (!navigator.onLine) return offlineCheck(value.toUpperCase(), check);
  return lookUp({ token: value.toUpperCase() });
}

function onCode(raw) {
  const code = normalizeCode(raw);
  if (!code) {
    // ten good characters whose check character does not match: a typo, not a length
    const problem = codeProblem(raw);
    const key = { check: "scan.code_check", alphabet: "scan.code_alphabet" }[problem] || "scan.code_bad";
    showResult({ kind: "fail", text: () => t(key), offline: true, reason: "offline_bad_code", problem });
    return;
  }
  if (!navigator.onLine) return offlineCheck(null, null);
  return lookUp({ code });
}

async function lookUp(ref) {
  showResult({ kind: "busy" });
  let preview;
  try {
    preview = await api.request("POST", "/merchant/scan", { body: ref });
  } catch (error) {
    if (error.code === "network_error") {
      // the server cannot be reached: decide on this device
      return offlineCheck(ref.token || null, ref.token ? await checkToken(ref.token, state.keys) : null);
    }
    showResult({ kind: "fail", text: () => errorText(error, "scan"), reason: error.code });
    return;
  }
  if (!preview.redeemable) {
    showResult({ kind: "fail", text: () => reasonText(preview.reason, preview.voucher), voucher: preview.voucher, reason: preview.reason });
    return;
  }
  remember(ref.token, preview.voucher);
  showResult({ kind: "preview", voucher: preview.voucher, ref, key: idempotencyKey() });
}

// ------------------------------------------------------------------------------ known

function readKnown() {
  try {
    const known = JSON.parse(localStorage.getItem(KNOWN_CACHE));
    return { offers: known?.offers || [], seen: known?.seen || {} };
  } catch {
    return { offers: [], seen: {} };
  }
}

function writeKnown(known) {
  try {
    localStorage.setItem(KNOWN_CACHE, JSON.stringify(known));
  } catch {
    /* storage full or off: offline confirmations just say less */
  }
}

/** Keep what the server said about a scanned QR (offer, masked holder), by voucher id. */
async function remember(token, voucher) {
  if (!token || !voucher) return;
  const check = await checkToken(token, state.keys);
  if (!check.claims) return;
  const known = readKnown();
  known.seen[String(check.claims.voucherId)] = {
    title: voucher.offer?.title || "",
    holder: voucher.holder?.name || "",
    id_last4: voucher.holder?.id_last4 || "",
    at: Date.now(),
  };
  const ids = Object.keys(known.seen);
  if (ids.length > KNOWN_MAX) {
    ids.sort((a, b) => known.seen[a].at - known.seen[b].at);
    for (const id of ids.slice(0, ids.length - KNOWN_MAX)) delete known.seen[id];
  }
  writeKnown(known);
}

/** The merchant's live voucher offers (titles), for an offline confirmation. */
async function loadVoucherOffers() {
  try {
    const page = await api.request("GET", "/merchant/offers?kind=voucher&page_size=100");
    const known = readKnown();
    known.offers = page.results.map((o) => o.title);
    writeKnown(known);
  } catch {
    /* offline: keep the last list */
  }
}

function reasonText(reason, voucher) {
  if (reason === "already_redeemed" && voucher?.redeemed_at) {
    return t("err.already_redeemed_at", { time: fmtDateTime(voucher.redeemed_at) });
  }
  return has(`err.scan.${reason}`) ? t(`err.scan.${reason}`) : has(`err.${reason}`) ? t(`err.${reason}`) : reason;
}

async function confirm(button) {
  const { ref, key, voucher } = state.result;
  await busy(button, t("scan.confirming"), async () => {
    try {
      const redemption = await api.request("POST", "/merchant/redemptions", { body: ref, headers: { "Idempotency-Key": key } });
      showResult({ kind: "ok", redemption });
      loadToday();
    } catch (error) {
      if (error.code === "network_error" || error.code === "request_in_progress") {
        toast(errorText(error), "error"); // same key on the next tap: safe to retry
        return;
      }
      showResult({ kind: "fail", text: () => errorText(error, "scan"), voucher, reason: error.code });
    }
  });
}

// ------------------------------------------------------------------------------ credit pass

async function passFlow(token) {
  showResult({ kind: "busy" });
  try {
    // read-only: the masked holder first, and what can be applied now (changes nothing)
    const seen = await api.request("POST", "/merchant/pass-checks/preview", { body: { token } });
    showResult({ kind: "pass", token, holder: seen.holder, offers: seen.offers });
  } catch (error) {
    showResult({ kind: "fail", text: () => passErrorText(error), reason: error.code });
  }
}

async function applyOffer(button, offer) {
  const r = state.result;
  r.key = r.key && r.offerId === offer.id ? r.key : idempotencyKey();
  r.offerId = offer.id;
  await busy(button, t("scan.confirming"), async () => {
    try {
      const use = await api.request("POST", "/merchant/pass-checks", {
        body: { token: r.token, offer_id: offer.id },
        headers: { "Idempotency-Key": r.key },
      });
      showResult({ kind: "used", use });
      loadUses();
    } catch (error) {
      if (error.code === "network_error" || error.code === "request_in_progress") {
        toast(errorText(error), "error");
        return;
      }
      showResult({ kind: "fail", text: () => passErrorText(error), reason: error.code });
    }
  });
}

function passErrorText(error) {
  if (error.code === "usage_limit_reached" && error.detail?.next_available_at) {
    return t("err.usage_limit_reached_until", { time: fmtDateTime(error.detail.next_available_at) });
  }
  let text = errorText(error, "pass");
  if (error.code === "not_eligible" && error.detail?.reasons?.length) {
    text += ` ${error.detail.reasons.map((r) => (has(`reason.${r}`) ? t(`reason.${r}`) : r)).join(" · ")}`;
  }
  return text;
}

function useFacts(use) {
  return h(
    "dl",
    { class: "facts big-facts" },
    h("dt", {}, t("scan.offer")), h("dd", { "data-test": "use-offer" }, use.offer.title),
    h("dt", {}, t("scan.holder")), h("dd", { "data-test": "use-holder" }, use.holder.name),
    h("dt", {}, t("scan.id_last4")), h("dd", { class: "id-last4", "data-test": "use-id-last4" }, use.holder.id_last4)
  );
}

function reasonWords(reason) {
  return has(`reason.${reason}`) ? t(`reason.${reason}`) : reason;
}

function drawPass(box, r) {
  const usable = r.offers.filter((o) => o.can_apply);
  const unusable = r.offers.filter((o) => !o.can_apply);
  const buttons = usable.map(({ offer }) => {
    const button = h("button", { type: "button", class: "btn btn-confirm btn-block", "data-test": "apply-offer", "data-offer-id": offer.id }, t("scan.apply", { title: offer.title }));
    button.addEventListener("click", () => applyOffer(button, offer));
    return button;
  });
  // used up for the period, or not for this holder: named, with why, never offered
  const blocked = unusable.map((o) =>
    h("li", { "data-test": "offer-unavailable", "data-offer-id": o.offer.id, "data-reasons": o.reasons.join(" ") },
      h("strong", {}, o.offer.title),
      h("small", {}, [
        o.reasons.map(reasonWords).join(" · "),
        o.reasons.includes("usage_limit_reached") ? ` · ${t("scan.pass_used_count", { used: o.used, limit: o.limit })}` : "",
        o.next_available_at ? ` · ${t("scan.pass_next_at", { time: fmtDateTime(o.next_available_at) })}` : "",
      ].join(""))));
  return mount(
    box,
    h("div", { class: "result result-preview", "data-test": "pass-preview" },
      h("h2", {}, t("scan.pass_holder_title")),
      h("dl", { class: "facts big-facts" },
        h("dt", {}, t("scan.holder")), h("dd", { "data-test": "pass-holder" }, r.holder.name),
        h("dt", {}, t("scan.id_last4")), h("dd", { class: "id-last4", "data-test": "pass-id-last4" }, r.holder.id_last4)),
      h("p", { class: "id-hint" }, t("scan.id_hint")),
      r.offers.length
        ? [
            buttons.length ? h("p", { class: "pass-choose" }, t("scan.pass_choose")) : notice("warn", t("scan.pass_none_applicable"), "none-applicable"),
            buttons.length ? h("div", { class: "apply-list" }, buttons) : null,
            blocked.length ? h("ul", { class: "unavailable-list" }, blocked) : null,
          ]
        : notice("warn", t("scan.pass_no_offers"), "no-entitlements"),
      h("button", { type: "button", class: "btn btn-ghost btn-block", onclick: () => showResult(null) }, t("common.cancel")))
  );
}

// ------------------------------------------------------------------------------ offline

/** Is the key inside its validity window (not_before ≤ at < not_after, each optional)? */
function keyValidAt(kid, at) {
  const key = state.keys.find((k) => k.kid === kid);
  if (!key) return false;
  if (key.not_before && new Date(key.not_before) > at) return false;
  if (key.not_after && new Date(key.not_after) <= at) return false;
  return true;
}

/** The server cannot be reached: may this token be redeemed on this device's word? */
async function offlineCheck(token, check) {
  const refuse = (reason, text) => showResult({ kind: "fail", text, offline: true, reason: `offline_${reason}` });
  if (!token) return refuse("code", () => t("scan.offline_code"));
  if (state.keysSource === "none" || !state.keys.length) return refuse("no_keys", () => t("scan.offline_no_keys"));
  if (!state.setup) return refuse("no_merchant", () => t("scan.offline_no_merchant"));
  if (!check.ok) {
    const texts = {
      malformed: () => t("scan.offline_malformed"),
      unknown_key: () => t("scan.offline_unknown_key"),
      key_not_valid: () => t("scan.offline_key_not_valid"),
      bad_signature: () => t("scan.offline_forged"),
      expired: () => t("scan.offline_expired", { time: fmtDateTime(check.claims?.expiresAt?.toISOString()) }),
      unsupported: () => t("scan.offline_unsupported"),
    };
    return refuse(check.reason, texts[check.reason] || texts.malformed);
  }
  const { claims } = check;
  if (!keyValidAt(claims.kid, new Date())) return refuse("key_not_valid", () => t("scan.offline_key_not_valid"));
  if (claims.merchantId === null) return refuse("no_merchant", () => t("scan.offline_no_merchant"));
  if (claims.merchantId !== state.setup.merchant_id) return refuse("wrong_merchant", () => t("scan.offline_wrong_merchant"));
  const earlier = state.offline.find((r) => r.voucherKey === `${state.setup.merchant_id}:${claims.voucherId}` && (r.outcome === null || r.outcome === "redeemed"));
  if (earlier) return refuse("duplicate", () => t("scan.offline_duplicate", { time: fmtDateTime(earlier.scanned_at) }));
  showResult({ kind: "offline-preview", token, claims });
}

async function confirmOffline(button) {
  const { token, claims } = state.result;
  await busy(button, t("scan.confirming"), async () => {
    const seen = readKnown().seen[String(claims.voucherId)];
    const title = seen ? [seen.title, seen.holder].filter(Boolean).join(" · ") : "";
    const queued = await queueRedemption({ token, merchantId: state.setup.merchant_id, voucherId: String(claims.voucherId), title });
    await refreshOffline();
    if (queued.duplicate) {
      showResult({ kind: "fail", text: () => t("scan.offline_duplicate", { time: fmtDateTime(queued.duplicate.scanned_at) }), offline: true, reason: "offline_duplicate" });
      return;
    }
    showResult({ kind: "offline-ok", row: queued.row, claims });
  });
}

async function refreshOffline() {
  if (!state.setup) return;
  try {
    state.offline = await offlineRows(state.setup.merchant_id);
  } catch {
    state.offline = []; // no IndexedDB (private mode of some browsers): nothing queued
  }
  drawPending();
  drawOffline();
  const r = state.result;
  if (r?.kind === "offline-ok" && r.row.state === "pending") {
    const now = state.offline.find((x) => x.nonce === r.row.nonce);
    if (now && now.state !== "pending") {
      r.row = now;
      drawResult(); // in place: no scroll
    }
  }
}

async function syncNow() {
  if (!state.setup || state.syncing || !api.loggedIn) return;
  if (!state.offline.some((r) => r.state === "pending")) return;
  state.syncing = true;
  drawPending();
  try {
    const n = await syncPending(api, state.setup.merchant_id, state.setup.max_batch);
    if (n) {
      toast(t("scan.synced", { n }));
      loadToday();
    }
  } catch {
    /* still offline, or the server refused: the rows stay pending and are retried */
  } finally {
    state.syncing = false;
    await refreshOffline();
  }
}

function drawPending() {
  const box = els.pending;
  if (!box) return;
  const n = state.offline.filter((r) => r.state === "pending").length;
  box.dataset.count = String(n);
  box.className = `pending-bar${n ? " has-pending" : ""}`;
  mount(
    box,
    h("span", { "data-test": "pending-count" }, n ? t("scan.pending", { n }) : t("scan.pending_none")),
    n ? h("button", { type: "button", class: "link-button", "data-test": "sync-now", disabled: state.syncing, onclick: syncNow }, state.syncing ? t("scan.syncing") : t("scan.sync_now")) : null
  );
}

/** The time alone for today (service time zone), the date and time for any other day. */
function whenText(iso) {
  if (!iso) return "";
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: config.timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(iso));
  return day === serviceToday() ? fmtTime(iso) : fmtDateTime(iso);
}

function outcomeText(row) {
  if (row.state === "pending") return t("scan.state_pending");
  if (row.outcome === "redeemed") return t("scan.outcome_redeemed");
  if (row.outcome === "already_redeemed") return t("scan.outcome_conflict", { time: fmtDateTime(row.redeemed_at) });
  return t("scan.outcome_refused", { reason: reasonText(row.outcome) });
}

function drawOffline() {
  const box = els.offline;
  if (!box) return;
  const recent = state.offline.slice(0, 50);
  box.hidden = !recent.length;
  mount(
    box,
    h("h2", {}, t("scan.offline_title")),
    h("ul", { class: "today-list" }, recent.map((r) =>
      h("li", { "data-test": "offline-row", "data-outcome": r.outcome || "pending", "data-nonce": r.nonce },
        h("span", { class: "today-time" }, whenText(r.scanned_at)),
        h("span", { class: "today-main" },
          h("strong", { class: `outcome outcome-${r.outcome === "already_redeemed" ? "conflict" : r.outcome || "pending"}` }, outcomeText(r)),
          h("small", {}, [r.title, `${t("scan.offline_voucher")} ${r.voucherKey.split(":")[1]}`].filter(Boolean).join(" · "))))))
  );
}

// ------------------------------------------------------------------------------ result

function showResult(result) {
  state.result = result;
  drawResult();
  revealResult();
}

/** Scroll the result's top just below what sticks to the top of the screen (the app bar
 * and the pending bar), so its heading and ✓/✗ are never under them. */
function revealResult() {
  const box = els.result;
  if (!box || !box.firstChild) return;
  let covered = 0;
  for (const el of [document.querySelector(".topbar, header"), els.pending]) {
    if (!el) continue;
    const style = getComputedStyle(el);
    if (style.position !== "sticky" && style.position !== "fixed") continue;
    // where it sits once stuck: its `top` plus its height
    covered = Math.max(covered, (parseFloat(style.top) || 0) + el.getBoundingClientRect().height);
  }
  const top = box.getBoundingClientRect().top + scrollY - covered - 8;
  scrollTo({ top: Math.max(0, top), behavior: "instant" });
}

function voucherFacts(voucher) {
  if (!voucher) return null;
  return h(
    "dl",
    { class: "facts big-facts" },
    h("dt", {}, t("scan.offer")), h("dd", { "data-test": "preview-offer" }, voucher.offer.title),
    voucher.holder ? [h("dt", {}, t("scan.holder")), h("dd", { "data-test": "preview-holder" }, voucher.holder.name)] : null,
    voucher.holder ? [h("dt", {}, t("scan.id_last4")), h("dd", { class: "id-last4", "data-test": "preview-id-last4" }, voucher.holder.id_last4)] : null,
    h("dt", {}, t("scan.code")), h("dd", { class: "mono" }, voucher.display_code || voucher.code),
    voucher.expires_at ? [h("dt", {}, t("scan.expires")), h("dd", {}, fmtDateTime(voucher.expires_at))] : null
  );
}

/** What this device knows about an offline token: its offer and masked holder when it saw
 * this QR online before, else the shop's voucher offers; the voucher number and expiry. */
function offlineFacts(claims) {
  const known = readKnown();
  const seen = known.seen[String(claims.voucherId)];
  const offer = seen?.title
    ? seen.title
    : known.offers.length === 1
      ? known.offers[0]
      : known.offers.length
        ? t("scan.offline_offer_one_of", { titles: known.offers.join("、") })
        : t("scan.offline_offer_unknown");
  return h("dl", { class: "facts big-facts" },
    h("dt", {}, t("scan.offer")), h("dd", { "data-test": "offline-offer" }, offer),
    h("dt", {}, t("scan.offline_merchant")), h("dd", { "data-test": "offline-merchant" }, state.setup?.merchant_name || ""),
    h("dt", {}, t("scan.holder")),
    seen?.holder
      ? h("dd", { "data-test": "offline-holder" }, seen.holder)
      : h("dd", { "data-test": "offline-holder", class: "muted-dd" }, t("scan.offline_holder_unknown")),
    seen?.id_last4 ? [h("dt", {}, t("scan.id_last4")), h("dd", { class: "id-last4", "data-test": "offline-id-last4" }, seen.id_last4)] : null,
    h("dt", {}, t("scan.offline_voucher")), h("dd", { class: "mono" }, String(claims.voucherId)),
    h("dt", {}, t("scan.expires")), h("dd", {}, fmtDateTime(claims.expiresAt.toISOString())));
}

/** An offline card whose row has been uploaded: the server's outcome replaces 待同步. */
function drawSynced(box, r) {
  const row = r.row;
  const ok = row.outcome === "redeemed";
  const title = ok ? t("scan.synced_ok_title") : row.outcome === "already_redeemed" ? t("scan.synced_conflict_title") : t("scan.synced_refused_title");
  return mount(
    box,
    h("div", { class: `result ${ok ? "result-ok" : "result-fail"}`, role: "status", "data-test": "result-synced", "data-outcome": row.outcome || "" },
      h("div", { class: "result-icon", "aria-hidden": "true" }, ok ? "✓" : "✗"),
      h("p", { class: "result-title" }, title),
      h("p", { class: "result-sub" }, ok ? t("scan.offline_ok_at", { time: fmtDateTime(row.scanned_at) }) : outcomeText(row)),
      offlineFacts(r.claims)),
    nextButton()
  );
}

function nextButton() {
  return h("button", { type: "button", class: "btn btn-ghost btn-block", "data-test": "next", onclick: () => { showResult(null); els.codeInput.value = ""; els.codeInput.focus(); } }, t("scan.next"));
}

function drawResult() {
  const box = els.result;
  if (!box) return;
  const r = state.result;
  if (!r) return mount(box);
  if (r.kind === "busy") return mount(box, h("div", { class: "result result-busy" }, spinner(t("scan.checking"))));
  if (r.kind === "preview") {
    const button = h("button", { type: "button", class: "btn btn-confirm btn-block btn-xl", "data-test": "confirm" }, t("scan.confirm"));
    button.addEventListener("click", () => confirm(button));
    return mount(
      box,
      h("div", { class: "result result-preview", "data-test": "preview" },
        h("h2", {}, t("scan.preview_title")),
        voucherFacts(r.voucher),
        r.voucher.holder ? h("p", { class: "id-hint" }, t("scan.id_hint")) : null,
        button,
        h("button", { type: "button", class: "btn btn-ghost btn-block", onclick: () => showResult(null) }, t("common.cancel")))
    );
  }
  if (r.kind === "pass") return drawPass(box, r);
  if (r.kind === "used") {
    return mount(
      box,
      h("div", { class: "result result-ok", role: "status", "data-test": "use-ok" },
        h("div", { class: "result-icon", "aria-hidden": "true" }, "✓"),
        h("p", { class: "result-title" }, t("scan.use_ok_title")),
        h("p", { class: "result-sub" }, t("scan.used_at", { time: fmtDateTime(r.use.used_at) })),
        useFacts(r.use)),
      h("p", { class: "id-hint" }, t("scan.id_hint")),
      nextButton()
    );
  }
  if (r.kind === "offline-preview") {
    const button = h("button", { type: "button", class: "btn btn-confirm btn-block btn-xl", "data-test": "confirm-offline" }, t("scan.confirm"));
    button.addEventListener("click", () => confirmOffline(button));
    return mount(
      box,
      h("div", { class: "result result-preview", "data-test": "offline-preview" },
        h("h2", {}, t("scan.offline_preview_title")),
        offlineFacts(r.claims),
        h("p", { class: "id-hint" }, t("scan.offline_preview_hint")),
        button,
        h("button", { type: "button", class: "btn btn-ghost btn-block", onclick: () => showResult(null) }, t("common.cancel")))
    );
  }
  if (r.kind === "offline-ok" && r.row.state === "synced") return drawSynced(box, r);
  if (r.kind === "offline-ok") {
    return mount(
      box,
      h("div", { class: "result result-ok result-offline", role: "status", "data-test": "result-offline" },
        h("div", { class: "result-icon", "aria-hidden": "true" }, "✓"),
        h("p", { class: "result-title" }, t("scan.offline_ok_title")),
        h("p", { class: "result-sub" }, t("scan.offline_ok_at", { time: fmtDateTime(r.row.scanned_at) })),
        offlineFacts(r.claims)),
      nextButton()
    );
  }
  if (r.kind === "ok") {
    const d = r.redemption;
    return mount(
      box,
      h("div", { class: "result result-ok", role: "status", "data-test": "result-ok" },
        h("div", { class: "result-icon", "aria-hidden": "true" }, "✓"),
        h("p", { class: "result-title" }, t("scan.ok_title")),
        h("p", { class: "result-sub" }, t("scan.ok_at", { time: fmtDateTime(d.redeemed_at) })),
        voucherFacts({ ...d, expires_at: null })),
      nextButton()
    );
  }
  return mount(
    box,
    h("div", { class: "result result-fail", role: "alert", "data-test": "result-fail", "data-reason": r.reason || "" },
      h("div", { class: "result-icon", "aria-hidden": "true" }, "✗"),
      h("p", { class: "result-title" }, t("scan.fail_title")),
      h("p", { class: "result-reason", "data-test": "fail-reason" }, r.text()),
      r.offline ? h("p", { class: "result-note" }, t("scan.offline_note")) : null,
      voucherFacts(r.voucher)),
    nextButton()
  );
}

// ------------------------------------------------------------------------------ today

async function loadToday() {
  const box = els.today;
  const today = serviceToday();
  const header = (count) =>
    h("div", { class: "today-head" },
      h("h2", {}, t("scan.today"), count == null ? null : h("span", { class: "count", "data-test": "today-count" }, t("scan.today_count", { n: count }))),
      h("button", { type: "button", class: "link-button", onclick: loadToday }, t("scan.refresh")));
  mount(box, header(null), spinner());
  try {
    const range = `date_from=${today}&date_to=${today}`;
    // today's redemptions, and this shop's offline conflicts (any of its devices)
    const [page, conflicts] = await Promise.all([
      api.request("GET", `/merchant/redemptions?${range}&page_size=100`),
      api.request("GET", `/merchant/redemptions/offline?${range}&conflict=true&page_size=20`),
    ]);
    mount(
      box,
      header(page.count),
      page.results.length
        ? h("ul", { class: "today-list" }, page.results.map((r) =>
            h("li", { "data-test": "today-row" },
              h("span", { class: "today-time" }, fmtTime(r.redeemed_at)),
              h("span", { class: "today-main" }, h("strong", {}, r.offer.title), h("small", {}, `${r.display_code} · ${r.holder.name} · ${r.holder.id_last4}`)),
              reportButton({ voucher_code: r.code }))))
        : h("p", { class: "muted" }, t("scan.today_empty")),
      conflicts.count
        ? [
            h("h3", { class: "outcome-conflict", "data-test": "today-conflicts" }, t("scan.conflicts_today", { n: conflicts.count })),
            h("ul", { class: "today-list" }, conflicts.results.map((c) =>
              h("li", { "data-test": "today-conflict" },
                h("span", { class: "today-time" }, whenText(c.scanned_at)),
                h("span", { class: "today-main" },
                  h("strong", {}, c.offer_title || c.display_code || "—"),
                  h("small", {}, `${c.display_code || ""} · ${t("scan.outcome_conflict", { time: fmtDateTime(c.redeemed_at) })} · ${c.device_id}`)))))
          ]
        : null
    );
  } catch (error) {
    mount(box, header(null), notice("error", errorText(error)));
  }
}

async function loadUses() {
  const box = els.uses;
  if (!box) return;
  const header = h("div", { class: "today-head" }, h("h2", {}, t("scan.uses_recent")));
  try {
    const page = await api.request("GET", "/merchant/pass-checks?page_size=20");
    mount(
      box,
      header,
      page.results.length
        ? h("ul", { class: "today-list" }, page.results.map((u) =>
            h("li", { "data-test": "use-row" },
              h("span", { class: "today-time", "data-test": "use-when" }, whenText(u.used_at)),
              h("span", { class: "today-main" }, h("strong", {}, u.offer.title), h("small", {}, `${u.holder.name} · ${u.holder.id_last4}`)),
              reportButton({ use_id: u.id }))))
        : h("p", { class: "muted" }, t("scan.uses_empty"))
    );
  } catch (error) {
    mount(box, header, notice("error", errorText(error)));
  }
}

// ------------------------------------------------------------------------------ incidents

const INCIDENT_KINDS = ["deposit_default", "unpaid_pay_later", "no_show", "damage", "other"];

function reportButton(target) {
  const button = h("button", { type: "button", class: "link-button", "data-test": "report" }, t("scan.report"));
  button.addEventListener("click", () => {
    const kind = h("select", { "data-test": "report-kind" }, INCIDENT_KINDS.map((k) => h("option", { value: k }, t(`incident.${k}`))));
    const note = h("input", { type: "text", maxlength: 200, placeholder: t("scan.report_note"), "data-test": "report-note" });
    const send = h("button", { type: "submit", class: "btn btn-secondary", "data-test": "report-submit" }, t("scan.report_submit"));
    const form = h("form", { class: "inline-form report-form", novalidate: true }, kind, note, send);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      await busy(send, t("common.loading"), async () => {
        try {
          await api.request("POST", "/merchant/incidents", { body: { ...target, kind: kind.value, note: note.value } });
          mount(form, h("span", { class: "muted small", "data-test": "reported" }, t("scan.reported")));
        } catch (error) {
          toast(errorText(error), "error");
        }
      });
    });
    button.replaceWith(form);
  });
  return button;
}

// ------------------------------------------------------------------------------ start

onLangSwitch(() => {
  stopCamera();
  if (api.loggedIn && state.me) mainScreen();
  else render();
});
watchOnline();
loadKeys();
render();
addEventListener("online", () => {
  loadKeys(); // refresh the keys whenever the network is back
  syncNow();
});
setInterval(() => {
  if (navigator.onLine) loadKeys();
}, KEYS_REFRESH_MS);
setInterval(() => {
  if (navigator.onLine) syncNow();
}, SYNC_RETRY_MS);
