// Shared pieces of the resident app and the scanner: config, strings, the API client
// (Bearer tokens in localStorage, one refresh on 401 with a rotating refresh token, logout
// that revokes it), DOM helpers, dates, toasts, modals.

export const config = JSON.parse(document.getElementById("web-config").textContent);

// The page's service worker keeps the app shell for offline use (incentives/web/pwa.py).
if (config.serviceWorker && "serviceWorker" in navigator) {
  navigator.serviceWorker.register(config.serviceWorker).catch(() => {
    /* no worker (e.g. plain HTTP on a LAN address): the page still works online */
  });
}

// ------------------------------------------------------------------------------ i18n

const LANG_KEY = "xinyou.lang";
const LANG_NAMES = { "zh-hans": "中文", en: "English" };
let lang = config.langs.includes(localStorage.getItem(LANG_KEY))
  ? localStorage.getItem(LANG_KEY)
  : config.defaultLang;

export const getLang = () => lang;

export function setLang(next) {
  lang = next;
  localStorage.setItem(LANG_KEY, next);
  applyLangToShell();
}

// key → the marked source string (strings.js); the page's entry module installs its tables
let strings = {};

/** Install the string tables of this page (strings.js: SHARED plus the page's own). */
export function useStrings(...tables) {
  strings = Object.assign({}, ...tables);
}

/** `entry` (a gettext_noop / pgettext / ngettext marker of strings.js) in the current
 * language, from Django's JavaScript catalogue embedded in the page (config.catalogs). */
function translate(entry, n) {
  const catalog = config.catalogs?.[lang]?.catalog || {};
  if (typeof entry === "string") {
    const found = catalog[entry];
    return typeof found === "string" ? found : entry;
  }
  if (entry.context !== undefined) {
    const found = catalog[`${entry.context}\x04${entry.msgid}`];
    return typeof found === "string" ? found : entry.msgid;
  }
  const forms = Array.isArray(catalog[entry.singular]) ? catalog[entry.singular] : [entry.singular, entry.plural];
  return forms[Math.min(pluralIndex(Number(n)), forms.length - 1)];
}

/** The gettext plural form of `n`: our languages have one form (Chinese) or
 * "one"/"other" (English), which Intl.PluralRules tells apart without eval(). */
function pluralIndex(n) {
  return new Intl.PluralRules(lang === "en" ? "en" : "zh").select(n) === "one" ? 0 : 1;
}

/** The UI string `key` in the current language, `{name}` placeholders filled
 * (`{n}` also picks the plural form of an ngettext string). */
export function t(key, params = {}) {
  const text = key in strings ? translate(strings[key], params.n) : key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

export const has = (key) => key in strings;

/** The registry's message for an API error code in the current language (core/errors.py,
 * embedded in the page config), or "". */
export function codeMessage(code) {
  return config.errors?.[lang]?.[code] || "";
}

export function applyLangToShell() {
  document.documentElement.lang = lang === "en" ? "en" : "zh-Hans";
  document.title = t("app.title");
  const brand = document.querySelector(".brand-name");
  if (brand) brand.textContent = t("app.brand");
  const other = config.langs.find((l) => l !== lang) || lang;
  const button = document.getElementById("lang-switch");
  button.textContent = LANG_NAMES[other] || other;
  button.dataset.lang = other;
  button.setAttribute("aria-label", `Language: ${LANG_NAMES[other] || other}`);
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
}

export function onLangSwitch(rerender) {
  document.getElementById("lang-switch").addEventListener("click", (event) => {
    setLang(event.currentTarget.dataset.lang);
    rerender();
  });
}

// ------------------------------------------------------------------------------ 适老化

// The large-text, high-contrast mode: localStorage "xinyou.largeText" = "1", applied as the
// class "large-text" on <html> before the first paint by large-text.js (a contract the
// resident app and the scanner share).
const LARGE_TEXT_KEY = "xinyou.largeText";

export const largeText = () => document.documentElement.classList.contains("large-text");

export function setLargeText(on) {
  try {
    if (on) localStorage.setItem(LARGE_TEXT_KEY, "1");
    else localStorage.removeItem(LARGE_TEXT_KEY);
  } catch {
    /* no storage: this visit only */
  }
  document.documentElement.classList.toggle("large-text", Boolean(on));
}

// ------------------------------------------------------------------------------ errors

export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.detail = detail || {};
  }
}

/** A friendly line for an API error; `context` picks a screen-specific wording first
 * (`err.<context>.<code>`), then `err.<code>` (strings.js), then the registry's message
 * for the code, then the server's own message. */
export function errorText(error, context = "") {
  if (!(error instanceof ApiError)) return t("err.network_error");
  const code = error.code;
  if (code === "throttled" && error.detail.retry_after) {
    return t("err.throttled_wait", { seconds: error.detail.retry_after });
  }
  if (code === "already_redeemed" && error.detail.redeemed_at) {
    return t("err.already_redeemed_at", { time: fmtDateTime(error.detail.redeemed_at) });
  }
  if (context && has(`err.${context}.${code}`)) return t(`err.${context}.${code}`);
  if (has(`err.${code}`)) return t(`err.${code}`);
  return codeMessage(code) || error.message || t("err.unknown");
}

/** Per-field messages of a 400 invalid_request (the server's, already localised). */
export function fieldErrors(error) {
  if (!(error instanceof ApiError) || error.code !== "invalid_request") return {};
  const out = {};
  for (const [field, messages] of Object.entries(error.detail || {})) {
    out[field] = Array.isArray(messages) ? messages.join(" ") : String(messages);
  }
  return out;
}

// ------------------------------------------------------------------------------ API

export class Api {
  /** storeKey: where this page keeps its tokens; onLoggedOut(): called when the
   * session cannot be refreshed. */
  constructor(storeKey, onLoggedOut) {
    this.storeKey = storeKey;
    this.onLoggedOut = onLoggedOut;
    this.refreshing = null;
  }

  get tokens() {
    try {
      return JSON.parse(localStorage.getItem(this.storeKey)) || null;
    } catch {
      return null;
    }
  }

  set tokens(value) {
    if (value) localStorage.setItem(this.storeKey, JSON.stringify(value));
    else localStorage.removeItem(this.storeKey);
  }

  get loggedIn() {
    return Boolean(this.tokens?.access);
  }

  /** otp: a staff account's authenticator (or recovery) code, sent only when given. */
  async login(phone, password, otp) {
    const body = otp ? { phone, password, otp } : { phone, password };
    const pair = await this.request("POST", "/auth/token", { body, auth: false });
    this.tokens = pair;
    return pair;
  }

  /** Log in with a code sent by sendCode(phone, "login"). */
  async loginWithCode(phone, smsCode) {
    const pair = await this.request("POST", "/auth/token", { body: { phone, sms_code: smsCode }, auth: false });
    this.tokens = pair;
    return pair;
  }

  /** Ask for a 6-digit SMS code (purpose "register" or "login"): {expires_in, resend_after}. */
  sendCode(phone, purpose) {
    return this.request("POST", "/auth/sms-code", { body: { phone, purpose }, auth: false });
  }

  /** Forget the tokens; `revoke` also tells the server, so the refresh token is dead. */
  logout({ revoke = true } = {}) {
    const refresh = this.tokens?.refresh;
    this.tokens = null;
    if (revoke && refresh) {
      this.request("POST", "/auth/logout", { body: { refresh }, auth: false }).catch(() => {});
    }
  }

  async refresh() {
    // one refresh at a time, shared by every request that saw the 401
    if (!this.refreshing) {
      const refresh = this.tokens?.refresh;
      this.refreshing = (async () => {
        if (!refresh) return false;
        try {
          // the refresh token rotates: the one sent is spent, keep the new one
          const pair = await this.request("POST", "/auth/token/refresh", {
            body: { refresh },
            auth: false,
          });
          this.tokens = { access: pair.access, refresh: pair.refresh };
          return true;
        } catch {
          return false;
        }
      })().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /** path is relative to /api/v1 (or an absolute URL of this site); returns the parsed
   * JSON (or a Blob with blob: true, or null for 204); throws ApiError. */
  async request(method, path, { body, headers = {}, auth = true, blob = false, retry = true } = {}) {
    const url = path.startsWith("http") || path.startsWith("/api/") ? sameOrigin(path) : config.api + path;
    const init = { method, headers: { "Accept-Language": lang, ...headers } };
    if (!blob) init.headers.Accept = "application/json";
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (auth && this.tokens?.access) init.headers.Authorization = `Bearer ${this.tokens.access}`;
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      throw new ApiError(0, "network_error", "");
    }
    if (response.status === 401 && auth && retry) {
      if (await this.refresh()) {
        return this.request(method, path, { body, headers, auth, blob, retry: false });
      }
      this.logout({ revoke: false });
      this.onLoggedOut?.();
    }
    if (response.ok) {
      if (response.status === 204) return null;
      if (blob) return response.blob();
      const data = await response.json();
      if (response.status === 202) data._status = 202;
      return data;
    }
    let envelope = null;
    try {
      envelope = (await response.json()).error;
    } catch {
      /* not JSON: a proxy's page */
    }
    throw new ApiError(
      response.status,
      envelope?.code || (response.status >= 500 ? "server_error" : "unknown"),
      envelope?.message || "",
      envelope?.detail
    );
  }
}

/** The path and query of a URL the API returned (its host may be the proxy's view). */
export function sameOrigin(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

/** 1–64 printable ASCII characters, fresh for each attempt (reused for its retries). */
export function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ------------------------------------------------------------------------------ DOM

/** h("div", {class: "x", onclick}, child, "text", [more]) → Element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function mount(root, ...children) {
  root.replaceChildren(...children.flat(Infinity).filter(Boolean));
}

export function spinner(text = t("common.loading")) {
  return h("div", { class: "loading", role: "status" }, h("span", { class: "spin", "aria-hidden": "true" }), text);
}

export function notice(kind, text, testId) {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status", "data-test": testId }, text);
}

let toastTimer = null;
export function toast(text, kind = "ok") {
  const el = document.getElementById("toast");
  el.textContent = text;
  el.className = `toast toast-${kind}`;
  el.hidden = false;
  // a toast in the page's flow (the resident app's) is brought into view, never over a button
  if (getComputedStyle(el).position === "static") el.scrollIntoView({ block: "nearest" });
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 3200);
}

/** A confirm dialog; resolves true when confirmed. Name both buttons by what they do
 * (`confirm`: 「确认取消」, `cancel`: 「保留此券」) where "取消" would be ambiguous. */
export function confirmDialog({ title, body, confirm, cancel, danger = false }) {
  const backdrop = document.getElementById("modal");
  return new Promise((resolve) => {
    const close = (answer) => {
      backdrop.hidden = true;
      backdrop.replaceChildren();
      resolve(answer);
    };
    const dialog = h(
      "div",
      { class: "modal", role: "dialog", "aria-modal": "true", "aria-label": title },
      h("h2", {}, title),
      h("p", {}, body),
      h(
        "div",
        { class: "modal-actions" },
        h("button", { type: "button", class: "btn btn-ghost", onclick: () => close(false), "data-test": "modal-cancel" }, cancel || t("common.cancel")),
        h(
          "button",
          { type: "button", class: `btn ${danger ? "btn-danger" : "btn-primary"}`, onclick: () => close(true), "data-test": "modal-confirm" },
          confirm || t("common.confirm")
        )
      )
    );
    backdrop.replaceChildren(dialog);
    backdrop.hidden = false;
    dialog.querySelector(".btn-ghost").focus();
  });
}

/** A labelled form field; returns {wrap, input, setError}. */
export function field({ name, label, type = "text", hint, ...attrs }) {
  const id = `f-${name}`;
  const input =
    type === "select"
      ? h("select", { id, name, ...attrs })
      : h("input", { id, name, type, ...attrs });
  const error = h("p", { class: "field-error", id: `${id}-error`, "data-test": `error-${name}` });
  error.hidden = true;
  input.setAttribute("aria-describedby", `${id}-error`);
  const wrap = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    hint ? h("p", { class: "field-hint" }, hint) : null,
    error
  );
  const setError = (text) => {
    error.textContent = text || "";
    error.hidden = !text;
    input.classList.toggle("invalid", Boolean(text));
  };
  return { wrap, input, setError };
}

/** Disable a button while `work` runs, with a busy label. */
/** The submit handler of a phone + password login form (resident app and scanner alike). */
export function loginHandler({ api, phone, password, otp, error, submit, onDone }) {
  return async (event) => {
    event.preventDefault();
    mount(error);
    if (!phone.input.value.trim() || !password.input.value) {
      mount(error, notice("error", t("login.required")));
      return;
    }
    await busy(submit, t("login.busy"), async () => {
      try {
        await api.login(phone.input.value.trim(), password.input.value, otp?.input.value.trim());
        onDone();
      } catch (e) {
        mount(error, notice("error", errorText(e)));
      }
    });
  };
}

export async function busy(button, label, work) {
  const before = button.textContent;
  button.disabled = true;
  button.textContent = label;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = before;
    button.removeAttribute("aria-busy");
  }
}

// ------------------------------------------------------------------------------ time

function dtf(options) {
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "zh-CN", {
    timeZone: config.timeZone,
    ...options,
  });
}

export function fmtDateTime(iso) {
  if (!iso) return "";
  return dtf({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
}

export function fmtDate(iso) {
  if (!iso) return "";
  return dtf({ year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(iso));
}

export function fmtTime(iso) {
  if (!iso) return "";
  return dtf({ hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }).format(new Date(iso));
}

/** Today's date in the service's time zone, YYYY-MM-DD. */
export function serviceToday() {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: config.timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(new Date());
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

// ------------------------------------------------------------------------------ offers

/** "8 折" / "20% off" / "立减 ¥30" … for an offer or a voucher's offer summary. */
export function benefitText(offer) {
  const value = offer.benefit_value == null ? null : Number(offer.benefit_value);
  const key = `benefit.${offer.benefit_type}`;
  if (offer.benefit_type === "percent_off" && value != null) {
    const zhe = Math.round((100 - value) * 10) / 100; // 20 % off → 8 折, 15 % → 8.5 折
    return t(key, { zhe: trimNumber(zhe), value: trimNumber(value) });
  }
  return has(key) ? t(key, { value: value == null ? "" : trimNumber(value) }) : offer.benefit_type;
}

function trimNumber(n) {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(2)));
}

// ------------------------------------------------------------------------------ network

export function watchOnline() {
  const banner = document.getElementById("offline-banner");
  const update = () => {
    banner.hidden = navigator.onLine;
    banner.textContent = t("common.offline");
  };
  addEventListener("online", update);
  addEventListener("offline", update);
  update();
}
