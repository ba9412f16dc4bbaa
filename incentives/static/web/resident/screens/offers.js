// The offers screens: the list with filters (#/offers) and one offer (#/offers/<id>),
// both with the claim button.

import { benefitText, busy, errorText, fmtDate, getLang, h, idempotencyKey, mount, notice, sameOrigin, spinner, t, toast } from "../../common.js";
import { api, state, render, go, me, cities, cityLabel, cityName, schemeName } from "../app.js";
import { CATEGORIES, categoryArt, icon } from "../icons.js";

function offerQuery(filters, extra = {}) {
  const params = new URLSearchParams({ page_size: "20", ...extra });
  for (const name of ["city", "station", "category", "q"]) if (filters[name]) params.set(name, filters[name]);
  if (filters.eligible && api.loggedIn) params.set("eligible", "true");
  if (filters.trustworthy) params.set("trustworthy", "true");
  if (!filters.city && state.me?.home_city) params.set("near", state.me.home_city.code);
  return `/offers?${params}`;
}

async function stationsOf(city) {
  // No station list in the API: gather the stations of the city's published offers.
  if (!city) return [];
  if (!state.stations[city]) {
    const page = await api.request("GET", `/offers?city=${city}&page_size=100`, { auth: false });
    const seen = new Map();
    for (const offer of page.results) for (const s of offer.stations) seen.set(s.id, s);
    state.stations[city] = [...seen.values()].sort((a, b) => a.name.localeCompare(b.name, "zh"));
    // (sorted by the Chinese name: the order does not move when the language does)
  }
  return state.stations[city];
}

async function offersScreen(_arg, root) {
  const filters = state.offerFilters;
  const [list] = await Promise.all([cities(), api.loggedIn ? me() : null]);
  const stations = await stationsOf(filters.city);
  if (filters.station && !stations.some((s) => String(s.id) === filters.station)) filters.station = "";

  const citySelect = h("select", { "aria-label": t("offers.all_cities"), "data-test": "filter-city", onchange: (e) => update({ city: e.target.value, station: "" }) },
    h("option", { value: "" }, t("offers.all_cities")),
    list.map((c) => h("option", { value: c.code, selected: c.code === filters.city }, cityLabel(c))));
  const stationSelect = h("select", { "aria-label": t("offers.all_stations"), "data-test": "filter-station", disabled: !filters.city || !stations.length, onchange: (e) => update({ station: e.target.value }) },
    h("option", { value: "" }, t("offers.all_stations")),
    stations.map((s) => h("option", { value: String(s.id), selected: String(s.id) === filters.station }, stationName(s))));
  const search = h("input", { type: "search", value: filters.q, placeholder: t("offers.search"), "aria-label": t("offers.search"), "data-test": "filter-q", enterkeyhint: "search" });
  const chips = h("div", { class: "chips", role: "tablist" },
    ["", ...CATEGORIES].map((c) =>
      h("button", { type: "button", role: "tab", class: `chip${filters.category === c ? " active" : ""}`, "aria-selected": String(filters.category === c), "data-test": `category-${c || "all"}`, onclick: () => update({ category: c }) },
        c ? t(`category.${c}`) : t("offers.all_categories"))));
  const eligibleToggle = api.loggedIn
    ? h("label", { class: "toggle" }, h("input", { type: "checkbox", checked: filters.eligible, "data-test": "filter-eligible", onchange: (e) => update({ eligible: e.target.checked }) }), t("offers.eligible_only"))
    : null;
  const trustworthyToggle = h("label", { class: "toggle" }, h("input", { type: "checkbox", checked: filters.trustworthy, "data-test": "filter-trustworthy", onchange: (e) => update({ trustworthy: e.target.checked }) }), t("offers.trustworthy_only"));
  const results = h("div", { class: "offer-list", "data-test": "offer-list" }, spinner());
  const more = h("div", { class: "more" });

  mount(
    root,
    h("h1", { class: "page-title" }, t("offers.title")),
    h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); update({ q: search.value.trim() }); } },
      h("div", { class: "filter-row" }, citySelect, stationSelect), search, chips, eligibleToggle, trustworthyToggle),
    results,
    more
  );
  await load(offerQuery(filters), true);

  function update(changes) {
    Object.assign(state.offerFilters, changes);
    render();
  }

  async function load(path, first) {
    const page = await api.request("GET", path);
    if (first) mount(results);
    if (first && !page.results.length) mount(results, h("p", { class: "empty" }, t("offers.empty")));
    results.append(...page.results.map(offerCard));
    mount(more);
    if (page.next) {
      const button = h("button", { type: "button", class: "btn btn-ghost btn-block" }, t("offers.more"));
      button.addEventListener("click", () => busy(button, t("common.loading"), () => load(sameOrigin(page.next), false).catch((e) => toast(errorText(e), "error"))));
      mount(more, button);
    }
  }
}

// An entitlement is not claimed: it is used by showing the credit pass, so its lines say
// "you may use it" (offers.usable), never "you may claim it".
const isEntitlement = (offer) => offer.kind === "entitlement";

function eligibilityLine(offer) {
  if (!offer.eligibility) return h("p", { class: "elig elig-unknown" }, t("offers.login_to_see"));
  const entitlement = isEntitlement(offer);
  if (offer.eligibility.eligible) {
    return h("p", { class: "elig elig-yes", "data-test": "eligible" }, icon("check"), t(entitlement ? "offers.usable" : "offers.eligible"));
  }
  const reasons = offer.eligibility.reasons.map((r) => t(`reason.${r}`)).join(getLang() === "en" ? "; " : "；");
  return h("p", { class: "elig elig-no", "data-test": "not-eligible" }, icon("cross"), t(entitlement ? "offers.not_usable" : "offers.not_eligible"), reasons ? h("span", { class: "reasons" }, t("offers.why_not"), reasons) : null);
}

/** A station's name in the current language (`name_en`: Hanyu Pinyin from the server). */
const stationName = (s) => (getLang() === "en" && s.name_en ? s.name_en : s.name);

/** "杭州 西湖区" / "Xihu District, Hangzhou": the merchant's city and district. */
function placeText(offer) {
  const m = offer.merchant;
  const city = cityName(m.city.code) || m.city.name;
  if (getLang() === "en") return m.district_en ? `${m.district_en}, ${city}` : city;
  return m.district ? `${city} ${m.district}` : city;
}

/** placeText as nodes that never break inside a name ("杭" / "州" on a narrow phone). */
function placeNodes(offer) {
  const m = offer.merchant;
  const city = cityName(m.city.code) || m.city.name;
  const keep = (text) => h("span", { class: "nowrap" }, text);
  if (getLang() === "en") return m.district_en ? [keep(m.district_en), ", ", keep(city)] : [keep(city)];
  return m.district ? [keep(city), " ", keep(m.district)] : [keep(city)];
}

function quotaText(offer) {
  return offer.remaining_quota == null ? t("offers.unlimited") : t("offers.remaining", { n: offer.remaining_quota });
}

/** An offer's card; `refused` is the message of a refused tap, shown in the card. */
function offerCard(offer, refused = "") {
  if (!offer) return h("p", { class: "empty", "data-test": "offer-gone" }, t("offers.gone"));
  const claim = claimButton(offer, false, (fresh, text) => card.replaceWith(offerCard(fresh, text)));
  const card = h(
    "article",
    { class: "card offer", "data-test": "offer", "data-offer-id": offer.id },
    h("a", { class: "offer-main", href: `#/offers/${offer.id}` },
      categoryArt(offer.category),
      h("div", { class: "offer-body" },
        h("div", { class: "offer-top" },
          h("span", { class: `cat cat-${offer.category}` }, t(`category.${offer.category}`)),
          h("span", { class: "benefit" }, benefitText(offer))),
        h("h2", { class: "offer-title" }, offer.title),
        h("p", { class: "muted small" }, offer.merchant.name, trustBadge(offer), " · ", h("span", { class: "place", "data-test": "offer-place" }, placeNodes(offer))),
        h("p", { class: "muted small" }, t("offers.until", { date: fmtDate(offer.valid_until) }), " · ", quotaText(offer)))),
    h("div", { class: "offer-foot" }, eligibilityLine(offer), claim),
    refused ? h("div", { class: "offer-refused" }, notice("error", refused, "claim-refused")) : null
  );
  return card;
}

/** The claim button of a voucher offer (or the way to the pass for an entitlement).
 * `refreshed(offer)` is called with the offer as the server sees it after a refused tap,
 * so that the card shows why (sold out, the limit reached, no longer eligible). */
function claimButton(offer, block = false, refreshed = null) {
  if (isEntitlement(offer)) {
    // nothing to claim: the credit pass is shown at the counter
    const usable = !offer.eligibility || offer.eligibility.eligible;
    return h("a", { href: "#/pass", class: `btn ${usable ? "btn-primary" : "btn-ghost"}${block ? " btn-block" : ""}`, "data-test": "show-pass" }, t("offers.show_pass"));
  }
  // withdrawn consent is the resident's to give again: the tap says so and leads there
  const reasons = offer.eligibility?.reasons || [];
  const fixable = reasons.length === 1 && reasons[0] === "consent_withdrawn";
  const can = !offer.eligibility || offer.eligibility.eligible || fixable;
  const button = h("button", { type: "button", class: `btn ${can ? "btn-primary" : "btn-disabled"}${block ? " btn-block" : ""}`, disabled: !can, "data-test": "claim" }, t("offers.claim"));
  let key = null; // one key per attempt, reused if the same attempt is retried
  button.addEventListener("click", async () => {
    if (!api.loggedIn) return go("#/login");
    key = key || idempotencyKey();
    await busy(button, t("offers.claiming"), async () => {
      try {
        const voucher = await api.request("POST", `/offers/${offer.id}/claim`, { headers: { "Idempotency-Key": key } });
        state.flash = t("offers.claimed");
        go(`#/wallet/${encodeURIComponent(voucher.code)}`);
      } catch (e) {
        if (e.code !== "network_error" && e.code !== "request_in_progress") key = null;
        let text = errorText(e);
        if (e.code === "not_eligible" && e.detail.reasons?.length) text += ` ${e.detail.reasons.map((r) => t(`reason.${r}`)).join(getLang() === "en" ? "; " : "，")}`;
        if (e.code === "consent_required" || e.code === "no_standing") {
          toast(text, "error");
          setTimeout(() => go("#/credit"), 1200);
        } else if (refreshed && e.status >= 400 && e.status < 500) {
          // refused: show the offer as the server sees it now, with why (or that it is gone)
          api.request("GET", `/offers/${offer.id}`).then(
            (fresh) => refreshed(fresh, text),
            (gone) => (gone.status === 404 ? refreshed(null, text) : toast(text, "error"))
          );
        } else toast(text, "error");
      }
    });
  });
  return button;
}

function trustBadge(offer) {
  // 诚信商户: the merchant's enterprise credit is grade A and it is not on the list
  return offer.merchant.trustworthy
    ? h("span", { class: "badge trust", "data-test": "trust-badge", title: t("offers.trustworthy_hint") }, t("offers.trustworthy"))
    : null;
}

async function offerScreen(id, root) {
  await Promise.all([cities(), api.loggedIn ? me() : null]);
  const offer = await api.request("GET", `/offers/${encodeURIComponent(id)}`);
  const rule = offer.eligibility_rule;
  const ruleLines = [];
  if (rule.min_tier) ruleLines.push(t("offers.rule_tier", { tier: t(`tier.${rule.min_tier}`) }));
  if (rule.min_score != null) ruleLines.push(t("offers.rule_score", { scheme: schemeName(rule.scheme), score: rule.min_score }));
  if (rule.min_grade) ruleLines.push(t("offers.rule_grade", { scheme: schemeName(rule.scheme), grade: rule.min_grade }));
  if (rule.honour) ruleLines.push(t("offers.rule_honour", { honour: t(`honour.${rule.honour}`) }));
  if (!ruleLines.length) ruleLines.push(t("offers.rule_any"));
  ruleLines.push(
    rule.home_city_rule === "listed"
      ? `${t("offers.rule_listed")}: ${rule.eligible_home_cities.map(cityName).join(", ")}`
      : t(`offers.rule_${rule.home_city_rule}`)
  );
  mount(
    root,
    h("a", { href: "#/offers", class: "back" }, icon("back"), t("common.back")),
    h(
      "article",
      { class: "card offer-detail", "data-test": "offer-detail" },
      h("div", { class: "offer-hero" },
        categoryArt(offer.category, "cat-art cat-art-big"),
        h("div", { class: "offer-hero-text" },
          h("div", { class: "offer-top" }, h("span", { class: `cat cat-${offer.category}` }, t(`category.${offer.category}`)), h("span", { class: "benefit big" }, benefitText(offer))),
          h("h1", {}, offer.title))),
      h("p", { class: "muted" }, offer.merchant.name, trustBadge(offer)),
      offer.benefit_note ? h("p", {}, offer.benefit_note) : null,
      h("p", {}, offer.description),
      eligibilityLine(offer),
      claimButton(offer, true, (_fresh, text) => {
        state.flash = text; // shown once the offer is drawn again as the server sees it
        render();
      }),
      h("dl", { class: "facts" },
        h("dt", {}, t(isEntitlement(offer) ? "offers.rule_use" : "offers.rule")), h("dd", {}, ruleLines.map((line) => h("div", {}, line))),
        h("dt", {}, t("offers.validity")), h("dd", {}, `${fmtDate(offer.valid_from)} – ${fmtDate(offer.valid_until)}`),
        h("dt", {}, t("offers.address")), h("dd", {}, getLang() === "en" ? `${offer.merchant.address}, ${placeText(offer)}` : `${placeText(offer)} ${offer.merchant.address}`),
        h("dt", {}, t("offers.usage")), h("dd", {},
          offer.usage_notes ? h("div", {}, offer.usage_notes) : null,
          offer.kind === "entitlement"
            ? h("div", {}, t(`offers.per_${offer.period}`, { n: offer.limit_per_period }))
            : [
                h("div", {}, t("offers.limit", { n: offer.per_resident_limit })),
                h("div", {}, t("offers.lifetime", { n: offer.voucher_lifetime_hours })),
                h("div", {}, quotaText(offer)),
              ]),
        offer.stations.length ? [h("dt", {}, t("offers.stations")), h("dd", {}, offer.stations.map(stationName).join(getLang() === "en" ? ", " : "、"))] : null)
    )
  );
}

export const routes = {
  offers: { screen: offersScreen, detail: offerScreen, guestTabbar: true },
};
