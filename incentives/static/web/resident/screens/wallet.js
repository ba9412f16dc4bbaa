// The wallet screens: the voucher list (#/wallet) and one voucher with its QR code
// (#/wallet/<code>).

import { benefitText, busy, confirmDialog, errorText, fmtDateTime, h, mount, notice, spinner, t, toast } from "../../common.js";
import { api, state, render, cityName } from "../app.js";
import { icon } from "../icons.js";

async function walletScreen(_arg, root) {
  const tab = state.walletTab;
  const query = tab === "issued" ? "?status=issued&page_size=50" : "?page_size=50";
  const page = await api.request("GET", `/me/vouchers${query}`);
  // nothing usable: say "empty" only when there is no voucher at all (used ones count)
  const any = page.results.length || tab !== "issued" ? null : await api.request("GET", "/me/vouchers?page_size=1");
  const tabs = h("div", { class: "segmented", role: "tablist" },
    ["issued", "all"].map((name) =>
      h("button", { type: "button", role: "tab", class: name === tab ? "active" : "", "aria-selected": String(name === tab), onclick: () => { state.walletTab = name; render(); } },
        t(name === "issued" ? "wallet.tab_usable" : "wallet.tab_all"))));
  mount(
    root,
    h("h1", { class: "page-title" }, t("wallet.title")),
    tabs,
    page.results.length
      ? h("div", { class: "voucher-list" }, page.results.map(voucherRow))
      : emptyWallet(any && any.results.length > 0)
  );
}

function emptyWallet(hasOthers) {
  const seeAll = () => {
    state.walletTab = "all";
    render();
  };
  return h(
    "div",
    { class: "empty", "data-test": "wallet-empty" },
    h("p", { "data-test": hasOthers ? "wallet-none-usable" : "wallet-empty-text" }, t(hasOthers ? "wallet.none_usable" : "wallet.empty")),
    h("div", { class: "empty-actions" },
      hasOthers ? h("button", { type: "button", class: "btn btn-ghost", onclick: seeAll, "data-test": "wallet-see-all" }, t("wallet.see_all")) : null,
      h("a", { href: "#/offers", class: "btn btn-primary" }, t("credit.go_offers")))
  );
}

function statusBadge(status) {
  return h("span", { class: `status status-${status}`, "data-test": "voucher-status" }, t(`status.${status}`));
}

function voucherRow(v) {
  return h(
    "a",
    { class: `card voucher-row status-row-${v.status}`, href: `#/wallet/${encodeURIComponent(v.code)}`, "data-test": "voucher-row" },
    h("div", { class: "voucher-row-main" },
      h("h2", {}, v.offer.title),
      h("p", { class: "muted small" }, v.offer.merchant),
      h("p", { class: "small" }, v.status === "redeemed" ? t("wallet.redeemed_at", { time: fmtDateTime(v.redeemed_at) }) : t("wallet.expires", { time: fmtDateTime(v.expires_at) }))),
    h("div", { class: "voucher-row-side" }, statusBadge(v.status), h("span", { class: "benefit" }, benefitText(v.offer)))
  );
}

async function voucherScreen(code, root) {
  const v = await api.request("GET", `/me/vouchers/${encodeURIComponent(code)}`);
  const usable = v.status === "issued";
  const qrBox = h("div", { class: "qr-box" });
  const cancel = usable ? h("button", { type: "button", class: "btn btn-danger-outline btn-block", "data-test": "cancel-voucher" }, t("wallet.cancel")) : null;
  mount(
    root,
    h("a", { href: "#/wallet", class: "back" }, icon("back"), t("common.back")),
    h(
      "article",
      { class: `card voucher voucher-${v.status}`, "data-test": "voucher", "data-code": v.code, "data-token": v.token || "" },
      h("div", { class: "voucher-head" }, h("h1", {}, v.offer.title), statusBadge(v.status)),
      h("p", { class: "muted" }, v.offer.merchant),
      usable ? qrBox : h("div", { class: "stamp", "data-test": "voucher-stamp" }, t(`status.${v.status}`), v.status === "redeemed" ? h("small", {}, fmtDateTime(v.redeemed_at)) : null),
      h("div", { class: "code-block" }, h("span", { class: "muted small" }, t("wallet.code")), h("span", { class: `human-code${usable ? "" : " void"}`, "data-test": "human-code" }, v.display_code)),
      usable ? h("p", { class: "hint" }, t("wallet.show_hint")) : h("p", { class: "hint" }, t("wallet.not_usable")),
      h("dl", { class: "facts" },
        h("dt", {}, t("wallet.benefit")), h("dd", {}, benefitText(v.offer), v.offer.benefit_note ? ` · ${v.offer.benefit_note}` : ""),
        h("dt", {}, t("wallet.merchant")), h("dd", {}, `${v.offer.merchant} · ${cityName(v.offer.city)}`),
        h("dt", {}, t("wallet.issued_at")), h("dd", {}, fmtDateTime(v.issued_at)),
        h("dt", {}, t("wallet.expires_at")), h("dd", { "data-test": "expires-at" }, fmtDateTime(v.expires_at)),
        v.redeemed_at ? [h("dt", {}, t("status.redeemed")), h("dd", {}, fmtDateTime(v.redeemed_at))] : null,
        h("dt", {}, t("wallet.terms")), h("dd", { "data-test": "terms" }, v.offer.usage_notes || "—")),
      cancel
    )
  );
  if (usable) loadQr(v, qrBox);
  cancel?.addEventListener("click", async () => {
    const yes = await confirmDialog({ title: t("wallet.cancel_title"), body: t("wallet.cancel_body"), confirm: t("wallet.cancel_confirm"), cancel: t("wallet.keep"), danger: true });
    if (!yes) return;
    await busy(cancel, t("common.loading"), async () => {
      try {
        await api.request("POST", `/me/vouchers/${encodeURIComponent(v.code)}/cancel`);
        state.flash = t("wallet.cancelled_ok");
        render();
      } catch (e) {
        toast(errorText(e), "error");
        if (e.code === "voucher_not_cancellable") render();
      }
    });
  });
}

async function loadQr(v, box) {
  // <img src> cannot send the Bearer token: fetch the PNG, show it as an object URL
  mount(box, spinner());
  try {
    const blob = await api.request("GET", v.qr_png_url, { blob: true });
    const url = URL.createObjectURL(blob);
    state.qrUrls.push(url);
    mount(box, h("img", { class: "qr", src: url, alt: t("wallet.qr_alt"), "data-test": "voucher-qr" }));
  } catch {
    mount(box, notice("warn", t("wallet.qr_failed"), "qr-failed"));
  }
}

export const routes = {
  wallet: { screen: walletScreen, detail: voucherScreen, needsLogin: true },
};
