// 消息 (#/inbox): the resident's notices, newest first (GET /me/notices); opening one marks
// it read, 全部已读 marks them all (POST /me/notices/read). #/inbox/settings: which kinds
// also come by SMS (GET/PUT /me/notice-settings; the inbox always gets every kind).
// inboxMenuItem() is the entry in 我的 with the unread count.

import { busy, errorText, fmtDateTime, h, mount, notice, t, toast } from "../../common.js";
import { api, go } from "../app.js";

const KINDS = ["voucher_expiring", "incident_reported", "incident_decided", "objection_decided", "suspension_ended", "tier_changed", "account_closed"];

/** The 消息 entry of 我的: a link with the unread count, filled in when it arrives. */
export function inboxMenuItem() {
  const badge = h("span", { class: "badge unread-count", "data-test": "inbox-unread", hidden: true });
  api
    .request("GET", "/me/notices?unread=true&page_size=1")
    .then((page) => {
      badge.textContent = String(page.count);
      badge.hidden = !page.count;
      badge.setAttribute("aria-label", t("inbox.unread_count", { n: page.count }));
    })
    .catch(() => {}); // the entry works without its count
  return [
    h("li", {}, h("a", { href: "#/inbox", "data-test": "to-inbox" }, t("inbox.title"), badge, " →")),
    h("li", {}, h("a", { href: "#/inbox/settings", "data-test": "to-notice-settings" }, t("inbox.settings"), " →")),
  ];
}

async function inboxScreen(arg, root) {
  if (arg === "settings") return settingsScreen(root);
  const page = await api.request("GET", "/me/notices?page_size=50");
  const unread = page.results.filter((n) => !n.read_at).length;
  const readAll = h("button", { type: "button", class: "btn btn-ghost", "data-test": "inbox-read-all", disabled: !unread, onclick: onReadAll }, t("inbox.read_all"));
  mount(
    root,
    h(
      "section",
      { class: "card", "data-test": "inbox" },
      h("h1", {}, t("inbox.title")),
      h("div", { class: "inbox-actions" }, readAll, h("a", { href: "#/inbox/settings", class: "btn btn-ghost", "data-test": "inbox-to-settings" }, t("inbox.settings"))),
      page.results.length
        ? h("ul", { class: "inbox-list" }, page.results.map(noticeItem))
        : h("p", { class: "muted", "data-test": "inbox-empty" }, t("inbox.empty")),
      h("p", {}, h("a", { href: "#/me" }, "← ", t("common.back")))
    )
  );

  async function onReadAll() {
    await busy(readAll, t("inbox.read_all"), async () => {
      try {
        await api.request("POST", "/me/notices/read", { body: { all: true } });
        go("#/inbox");
      } catch (e) {
        toast(errorText(e), "error");
      }
    });
  }
}

function noticeItem(n) {
  const item = h(
    "li",
    { class: `inbox-item${n.read_at ? "" : " unread"}`, "data-test": "notice", "data-kind": n.kind, "data-id": String(n.id) },
    h(
      "h2",
      {},
      n.read_at ? null : h("span", { class: "unread-dot", "data-test": "notice-unread" }, t("inbox.unread")),
      n.title
    ),
    h("p", {}, n.body),
    h("p", { class: "muted" }, fmtDateTime(n.created_at)),
    h(
      "div",
      { class: "inbox-item-actions" },
      n.read_at ? null : h("button", { type: "button", class: "link-button", "data-test": "notice-read", onclick: () => markRead(n) }, t("inbox.mark_read")),
      n.link ? h("button", { type: "button", class: "link-button", "data-test": "notice-open", onclick: () => open(n) }, t("inbox.open")) : null
    )
  );
  return item;
}

async function markRead(n) {
  try {
    await api.request("POST", "/me/notices/read", { body: { ids: [n.id] } });
    go("#/inbox");
  } catch (e) {
    toast(errorText(e), "error");
  }
}

async function open(n) {
  if (!n.read_at) await api.request("POST", "/me/notices/read", { body: { ids: [n.id] } }).catch(() => {});
  go(n.link);
}

async function settingsScreen(root) {
  const current = await api.request("GET", "/me/notice-settings");
  const error = h("div", { "data-test": "form-error" });
  mount(
    root,
    h(
      "section",
      { class: "card form", "data-test": "notice-settings" },
      h("h1", {}, t("inbox.settings")),
      notice("info", t("inbox.settings_intro")),
      h(
        "fieldset",
        { class: "sms-kinds" },
        h("legend", {}, t("inbox.sms_by_kind")),
        KINDS.map((kind) => {
          const box = h("input", { type: "checkbox", id: `sms-${kind}`, checked: Boolean(current.sms[kind]), "data-test": `sms-${kind}`, onchange: () => save(kind, box) });
          return h("label", { class: "check", for: `sms-${kind}` }, box, " ", t(`inbox.kind.${kind}`));
        })
      ),
      error,
      h("p", {}, h("a", { href: "#/inbox" }, "← ", t("inbox.title")))
    )
  );

  async function save(kind, box) {
    mount(error);
    box.disabled = true;
    try {
      await api.request("PUT", "/me/notice-settings", { body: { sms: { [kind]: box.checked } } });
      toast(t("inbox.saved"));
    } catch (e) {
      box.checked = !box.checked;
      mount(error, notice("error", errorText(e)));
    } finally {
      box.disabled = false;
    }
  }
}

export const routes = {
  inbox: { screen: inboxScreen, detail: inboxScreen, needsLogin: true },
};
