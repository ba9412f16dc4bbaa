// The resident H5 app: log in or register, consent, verify, browse and claim offers, and
// a wallet of QR vouchers. Hash routes: #/login #/register #/credit #/offers #/offers/<id>
// #/wallet #/wallet/<code>. All data comes from the public API (api.md).

import {
  Api,
  ApiError,
  applyLangToShell,
  benefitText,
  busy,
  confirmDialog,
  errorText,
  field,
  fieldErrors,
  fmtDate,
  fmtDateTime,
  getLang,
  h,
  loginHandler,
  idempotencyKey,
  mount,
  notice,
  onLangSwitch,
  sameOrigin,
  spinner,
  t,
  toast,
  watchOnline,
} from "./common.js";

const view = document.getElementById("view");
const tabbar = document.getElementById("tabbar");
const api = new Api("xinyou.resident.tokens", () => {
  state.me = null;
  state.flash = t("login.expired");
  go("#/login");
});

const CATEGORIES = ["scenic", "hotel", "shopping", "dining", "transport", "culture", "other"];
const state = {
  me: null, // the profile (GET /me)
  cities: null, // [{code, name, name_en, scheme}]
  flash: null, // a message to show on the next screen
  offerFilters: { city: "", station: "", category: "", q: "", eligible: false },
  stations: {}, // city code → [{id, name}]
  walletTab: "issued",
  qrUrls: [], // object URLs to revoke when leaving a voucher
};

const go = (hash) => {
  if (location.hash === hash) render();
  else location.hash = hash;
};

// ------------------------------------------------------------------------------ data

async function me() {
  if (!state.me && api.loggedIn) state.me = await api.request("GET", "/me");
  return state.me;
}

async function cities() {
  if (!state.cities) {
    const page = await api.request("GET", "/cities?page_size=100", { auth: false });
    state.cities = page.results;
  }
  return state.cities;
}

function cityName(code) {
  const city = (state.cities || []).find((c) => c.code === code);
  if (!city) return code;
  return getLang() === "en" && city.name_en ? city.name_en : city.name;
}

async function optional(promise, missingCode) {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof ApiError && (error.code === missingCode || error.status === 404)) return null;
    throw error;
  }
}

// ------------------------------------------------------------------------------ router

async function render() {
  document.getElementById("toast").hidden = true;
  for (const url of state.qrUrls.splice(0)) URL.revokeObjectURL(url);
  applyLangToShell();
  const [path, arg] = parseHash();
  const needsLogin = ["credit", "wallet"].includes(path);
  if (needsLogin && !api.loggedIn) return go("#/login");
  if (["login", "register"].includes(path) && api.loggedIn) return go("#/credit");
  tabbar.hidden = !api.loggedIn && path !== "offers";
  for (const a of tabbar.querySelectorAll("a")) {
    a.classList.toggle("active", a.dataset.tab === path);
    if (a.dataset.tab === path) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  // Each visit renders into its own element: a screen still loading when the user moves
  // on fills an element that is no longer shown, never the new screen.
  const root = h("div", { class: "screen" }, spinner());
  mount(view, root);
  const started = location.hash;
  try {
    const screens = { login: loginScreen, register: registerScreen, credit: creditScreen, offers: arg ? offerScreen : offersScreen, wallet: arg ? voucherScreen : walletScreen };
    await (screens[path] || creditScreen)(arg, root);
  } catch (error) {
    mount(
      root,
      notice("error", errorText(error), "screen-error"),
      h("button", { type: "button", class: "btn btn-primary btn-block", onclick: render }, t("common.retry"))
    );
  }
  if (location.hash !== started) return; // the screen sent us elsewhere: that one shows it
  const flash = state.flash;
  state.flash = null;
  if (flash) toast(flash, "info");
  window.scrollTo(0, 0);
}

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  const path = parts[0] || (api.loggedIn ? "credit" : "login");
  return [path, parts[1] ? decodeURIComponent(parts[1]) : ""];
}

// ------------------------------------------------------------------------------ login

async function loginScreen(_arg, root) {
  const phone = field({ name: "phone", label: t("login.phone"), type: "tel", inputmode: "numeric", autocomplete: "username", maxlength: 11 });
  const password = field({ name: "password", label: t("login.password"), type: "password", autocomplete: "current-password" });
  const error = h("div", { class: "form-error", "data-test": "form-error" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", "data-test": "login-submit" }, t("login.submit"));
  const onLogin = loginHandler({
    api, phone, password, error, submit,
    onDone: () => {
      state.me = null;
      go("#/credit");
    },
  });
  const form = h(
    "form",
    { class: "card form", novalidate: true, onsubmit: onLogin },
    h("h1", {}, t("login.title")),
    phone.wrap,
    password.wrap,
    error,
    submit,
    h("p", { class: "switch-link" }, t("login.no_account"), " ", h("a", { href: "#/register", "data-test": "to-register" }, t("login.to_register")))
  );
  mount(root, hero(), form, offersTeaser());

}

function hero() {
  return h("section", { class: "hero" }, h("h1", {}, t("app.title")), h("p", {}, t("app.tagline")));
}

function offersTeaser() {
  return h("p", { class: "center" }, h("a", { href: "#/offers", class: "btn btn-ghost" }, t("offers.title"), " →"));
}

async function registerScreen(_arg, root) {
  const list = await cities();
  const phone = field({ name: "phone", label: t("login.phone"), type: "tel", inputmode: "numeric", autocomplete: "tel", maxlength: 11 });
  const password = field({ name: "password", label: t("login.password"), type: "password", autocomplete: "new-password", hint: t("register.password_hint") });
  const realName = field({ name: "real_name", label: t("register.real_name"), autocomplete: "name", maxlength: 50 });
  const idNumber = field({ name: "id_number", label: t("register.id_number"), maxlength: 18, autocomplete: "off", autocapitalize: "characters", hint: t("register.id_hint") });
  const homeCity = field({ name: "home_city", label: t("register.home_city"), type: "select" });
  homeCity.input.append(
    h("option", { value: "" }, t("register.choose_city")),
    ...list.map((c) => h("option", { value: c.code }, `${cityLabel(c)}（${c.province}）`))
  );
  const fields = { phone, password, real_name: realName, id_number: idNumber, home_city: homeCity };
  const error = h("div", { class: "form-error", "data-test": "form-error" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", "data-test": "register-submit" }, t("register.submit"));
  mount(
    root,
    h(
      "form",
      { class: "card form", novalidate: true, onsubmit: onRegister },
      h("h1", {}, t("register.title")),
      Object.values(fields).map((f) => f.wrap),
      error,
      submit,
      h("p", { class: "switch-link" }, t("register.have_account"), " ", h("a", { href: "#/login" }, t("register.to_login")))
    )
  );

  async function onRegister(event) {
    event.preventDefault();
    mount(error);
    Object.values(fields).forEach((f) => f.setError(""));
    const body = Object.fromEntries(Object.entries(fields).map(([name, f]) => [name, f.input.value.trim()]));
    body.password = password.input.value;
    body.id_number = body.id_number.toUpperCase();
    // checks the server repeats: only to answer faster
    let ok = true;
    for (const [name, f] of Object.entries(fields)) {
      if (!body[name]) {
        f.setError(t("register.incomplete"));
        ok = false;
      }
    }
    if (body.phone && !/^1\d{10}$/.test(body.phone)) {
      phone.setError(t("register.phone_bad"));
      ok = false;
    }
    if (body.id_number && !/^\d{17}[\dX]$/.test(body.id_number)) {
      idNumber.setError(t("register.id_bad"));
      ok = false;
    }
    if (!ok) return;
    await busy(submit, t("register.busy"), async () => {
      try {
        await api.request("POST", "/auth/register", { body, auth: false });
        await api.login(body.phone, body.password);
        state.me = null;
        go("#/credit");
      } catch (e) {
        const perField = fieldErrors(e);
        for (const [name, text] of Object.entries(perField)) fields[name]?.setError(text);
        const unplaced = Object.keys(perField).filter((name) => !fields[name]);
        if (!Object.keys(perField).length || unplaced.length) mount(error, notice("error", errorText(e)));
        if (e.code === "unknown_city") homeCity.setError(errorText(e));
      }
    });
  }
}

function cityLabel(city) {
  return getLang() === "en" && city.name_en ? city.name_en : city.name;
}

// ------------------------------------------------------------------------------ credit

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

function logout() {
  api.logout();
  state.me = null;
  go("#/login");
}

// ------------------------------------------------------------------------------ offers

function offerQuery(filters, extra = {}) {
  const params = new URLSearchParams({ page_size: "20", ...extra });
  for (const name of ["city", "station", "category", "q"]) if (filters[name]) params.set(name, filters[name]);
  if (filters.eligible && api.loggedIn) params.set("eligible", "true");
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
    stations.map((s) => h("option", { value: String(s.id), selected: String(s.id) === filters.station }, s.name)));
  const search = h("input", { type: "search", value: filters.q, placeholder: t("offers.search"), "aria-label": t("offers.search"), "data-test": "filter-q", enterkeyhint: "search" });
  const chips = h("div", { class: "chips", role: "tablist" },
    ["", ...CATEGORIES].map((c) =>
      h("button", { type: "button", role: "tab", class: `chip${filters.category === c ? " active" : ""}`, "aria-selected": String(filters.category === c), "data-test": `category-${c || "all"}`, onclick: () => update({ category: c }) },
        c ? t(`category.${c}`) : t("offers.all_categories"))));
  const eligibleToggle = api.loggedIn
    ? h("label", { class: "toggle" }, h("input", { type: "checkbox", checked: filters.eligible, "data-test": "filter-eligible", onchange: (e) => update({ eligible: e.target.checked }) }), t("offers.eligible_only"))
    : null;
  const results = h("div", { class: "offer-list", "data-test": "offer-list" }, spinner());
  const more = h("div", { class: "more" });

  mount(
    root,
    h("h1", { class: "page-title" }, t("offers.title")),
    h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); update({ q: search.value.trim() }); } },
      h("div", { class: "filter-row" }, citySelect, stationSelect), search, chips, eligibleToggle),
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

function eligibilityLine(offer) {
  if (!offer.eligibility) return h("p", { class: "elig elig-unknown" }, t("offers.login_to_see"));
  if (offer.eligibility.eligible) return h("p", { class: "elig elig-yes", "data-test": "eligible" }, "✓ ", t("offers.eligible"));
  const reasons = offer.eligibility.reasons.map((r) => t(`reason.${r}`)).join(getLang() === "en" ? "; " : "；");
  return h("p", { class: "elig elig-no", "data-test": "not-eligible" }, "✗ ", t("offers.not_eligible"), reasons ? h("span", { class: "reasons" }, " · ", t("offers.why_not"), reasons) : null);
}

function quotaText(offer) {
  return offer.remaining_quota == null ? t("offers.unlimited") : t("offers.remaining", { n: offer.remaining_quota });
}

function offerCard(offer) {
  const claim = claimButton(offer);
  return h(
    "article",
    { class: "card offer", "data-test": "offer", "data-offer-id": offer.id },
    h("a", { class: "offer-main", href: `#/offers/${offer.id}` },
      h("div", { class: "offer-top" },
        h("span", { class: `cat cat-${offer.category}` }, t(`category.${offer.category}`)),
        h("span", { class: "benefit" }, benefitText(offer))),
      h("h2", { class: "offer-title" }, offer.title),
      h("p", { class: "muted small" }, offer.merchant.name, " · ", cityName(offer.merchant.city.code) || offer.merchant.city.name, offer.merchant.district ? ` ${offer.merchant.district}` : ""),
      h("p", { class: "muted small" }, t("offers.until", { date: fmtDate(offer.valid_until) }), " · ", quotaText(offer))),
    h("div", { class: "offer-foot" }, eligibilityLine(offer), claim)
  );
}

function claimButton(offer, block = false) {
  const can = !offer.eligibility || offer.eligibility.eligible;
  const button = h("button", { type: "button", class: `btn ${can ? "btn-primary" : "btn-disabled"}${block ? " btn-block" : ""}`, disabled: Boolean(offer.eligibility && !offer.eligibility.eligible), "data-test": "claim" }, t("offers.claim"));
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
        toast(text, "error");
        if (e.code === "consent_required" || e.code === "no_standing") setTimeout(() => go("#/credit"), 1200);
      }
    });
  });
  return button;
}

async function offerScreen(id, root) {
  await Promise.all([cities(), api.loggedIn ? me() : null]);
  const offer = await api.request("GET", `/offers/${encodeURIComponent(id)}`);
  const rule = offer.eligibility_rule;
  const ruleLines = [];
  if (rule.min_tier) ruleLines.push(t("offers.rule_tier", { tier: t(`tier.${rule.min_tier}`) }));
  if (rule.min_score != null) ruleLines.push(t("offers.rule_score", { scheme: rule.scheme, score: rule.min_score }));
  if (!ruleLines.length) ruleLines.push(t("offers.rule_any"));
  ruleLines.push(
    rule.home_city_rule === "listed"
      ? `${t("offers.rule_listed")}: ${rule.eligible_home_cities.map(cityName).join(", ")}`
      : t(`offers.rule_${rule.home_city_rule}`)
  );
  mount(
    root,
    h("a", { href: "#/offers", class: "back" }, "← ", t("common.back")),
    h(
      "article",
      { class: "card offer-detail", "data-test": "offer-detail" },
      h("div", { class: "offer-top" }, h("span", { class: `cat cat-${offer.category}` }, t(`category.${offer.category}`)), h("span", { class: "benefit big" }, benefitText(offer))),
      h("h1", {}, offer.title),
      h("p", { class: "muted" }, offer.merchant.name),
      offer.benefit_note ? h("p", {}, offer.benefit_note) : null,
      h("p", {}, offer.description),
      eligibilityLine(offer),
      claimButton(offer, true),
      h("dl", { class: "facts" },
        h("dt", {}, t("offers.rule")), h("dd", {}, ruleLines.map((line) => h("div", {}, line))),
        h("dt", {}, t("offers.validity")), h("dd", {}, `${fmtDate(offer.valid_from)} – ${fmtDate(offer.valid_until)}`),
        h("dt", {}, t("offers.address")), h("dd", {}, `${cityName(offer.merchant.city.code)} ${offer.merchant.district} ${offer.merchant.address}`),
        h("dt", {}, t("offers.usage")), h("dd", {},
          offer.usage_notes ? h("div", {}, offer.usage_notes) : null,
          h("div", {}, t("offers.limit", { n: offer.per_resident_limit })),
          h("div", {}, t("offers.lifetime", { n: offer.voucher_lifetime_hours })),
          h("div", {}, quotaText(offer))),
        offer.stations.length ? [h("dt", {}, t("offers.stations")), h("dd", {}, offer.stations.map((s) => s.name).join("、"))] : null)
    )
  );
}

// ------------------------------------------------------------------------------ wallet

async function walletScreen(_arg, root) {
  const tab = state.walletTab;
  const query = tab === "issued" ? "?status=issued&page_size=50" : "?page_size=50";
  const page = await api.request("GET", `/me/vouchers${query}`);
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
      : h("div", { class: "empty" }, h("p", {}, t("wallet.empty")), h("a", { href: "#/offers", class: "btn btn-primary" }, t("credit.go_offers")))
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
    h("a", { href: "#/wallet", class: "back" }, "← ", t("common.back")),
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
    const yes = await confirmDialog({ title: t("wallet.cancel_title"), body: t("wallet.cancel_body"), confirm: t("wallet.cancel"), danger: true });
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

// ------------------------------------------------------------------------------ start

addEventListener("hashchange", render);
onLangSwitch(render);
watchOnline();
render();
