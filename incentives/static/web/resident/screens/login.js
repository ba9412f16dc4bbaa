// The login screen (#/login): phone + password, a link to registration and to the offers.

import { field, h, loginHandler, mount, t } from "../../common.js";
import { api, state, go } from "../app.js";
import { icon } from "../icons.js";

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
  return h("p", { class: "center" }, h("a", { href: "#/offers", class: "btn btn-ghost" }, t("offers.title"), icon("forward")));
}

export const routes = {
  login: { screen: loginScreen, guestOnly: true },
};
