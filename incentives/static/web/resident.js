// The resident H5 app: log in or register, consent, verify, browse and claim offers, and
// a wallet of QR vouchers. All data comes from the public API (docs/api.md). No bundler: the
// browser loads these ES modules as they are (<script type="module">).
//
// How it is built
//   resident.js            this entry: the hash router and the start-up
//   resident/app.js        shared by every screen: `api` (the API client), `state`,
//                          go(hash) / render(), logout(), and cached data (me(), cities(),
//                          cityName(), optional())
//   resident/screens/*.js  one module per screen; each exports `routes`:
//                            { <path>: { screen, detail?, needsLogin?, guestOnly?, guestTabbar? } }
//                          #/<path> calls screen(arg, root); #/<path>/<arg> calls detail
//                          (or screen) with the decoded <arg>. A screen renders into `root`
//                          (mount(root, …)); errors it throws show as a retry notice.
//   resident/icons.js      the app's SVG icons and category illustrations
//   common.js              shared with the scanner: strings t(), the Api class, DOM
//                          helpers h()/mount(), dialogs, dates, benefitText()
//   strings.js             the UI strings by key (Chinese source, marked for gettext)
//
// To add a screen: write resident/screens/<name>.js exporting `routes`, add it to SCREENS
// below, and (for a tab) a link in templates/web/resident.html. Its strings go into
// strings.js (RESIDENT), their English into locale/en/LC_MESSAGES/djangojs.po.
//
// Routes today: #/login #/register #/credit #/pass #/offers #/offers/<id> #/wallet
// #/wallet/<code> #/me #/me/data #/me/close #/agreement #/inbox #/inbox/settings.

import { applyLangToShell, errorText, h, mount, notice, onLangSwitch, spinner, t, toast, useStrings, watchOnline } from "./common.js";
import { RESIDENT, SHARED } from "./strings.js";
import { api, setRenderer, state, go, me as loadMe } from "./resident/app.js";
import * as login from "./resident/screens/login.js";
import * as register from "./resident/screens/register.js";
import * as credit from "./resident/screens/credit.js";
import * as offers from "./resident/screens/offers.js";
import * as wallet from "./resident/screens/wallet.js";
import * as pass from "./resident/screens/pass.js";
import * as me from "./resident/screens/me.js";
import * as inbox from "./resident/screens/inbox.js";

useStrings(SHARED, RESIDENT);

const SCREENS = [login, register, credit, pass, offers, wallet, me, inbox];
const ROUTES = Object.assign({}, ...SCREENS.map((module) => module.routes));
const HOME = "credit"; // where a logged-in resident lands; unknown paths show it too

const view = document.getElementById("view");
const tabbar = document.getElementById("tabbar");
// the toast goes in the page's flow, above the screen: it never covers a button (resident.css)
view.before(document.getElementById("toast"));

async function render() {
  document.getElementById("toast").hidden = true;
  for (const url of state.qrUrls.splice(0)) URL.revokeObjectURL(url);
  applyLangToShell();
  const [path, arg] = parseHash();
  const route = ROUTES[path] || ROUTES[HOME];
  if (route.needsLogin && !api.loggedIn) return go("#/login");
  if (route.guestOnly && api.loggedIn) return go(`#/${HOME}`);
  // a newer user agreement is accepted before anything else (GET /me: agreement_outdated)
  if (api.loggedIn && path !== "agreement") {
    const profile = await loadMe().catch(() => null);
    if (profile?.agreement_outdated) return go("#/agreement");
  }
  tabbar.hidden = !api.loggedIn && !route.guestTabbar;
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
    await ((arg && route.detail) || route.screen)(arg, root);
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
  const path = parts[0] || (api.loggedIn ? HOME : "login");
  return [path, parts[1] ? decodeURIComponent(parts[1]) : ""];
}

setRenderer(render);
addEventListener("hashchange", render);
onLangSwitch(render);
watchOnline();
render();
