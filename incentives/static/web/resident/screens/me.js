// 我的 (#/me): own profile, 我的数据 (#/me/data: everything held, GET /me/data, with a
// download), 注销账号 (#/me/close: password and a confirmation, DELETE /me), log out.
// Also #/agreement: a newer user agreement to accept before going on (POST /me/agreement).

import { ApiError, busy, confirmDialog, errorText, field, fmtDateTime, getLang, h, has, largeText, mount, notice, setLargeText, t } from "../../common.js";
import { api, state, go, logout, me, cities, cityName, schemeName } from "../app.js";
import { inboxMenuItem } from "./inbox.js";

/** "：" in Chinese, ": " in English. */
const colon = () => (getLang() === "en" ? ": " : "：");

async function meScreen(arg, root) {
  if (arg === "data") return dataScreen(root);
  if (arg === "close") return closeScreen(root);
  const profile = await me();
  mount(
    root,
    h(
      "section",
      { class: "card" },
      h("h1", {}, t("me.title")),
      h("p", { "data-test": "me-name" }, profile.real_name),
      h("p", { class: "muted", "data-test": "me-phone" }, t("me.phone"), colon(), profile.phone),
      profile.id_number ? h("p", { class: "muted" }, t("me.id_number"), colon(), profile.id_number) : null,
      largeTextSwitch(),
      h(
        "ul",
        { class: "menu" },
        inboxMenuItem(), // 消息 with the unread count, and the SMS choices
        h("li", {}, h("a", { href: "#/me/data", "data-test": "to-my-data" }, t("me.data"), " →")),
        h("li", {}, h("a", { href: "#/me/close", "data-test": "to-close-account" }, t("me.close"), " →")),
        h("li", {}, h("button", { type: "button", class: "link-button", onclick: logout, "data-test": "logout" }, t("common.logout")))
      )
    )
  );
}

/** 大字模式 (适老化): larger text, higher contrast, larger buttons; remembered on the device
 * (common.js setLargeText: localStorage "xinyou.largeText", the class on <html>). */
function largeTextSwitch() {
  const input = h("input", { type: "checkbox", role: "switch", id: "f-large-text", checked: largeText(), "data-test": "large-text" });
  input.addEventListener("change", () => setLargeText(input.checked));
  return h("div", { class: "setting" },
    h("label", { class: "toggle setting-toggle", for: "f-large-text" }, input, h("span", {}, t("me.large_text"))),
    h("p", { class: "muted small" }, t("me.large_text_hint")));
}

// ------------------------------------------------------------------------------ 我的数据

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A field's label: `me.field.<key>` (strings.js), else the key made readable. */
function fieldLabel(key) {
  const k = `me.field.${key}`;
  const text = t(k);
  return text === k ? key.replace(/_/g, " ") : text;
}

/** A value as a person reads it: times in the service's time zone (Asia/Shanghai), yes and
 * no, codes of cities, tiers and statuses by their names, nested records as lines. */
function readable(key, value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return t(value ? "me.yes" : "me.no");
  if (typeof value === "string" && ISO_TIME.test(value)) return fmtDateTime(value);
  if (Array.isArray(value)) return value.length ? value.map((v) => readable(key, v)).join(getLang() === "en" ? ", " : "、") : "—";
  if (typeof value === "object") {
    if ("name" in value && Object.keys(value).length <= 2) return String(value.name);
    return h("dl", { class: "data-nested" }, Object.entries(value).flatMap(([k, v]) => [h("dt", {}, fieldLabel(k)), h("dd", {}, readable(k, v))]));
  }
  const known = { tier: ["tier"], status: ["status", "incident_status"], scenario: ["scenario"], kind: ["incident"], role: ["role"] };
  if ((key === "city" || key === "home_city" || key === "dest_city") && /^\d{6}$/.test(String(value))) return cityName(String(value));
  if (key === "scheme") return schemeName(String(value));
  for (const prefix of known[key] || []) {
    if (has(`${prefix}.${value}`)) return t(`${prefix}.${value}`);
  }
  return String(value);
}

function record(item) {
  return h("dl", { class: "data-record" }, Object.entries(item).flatMap(([k, v]) => [h("dt", {}, fieldLabel(k)), h("dd", {}, readable(k, v))]));
}

function sectionBody(value) {
  if (Array.isArray(value)) {
    if (!value.length) return h("p", { class: "muted" }, t("me.empty"));
    return value.map((item) => (item && typeof item === "object" ? record(item) : h("p", {}, readable("", item))));
  }
  if (value && typeof value === "object") return record(value);
  return h("p", {}, readable("", value));
}

async function dataScreen(root) {
  const [data] = await Promise.all([api.request("GET", "/me/data"), cities()]);
  const sections = Object.entries(data).filter(([key]) => key !== "generated_at");
  const download = h("a", { class: "btn btn-ghost", "data-test": "data-download", download: "xinyou-my-data.json" }, t("me.data_download"));
  download.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  state.qrUrls.push(download.href); // revoked when leaving the screen
  mount(
    root,
    h(
      "section",
      { class: "card", "data-test": "my-data" },
      h("h1", {}, t("me.data")),
      h("p", { class: "muted" }, t("me.data_intro")),
      h("p", { class: "muted small", "data-test": "data-generated" }, t("me.data_generated", { time: fmtDateTime(data.generated_at) })),
      download,
      sections.map(([key, value]) =>
        h(
          "div",
          { class: "data-section", "data-test": `data-${key}` },
          h("h2", {}, has(`me.section.${key}`) ? t(`me.section.${key}`) : fieldLabel(key)),
          sectionBody(value)
        )
      ),
      h("p", {}, h("a", { href: "#/me" }, "← ", t("common.back")))
    )
  );
}

async function closeScreen(root) {
  const password = field({ name: "password", label: t("me.close_password"), type: "password", autocomplete: "current-password" });
  const submit = h("button", { type: "submit", class: "btn btn-danger btn-block", "data-test": "close-account" }, t("me.close_button"));
  const error = h("div", { class: "form-error", "data-test": "form-error" });
  mount(
    root,
    h(
      "form",
      { class: "card form", novalidate: true, onsubmit: onClose },
      h("h1", {}, t("me.close")),
      notice("warn", t("me.close_intro")),
      password.wrap,
      error,
      submit,
      h("p", {}, h("a", { href: "#/me" }, "← ", t("common.back")))
    )
  );

  async function onClose(event) {
    event.preventDefault();
    mount(error);
    password.setError(password.input.value ? "" : t("register.need_password"));
    if (!password.input.value) return;
    const sure = await confirmDialog({
      title: t("me.close_confirm_title"),
      body: t("me.close_confirm_body"),
      confirm: t("me.close_button"),
      danger: true,
    });
    if (!sure) return;
    await busy(submit, t("me.close_button"), async () => {
      try {
        await api.request("DELETE", "/me", { body: { password: password.input.value } });
        api.logout({ revoke: false }); // every token of the account is revoked already
        state.me = null;
        state.flash = t("me.closed");
        go("#/login");
      } catch (e) {
        if (e instanceof ApiError && ["invalid_credentials", "invalid_request"].includes(e.code)) {
          password.setError(errorText(e));
        } else mount(error, notice("error", errorText(e)));
      }
    });
  }
}

async function agreementScreen(_arg, root) {
  const agreement = await api.request("GET", "/legal/agreement", { auth: false });
  const accept = h("input", { type: "checkbox", id: "f-agreement", "data-test": "agreement-accept" });
  const error = h("div", { class: "form-error", "data-test": "form-error" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", "data-test": "agreement-continue" }, t("agreement.continue"));
  mount(
    root,
    h(
      "form",
      { class: "card form", novalidate: true, onsubmit: onAccept },
      h("h1", {}, agreement.title),
      notice("info", t("agreement.updated")),
      h("p", { class: "muted" }, t("agreement.version", { version: agreement.version })),
      h("div", { class: "agreement-text", tabindex: "0", "data-test": "agreement-text" }, agreement.body),
      h("label", { class: "check", for: "f-agreement" }, accept, " ", t("agreement.accept")),
      error,
      submit,
      h("button", { type: "button", class: "link-button", onclick: logout, "data-test": "logout" }, t("common.logout"))
    )
  );

  async function onAccept(event) {
    event.preventDefault();
    mount(error);
    if (!accept.checked) return mount(error, notice("error", t("agreement.must_accept")));
    await busy(submit, t("agreement.continue"), async () => {
      try {
        await api.request("POST", "/me/agreement", { body: { agreement_version: agreement.version } });
        state.me = null;
        go("#/credit");
      } catch (e) {
        mount(error, notice("error", errorText(e)));
      }
    });
  }
}

export const routes = {
  me: { screen: meScreen, detail: meScreen, needsLogin: true },
  agreement: { screen: agreementScreen, needsLogin: true },
};
