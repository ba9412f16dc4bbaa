// What every screen of the resident app shares: the API client, the app state, navigation
// (go/render) and the data several screens load (the profile, the city list).

import { Api, ApiError, getLang, t } from "../common.js";
import { clearPocket } from "./pocket.js";

export const api = new Api("xinyou.resident.tokens", () => {
  state.me = null;
  state.flash = t("login.expired");
  clearPocket();
  go("#/login");
});

// Whoever logs in starts with an empty pocket: what the device kept for offline use
// belongs to one person (../pocket.js).
const logIn = api.login.bind(api);
api.login = async (...args) => {
  const pair = await logIn(...args);
  clearPocket();
  return pair;
};

export const state = {
  me: null, // the profile (GET /me)
  cities: null, // [{code, name, name_en, scheme}]
  flash: null, // a message to show on the next screen
  offerFilters: { city: "", station: "", category: "", q: "", eligible: false, trustworthy: false },
  stations: {}, // city code → [{id, name}]
  walletTab: "issued",
  qrUrls: [], // object URLs to revoke when leaving a voucher
};

// ------------------------------------------------------------------------------ navigation

let renderer = () => {};

/** The router (resident.js) registers itself here; screens call render() to redraw. */
export function setRenderer(fn) {
  renderer = fn;
}

export const render = () => renderer();

export const go = (hash) => {
  if (location.hash === hash) render();
  else location.hash = hash;
};

export function logout() {
  api.logout();
  clearPocket(); // the next person on this phone sees nothing of this one's vouchers
  state.me = null;
  go("#/login");
}

// ------------------------------------------------------------------------------ data

export async function me() {
  if (!state.me && api.loggedIn) state.me = await api.request("GET", "/me");
  return state.me;
}

export async function cities() {
  if (!state.cities) {
    const page = await api.request("GET", "/cities?page_size=100", { auth: false });
    state.cities = page.results;
  }
  return state.cities;
}

export function cityLabel(city) {
  return getLang() === "en" && city.name_en ? city.name_en : city.name;
}

export function cityName(code) {
  const city = (state.cities || []).find((c) => c.code === code);
  if (!city) return code;
  return cityLabel(city);
}

/** A credit scheme's name (as the API names it: 白鹭分) in the current language, from the
 * English names GET /cities carries (`scheme.name_en`). */
export function schemeName(name) {
  if (getLang() !== "en" || !name) return name;
  const city = (state.cities || []).find((c) => c.scheme?.name === name);
  return city?.scheme?.name_en || name;
}

/** The awaited value, or null when the API answers `missingCode` or 404. */
export async function optional(promise, missingCode) {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof ApiError && (error.code === missingCode || error.status === 404)) return null;
    throw error;
  }
}
