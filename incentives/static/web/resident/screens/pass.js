// The personal credit pass (信用码, #/pass): a card with the QR that renews itself before it
// expires (like a payment code) and says how long it is valid; below it, the incidents
// reported against the resident (with any suspension and the one objection) and the
// entitlements used.

import { busy, errorText, fmtDateTime, getLang, h, mount, notice, spinner, t, toast } from "../../common.js";
import { api, state, go, cities, cityName } from "../app.js";
import { lastPass, passView, savePass } from "../pocket.js";

const dataUrlOf = (blob) =>
  new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => resolve(null);
    reader.readAsDataURL(blob);
  });

// Renew this many seconds before the pass expires (a counter's scan takes a few seconds).
const RENEW_BEFORE = 30;

async function passScreen(_arg, root) {
  const qrBox = h("div", { class: "qr-box pass-qr-box", "data-test": "pass-qr-box" }, spinner());
  const validity = h("p", { class: "pass-validity", "data-test": "pass-validity", "aria-live": "polite" });
  const facts = h("dl", { class: "facts" });
  const refresh = h("button", { type: "button", class: "btn btn-ghost btn-block", "data-test": "pass-refresh" }, t("pass.refresh"));
  const card = h("article", { class: "card pass-card", "data-test": "pass" }, h("h1", {}, t("pass.title")), qrBox, validity, facts, h("p", { class: "hint" }, t("pass.hint")), refresh);
  const incidents = h("section", { class: "pass-incidents", "data-test": "incidents" });
  const uses = h("section", { class: "card pass-uses", "data-test": "uses" });
  mount(root, card, incidents, uses);

  let current = null; // {data, receivedAt}
  let renewing = false;

  async function renew() {
    if (renewing || !root.isConnected) return;
    renewing = true;
    try {
      const data = await api.request("GET", "/me/credit/pass");
      current = { data, receivedAt: Date.now() };
      card.dataset.token = data.token;
      const blob = await api.request("GET", data.qr_png_url, { blob: true });
      const url = URL.createObjectURL(blob);
      state.qrUrls.push(url);
      mount(qrBox, h("img", { class: "qr pass-qr", src: url, alt: t("pass.qr_alt"), "data-test": "pass-qr" }));
      // kept on the device: shown offline while it is valid (resident/pocket.js)
      dataUrlOf(blob).then((dataUrl) => savePass(data, dataUrl));
      mount(facts,
        h("dt", {}, t("pass.holder")), h("dd", { "data-test": "pass-holder" }, data.holder),
        h("dt", {}, t("pass.tier")), h("dd", { "data-test": "pass-tier" }, t(`tier.${data.tier}`)),
        h("dt", {}, t("pass.home_city")), h("dd", { "data-test": "pass-home-city" }, cityName(data.home_city.code) || data.home_city.name));
      tick();
    } catch (error) {
      current = null;
      card.removeAttribute("data-token");
      let text = errorText(error);
      if (error.code === "not_eligible" && error.detail?.reasons?.length) {
        text += ` ${error.detail.reasons.map((r) => t(`reason.${r}`)).join(getLang() === "en" ? "; " : "，")}`;
      }
      mount(qrBox, notice("error", text, "pass-error"));
      mount(validity);
      if (error.code === "network_error") {
        const kept = passView(lastPass()); // offline: the pass kept on the device, if valid
        if (kept) mount(qrBox, kept);
      }
      if (error.code === "consent_required" || error.code === "no_standing") {
        mount(qrBox, notice("error", text, "pass-error"), h("a", { href: "#/credit", class: "btn btn-primary" }, t("pass.to_credit")));
      }
    } finally {
      renewing = false;
    }
  }

  function secondsLeft() {
    if (!current) return 0;
    return Math.max(0, current.data.valid_seconds - Math.floor((Date.now() - current.receivedAt) / 1000));
  }

  function tick() {
    if (!current) return;
    const left = secondsLeft();
    validity.textContent = t("pass.valid_for", { seconds: left, time: fmtDateTime(current.data.expires_at) });
    validity.dataset.seconds = String(left);
    if (left <= RENEW_BEFORE) renew();
  }

  // The uses are asked again every USES_EVERY seconds while the pass shows (a clerk applies
  // an entitlement while the resident holds the phone up): a use appears without leaving.
  let sinceUses = 0;
  const timer = setInterval(() => {
    if (!root.isConnected) return clearInterval(timer); // the resident left the screen
    tick();
    sinceUses += 1;
    if (sinceUses >= USES_EVERY && document.visibilityState === "visible") {
      sinceUses = 0;
      loadUses(uses);
    }
  }, 1000);
  refresh.addEventListener("click", () => busy(refresh, t("common.loading"), async () => {
    await renew();
    await loadUses(uses);
  }));
  await cities().catch(() => null); // the home city's name in the current language
  await renew();
  loadIncidents(incidents);
  loadUses(uses);
}

const USES_EVERY = 5;

async function loadIncidents(box) {
  let page;
  try {
    page = await api.request("GET", "/me/incidents?page_size=50");
  } catch {
    return mount(box);
  }
  if (!page.results.length) return mount(box);
  mount(box, h("h2", {}, t("pass.incidents")), page.results.map(incidentCard));
}

function incidentCard(incident) {
  const lines = [
    h("p", { class: "small" }, `${incident.merchant} · ${incident.offer.title}`),
    h("p", { class: "small" }, `${t(`incident.${incident.kind}`)} · ${t(`incident_status.${incident.status}`)}`),
  ];
  if (incident.suspended_until) {
    lines.push(notice("warn", t("pass.suspended", { scenario: t(`scenario.${incident.scenario}`), time: fmtDateTime(incident.suspended_until) }), "suspension"));
  }
  if (incident.objection) lines.push(h("p", { class: "muted small" }, `${t("pass.objection")}: ${incident.objection}`));
  const card = h("article", { class: "card incident", "data-test": "incident", "data-status": incident.status }, lines);
  if (incident.may_object) {
    const text = h("textarea", { rows: 2, maxlength: 2000, placeholder: t("pass.object_placeholder"), "data-test": "objection-text" });
    const send = h("button", { type: "submit", class: "btn btn-secondary", "data-test": "objection-submit" }, t("pass.object"));
    const form = h("form", { class: "objection-form", novalidate: true }, text, send);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!text.value.trim()) return text.focus();
      await busy(send, t("common.loading"), async () => {
        try {
          await api.request("POST", `/me/incidents/${incident.id}/objection`, { body: { text: text.value.trim() } });
          mount(form, notice("info", t("pass.objected"), "objected"));
        } catch (error) {
          toast(errorText(error), "error");
        }
      });
    });
    card.append(form);
  }
  return card;
}

async function loadUses(box) {
  const header = h("h2", {}, t("pass.uses"));
  try {
    const page = await api.request("GET", "/me/entitlement-uses?page_size=20");
    const seen = page.results.map((u) => u.id ?? u.used_at).join(",");
    if (box.dataset.seen === seen && box.childElementCount) return; // nothing new: no redraw
    box.dataset.seen = seen;
    mount(box, header, page.results.length
      ? h("ul", { class: "use-list" }, page.results.map((u) =>
          h("li", { "data-test": "use" }, h("strong", {}, u.offer.title), h("small", { class: "muted" }, ` ${u.offer.merchant} · ${fmtDateTime(u.used_at)}`))))
      : h("p", { class: "muted small" }, t("pass.uses_empty")));
  } catch {
    mount(box);
  }
}

export const routes = {
  pass: { screen: passScreen, needsLogin: true },
};

export const showPass = () => go("#/pass");
