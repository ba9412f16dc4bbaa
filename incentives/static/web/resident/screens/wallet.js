// The wallet screens: the voucher list (#/wallet) and one voucher with its QR code
// (#/wallet/<code>). Both work offline: what the API last returned, and each usable
// voucher's QR image, are kept on the device (../pocket.js) and shown, marked offline,
// when the network is gone.

import { benefitText, busy, confirmDialog, errorText, fmtDateTime, h, mount, notice, spinner, t, toast } from "../../common.js";
import { api, state, render, cityName } from "../app.js";
import { icon } from "../icons.js";
import { hasQr, objectUrlOf, offlineStatus, pocketQr, pocketVoucher, pocketVouchers, saveQr, savedAt, saveVouchers } from "../pocket.js";

const offline = (error) => error?.code === "network_error";

function offlineNote() {
  return notice("warn", t("pocket.offline", { time: fmtDateTime(savedAt()) }), "offline-note");
}

async function walletScreen(_arg, root) {
  const tab = state.walletTab;
  const query = tab === "issued" ? "?status=issued&page_size=50" : "?page_size=50";
  let page;
  let any = null;
  let away = false;
  try {
    page = await api.request("GET", `/me/vouchers${query}`);
    saveVouchers(page.results);
    keepQrImages(page.results); // in the background: every usable voucher shows offline
    // nothing usable: say "empty" only when there is no voucher at all (used ones count)
    any = page.results.length || tab !== "issued" ? null : await api.request("GET", "/me/vouchers?page_size=1");
  } catch (error) {
    if (!offline(error)) throw error;
    away = true;
    const kept = pocketVouchers(tab === "issued" ? "issued" : null);
    page = { results: kept.map((v) => ({ ...v, status: offlineStatus(v) })) };
    any = page.results.length || tab !== "issued" ? null : { results: pocketVouchers(null) };
  }
  const tabs = h("div", { class: "segmented", role: "tablist" },
    ["issued", "all"].map((name) =>
      h("button", { type: "button", role: "tab", class: name === tab ? "active" : "", "aria-selected": String(name === tab), onclick: () => { state.walletTab = name; render(); } },
        t(name === "issued" ? "wallet.tab_usable" : "wallet.tab_all"))));
  mount(
    root,
    h("h1", { class: "page-title" }, t("wallet.title")),
    away ? offlineNote() : null,
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

async function keepQrImages(vouchers) {
  for (const v of vouchers.slice(0, 20)) {
    if (v.status !== "issued" || !v.token || hasQr(v)) continue;
    try {
      await saveQr(v, await api.request("GET", v.qr_png_url, { blob: true }));
    } catch {
      return; // offline again, or the server said no: try on the next visit
    }
  }
}

async function voucherScreen(code, root) {
  let v;
  let away = false;
  try {
    v = await api.request("GET", `/me/vouchers/${encodeURIComponent(code)}`);
    saveVouchers([v]);
  } catch (error) {
    const kept = offline(error) && pocketVoucher(code);
    if (!kept) throw error;
    away = true;
    v = { ...kept, status: offlineStatus(kept) };
  }
  const usable = v.status === "issued";
  const qrBox = h("div", { class: "qr-box" });
  const cancel = usable ? h("button", { type: "button", class: "btn btn-danger-outline btn-block", "data-test": "cancel-voucher" }, t("wallet.cancel")) : null;
  mount(
    root,
    h("a", { href: "#/wallet", class: "back" }, icon("back"), t("common.back")),
    away ? offlineNote() : null,
    h(
      "article",
      { class: `card voucher voucher-${v.status}`, "data-test": "voucher", "data-code": v.code, "data-token": v.token || "", "data-offline": away ? "true" : "false" },
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
      away ? null : cancel
    )
  );
  if (usable) loadQr(v, qrBox, away);
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

async function loadQr(v, box, away) {
  // <img src> cannot send the Bearer token: fetch the PNG, show it as an object URL
  mount(box, spinner());
  let url = null;
  if (!away) {
    try {
      const blob = await api.request("GET", v.qr_png_url, { blob: true });
      url = URL.createObjectURL(blob);
      saveQr(v, blob).catch(() => {});
    } catch {
      /* the network failed just now: the kept image, if any */
    }
  }
  const kept = url ? null : pocketQr(v);
  if (kept) url = objectUrlOf(kept);
  if (!url) {
    mount(box, notice("warn", t("wallet.qr_failed"), "qr-failed"));
    return;
  }
  state.qrUrls.push(url);
  mount(box, h("img", { class: "qr", src: url, alt: t("wallet.qr_alt"), "data-test": "voucher-qr", "data-source": kept ? "device" : "server" }));
}

export const routes = {
  wallet: { screen: walletScreen, detail: voucherScreen, needsLogin: true },
};
