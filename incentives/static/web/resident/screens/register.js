// The registration screen (#/register): phone, password, real name, ID number, home city.

import { busy, errorText, field, fieldErrors, h, mount, notice, t } from "../../common.js";
import { api, state, go, cities, cityLabel } from "../app.js";

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

export const routes = {
  register: { screen: registerScreen, guestOnly: true },
};
