// The credit screen (#/credit): the profile, the consent to the credit query, the
// standing (verify / re-verify) and its equivalents in the partner cities.

import { busy, confirmDialog, errorText, fmtDate, fmtDateTime, getLang, h, mount, notice, spinner, t, toast } from "../../common.js";
import { api, state, render, go, logout, me, cities, cityName, optional, schemeName } from "../app.js";
import { icon } from "../icons.js";

async function creditScreen(_arg, root) {
  state.me = null; // fresh: its credit summary says what to fetch below
  const [profile] = await Promise.all([me(), cities()]);
  if (!profile.roles.includes("resident")) {
    api.logout();
    state.me = null;
    state.flash = t("login.not_resident");
    return go("#/login");
  }
  // ask only for what exists (GET /me says): a first visit meets no 404
  const exists = profile.credit || { consent: true, standing: true };
  const [consent, standing, text] = await Promise.all([
    exists.consent ? optional(api.request("GET", "/me/credit/consent"), "not_found") : null,
    exists.standing ? optional(api.request("GET", "/me/credit"), "no_standing") : null,
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
          h("p", { class: "consent-status" }, icon("check", "check"), t("credit.consent_given", { version: active.consent_version, time: fmtDate(active.granted_at) })),
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
    const yes = await confirmDialog({ title: t("credit.withdraw_title"), body: t("credit.withdraw_body"), confirm: t("credit.consent_withdraw"), cancel: t("credit.keep_consent"), danger: true });
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
        const fresh = await freshStanding(before).catch(() => null);
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

/** The standing once there is one (a first check asks GET /me until it exists: no 404s). */
async function freshStanding(before) {
  if (!before) {
    const profile = await api.request("GET", "/me");
    if (profile.credit && !profile.credit.standing) return null;
  }
  return optional(api.request("GET", "/me/credit"), "no_standing");
}

const TIERS = ["excellent", "good", "fair", "poor"]; // best first
const SVG = "http://www.w3.org/2000/svg";

/** The tier as a badge; `muted` (a listed resident) never shows the tier's colour. */
function tierBadge(tier, muted = false) {
  return h("span", { class: `tier ${muted ? "tier-muted" : `tier-${tier}`}`, "data-test": "tier" }, t(`tier.${tier}`));
}

function homeScheme() {
  const code = state.me?.home_city?.code;
  return (state.cities || []).find((c) => c.code === code)?.scheme || null;
}

function standingCard(s, action) {
  const muted = s.seriously_dishonest;
  const scheme = homeScheme();
  return h(
    "section",
    { class: `card standing${muted ? " dishonest" : ""}`, "data-test": "standing" },
    h("h2", {}, t("credit.standing_title")),
    scheme && s.score != null
      ? gauge(s, scheme, muted)
      : h(
          "div",
          { class: "score-row" },
          h("div", { class: "score" }, h("span", { class: "score-scheme" }, schemeName(s.scheme)), h("span", { class: "score-value", "data-test": "score" }, s.score ?? s.grade)),
          tierBadge(s.tier, muted)
        ),
    s.honours?.length
      ? h("p", { class: "honours", "data-test": "honours" }, t("credit.honours"), " ",
          s.honours.map((x) => h("span", { class: "badge honour" }, t(`honour.${x.kind}`))))
      : null,
    s.seriously_dishonest ? notice("error", t("credit.dishonest"), "dishonest") : null,
    s.stale ? notice("warn", t("credit.stale"), "stale") : null,
    s.expired ? notice("warn", t("credit.expired"), "expired") : null,
    h("p", { class: "muted small" }, t("credit.verified_at", { time: fmtDateTime(s.verified_at) }), " · ", t("credit.valid_until", { time: fmtDate(s.valid_until) })),
    action,
    h("a", { href: "#/offers", class: "btn btn-ghost btn-block" }, t("credit.go_offers"), " ", icon("forward"))
  );
}

/** The score on its scheme's scale: a half-ring of the tier bands, a marker at the score,
 * the range's ends below, and the same in words for screen readers. */
function gauge(s, scheme, muted) {
  const score = s.score;
  const { min_score: min, max_score: max } = scheme;
  const bands = [...(scheme.tiers || [])].sort((a, b) => a.min_score - b.min_score);
  const span = Math.max(1, max - min);
  const frac = (v) => Math.min(1, Math.max(0, (v - min) / span));
  const [cx, cy, r] = [110, 104, 86];
  const at = (f) => {
    const a = Math.PI * (1 - f);
    return [cx + r * Math.cos(a), cy - r * Math.sin(a)].map((n) => n.toFixed(2));
  };
  const el = (tag, attrs) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  };
  const own = bands.find((b) => score >= b.min_score && score <= b.max_score);
  const svg = el("svg", { viewBox: "0 0 220 128", class: "gauge-ring", "aria-hidden": "true" });
  bands.forEach((band, i) => {
    const from = frac(band.min_score);
    const to = i + 1 < bands.length ? frac(bands[i + 1].min_score) : 1;
    const [x0, y0] = at(from + (i ? 0.004 : 0));
    const [x1, y1] = at(to - (i + 1 < bands.length ? 0.004 : 0));
    const cls = `band band-${muted ? "muted" : band.tier}${band === own ? " band-own" : ""}`;
    svg.append(el("path", { d: `M${x0} ${y0} A${r} ${r} 0 0 1 ${x1} ${y1}`, class: cls, "data-tier": band.tier }));
  });
  const [mx, my] = at(frac(score));
  svg.append(el("circle", { cx: mx, cy: my, r: 9, class: `gauge-marker${muted ? " muted" : ""}` }));
  const ends = [
    el("text", { x: cx - r, y: cy + 20, "text-anchor": "middle", class: "gauge-end" }),
    el("text", { x: cx + r, y: cy + 20, "text-anchor": "middle", class: "gauge-end" }),
  ];
  ends[0].textContent = String(min);
  ends[1].textContent = String(max);
  svg.append(...ends);
  return h(
    "figure",
    { class: "gauge", "data-test": "gauge", "data-min": min, "data-max": max, role: "img", "aria-label": `${schemeName(s.scheme)} ${t("credit.gauge", { score, min, max })}` },
    h("div", { class: "gauge-dial" },
      svg,
      h("div", { class: "gauge-center" },
        h("span", { class: "score-scheme" }, schemeName(s.scheme)),
        h("span", { class: "score-value", "data-test": "score" }, score))),
    h("figcaption", {},
      tierBadge(s.tier, muted),
      own ? h("span", { class: "muted small gauge-band", "data-test": "gauge-band" }, t("credit.gauge_band", { from: own.min_score, to: own.max_score })) : null)
  );
}

/** The equivalents grouped by tier: the tier and its cities first, each group's scores on
 * demand (tiers are what partner cities recognise; the scores only convert it). */
function equivalentsCard(s) {
  const muted = s.seriously_dishonest;
  const illustrative = new Set((state.cities || []).filter((c) => c.scheme?.illustrative).map((c) => c.code));
  const groups = TIERS.map((tier) => ({ tier, rows: s.equivalents.filter((e) => e.tier === tier) })).filter((g) => g.rows.length);
  const sep = getLang() === "en" ? ", " : "、";
  return h(
    "section",
    { class: "card", "data-test": "equivalents" },
    h("h2", {}, t("credit.equivalents")),
    groups.map(({ tier, rows }) =>
      h(
        "div",
        { class: "eq-group", "data-test": "eq-group", "data-tier": tier },
        h("div", { class: "eq-head" }, tierBadge(tier, muted), h("span", { class: "eq-count" }, t("credit.eq_cities", { n: rows.length }))),
        h("p", { class: "eq-cities" }, rows.map((e) => cityName(e.city) || e.city_name).join(sep)),
        h(
          "details",
          { class: "eq-details" },
          h("summary", { "data-test": "eq-show-scores" }, t("credit.eq_show_scores")),
          h(
            "ul",
            { class: "equivalents" },
            rows.map((e) =>
              h(
                "li",
                { "data-test": "eq-row" },
                h("div", { class: "eq-where" },
                  h("span", { class: "eq-city" }, cityName(e.city) || e.city_name),
                  h("span", { class: "eq-scheme" }, schemeName(e.scheme), illustrative.has(e.city) ? h("small", { class: "demo-mark" }, t("credit.illustrative")) : null)),
                h("span", { class: "eq-score" }, e.score ?? e.grade ?? "—")
              )
            )
          )
        )
      )
    ),
    muted ? notice("info", t("credit.eq_dishonest"), "eq-dishonest") : null,
    h("p", { class: "muted small" }, t("credit.equivalents_note"))
  );
}

export const routes = {
  credit: { screen: creditScreen, needsLogin: true },
};
