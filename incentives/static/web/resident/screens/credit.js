// The credit screen (#/credit): the profile, the consent to the credit query, the
// standing (verify / re-verify) and its equivalents in the partner cities.

import { busy, confirmDialog, errorText, fmtDate, fmtDateTime, h, mount, notice, spinner, t, toast } from "../../common.js";
import { api, state, render, go, logout, me, cities, cityName, optional } from "../app.js";

async function creditScreen(_arg, root) {
  const [profile] = await Promise.all([me(), cities()]);
  if (!profile.roles.includes("resident")) {
    api.logout();
    state.me = null;
    state.flash = t("login.not_resident");
    return go("#/login");
  }
  const [consent, standing, text] = await Promise.all([
    optional(api.request("GET", "/me/credit/consent"), "not_found"),
    optional(api.request("GET", "/me/credit"), "no_standing"),
    api.request("GET", "/credit/consent-text", { auth: false }),
  ]);
  const active = consent?.active ? consent : null;
  const standingBox = h("div", { id: "standing" });
  const consentBox = h("div", { id: "consent" });

  mount(
    root,
    h(
      "section",
      { class: "card profile" },
      h("h1", { "data-test": "hello" }, t("credit.hello", { name: profile.real_name })),
      h("p", { class: "muted" }, t("credit.home_city", { city: profile.home_city ? cityName(profile.home_city.code) : "—" }), " · ", profile.id_number),
      h("button", { type: "button", class: "link-button", onclick: logout, "data-test": "logout" }, t("common.logout"))
    ),
    consentBox,
    standingBox
  );
  drawConsent();
  drawStanding(standing);

  function drawConsent() {
    if (active) {
      const textBox = h("article", { class: "consent-body", hidden: true }, h("h3", {}, text.title), h("p", {}, text.body));
      const toggle = h("button", { type: "button", class: "link-button", "aria-expanded": "false" }, t("credit.show_text"));
      toggle.addEventListener("click", () => {
        textBox.hidden = !textBox.hidden;
        toggle.setAttribute("aria-expanded", String(!textBox.hidden));
      });
      mount(
        consentBox,
        h(
          "section",
          { class: "consent-line", "data-test": "consent-given" },
          h("p", { class: "consent-status" }, h("span", { class: "check", "aria-hidden": "true" }, "✓ "), t("credit.consent_given", { version: active.consent_version, time: fmtDate(active.granted_at) })),
          h("div", { class: "consent-actions" }, toggle, h("button", { type: "button", class: "link-button danger", onclick: withdraw, "data-test": "consent-withdraw" }, t("credit.consent_withdraw"))),
          textBox
        )
      );
      return;
    }
    const accept = h("button", { type: "button", class: "btn btn-primary btn-block", onclick: give, "data-test": "consent-accept" }, t("credit.consent_accept"));
    mount(
      consentBox,
      h(
        "section",
        { class: "card consent", "data-test": "consent-card" },
        h("h2", {}, t("credit.consent_title")),
        h("p", { class: "muted" }, t("credit.consent_intro")),
        h("article", { class: "consent-body", tabindex: "0" }, h("h3", {}, text.title), h("p", { "data-test": "consent-text" }, text.body), h("p", { class: "muted small" }, t("credit.consent_version", { version: text.version }))),
        accept
      )
    );

    async function give() {
      await busy(accept, t("credit.consent_busy"), async () => {
        try {
          await api.request("POST", "/me/credit/consent", { body: { consent_version: text.version, accept: true } });
          render();
        } catch (e) {
          if (e.code === "invalid_request") {
            toast(errorText(e), "error"); // the text changed meanwhile: show the new one
            render();
          } else toast(errorText(e), "error");
        }
      });
    }
  }

  async function withdraw() {
    const yes = await confirmDialog({ title: t("credit.withdraw_title"), body: t("credit.withdraw_body"), confirm: t("credit.consent_withdraw"), danger: true });
    if (!yes) return;
    try {
      await api.request("DELETE", "/me/credit/consent");
      state.flash = t("credit.withdrawn");
      render();
    } catch (e) {
      toast(errorText(e), "error");
    }
  }

  function drawStanding(current, message) {
    const parts = [];
    if (message) parts.push(message);
    if (!current) {
      parts.push(
        h(
          "section",
          { class: "card empty-standing" },
          h("h2", {}, t("credit.standing_title")),
          h("p", { class: "muted" }, active ? t("credit.none_yet") : t("credit.need_consent")),
          active ? verifyButton(t("credit.verify"), true) : null
        )
      );
      mount(standingBox, parts);
      return;
    }
    parts.push(standingCard(current, active ? verifyButton(t("credit.reverify"), false) : null));
    parts.push(equivalentsCard(current));
    mount(standingBox, parts);
  }

  function verifyButton(label, primary) {
    const button = h("button", { type: "button", class: `btn ${primary ? "btn-primary" : "btn-secondary"} btn-block`, "data-test": "verify" }, label);
    button.addEventListener("click", () => verify(button));
    return button;
  }

  async function verify(button) {
    const before = standing?.verified_at || null;
    await busy(button, t("credit.pending"), async () => {
      let result;
      try {
        result = await api.request("POST", "/me/credit/verify");
      } catch (e) {
        drawStanding(standing, notice("error", errorText(e, "verify"), "verify-error"));
        return;
      }
      if (result._status !== 202) {
        toast(t("credit.verified_ok"));
        drawStanding(result);
        return;
      }
      // 202 pending: the city's platform is slow; poll the standing a few times
      mount(standingBox, h("section", { class: "card pending", "data-test": "verify-pending" }, spinner(t("credit.pending"))));
      for (let i = 0; i < 10; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const fresh = await optional(api.request("GET", "/me/credit"), "no_standing").catch(() => null);
        if (fresh && fresh.verified_at !== before) {
          toast(t("credit.verified_ok"));
          drawStanding(fresh);
          return;
        }
      }
      drawStanding(standing, notice("info", t("credit.pending_slow"), "verify-slow"));
    });
  }
}

function tierBadge(tier) {
  return h("span", { class: `tier tier-${tier}`, "data-test": "tier" }, t(`tier.${tier}`));
}

function standingCard(s, action) {
  return h(
    "section",
    { class: `card standing${s.seriously_dishonest ? " dishonest" : ""}`, "data-test": "standing" },
    h("h2", {}, t("credit.standing_title")),
    h(
      "div",
      { class: "score-row" },
      h("div", { class: "score" }, h("span", { class: "score-scheme" }, s.scheme), h("span", { class: "score-value", "data-test": "score" }, s.score)),
      tierBadge(s.tier)
    ),
    s.seriously_dishonest ? notice("error", t("credit.dishonest"), "dishonest") : null,
    s.stale ? notice("warn", t("credit.stale"), "stale") : null,
    s.expired ? notice("warn", t("credit.expired"), "expired") : null,
    h("p", { class: "muted small" }, t("credit.verified_at", { time: fmtDateTime(s.verified_at) }), " · ", t("credit.valid_until", { time: fmtDate(s.valid_until) })),
    action,
    h("a", { href: "#/offers", class: "btn btn-ghost btn-block" }, t("credit.go_offers"), " →")
  );
}

function equivalentsCard(s) {
  const illustrative = new Set((state.cities || []).filter((c) => c.scheme?.illustrative).map((c) => c.code));
  return h(
    "section",
    { class: "card", "data-test": "equivalents" },
    h("h2", {}, t("credit.equivalents")),
    h(
      "ul",
      { class: "equivalents" },
      s.equivalents.map((e) =>
        h(
          "li",
          {},
          h("div", { class: "eq-where" },
            h("span", { class: "eq-city" }, cityName(e.city) || e.city_name),
            h("span", { class: "eq-scheme" }, e.scheme, illustrative.has(e.city) ? h("small", { class: "demo-mark" }, t("credit.illustrative")) : null)),
          h("span", { class: "eq-score" }, e.score),
          tierBadge(e.tier)
        )
      )
    ),
    h("p", { class: "muted small" }, t("credit.equivalents_note"))
  );
}

export const routes = {
  credit: { screen: creditScreen, needsLogin: true },
};
