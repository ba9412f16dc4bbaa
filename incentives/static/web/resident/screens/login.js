// The login screen (#/login): phone + password, or phone + SMS code; links to
// registration and to the offers.

import { ApiError, busy, errorText, field, h, loginHandler, mount, notice, t } from "../../common.js";
import { api, state, go } from "../app.js";
import { icon } from "../icons.js";

async function loginScreen(_arg, root) {
  const phone = field({ name: "phone", label: t("login.phone"), type: "tel", inputmode: "numeric", autocomplete: "username", maxlength: 11 });
  const password = field({ name: "password", label: t("login.password"), type: "password", autocomplete: "current-password" });
  const smsCode = field({ name: "sms_code", label: t("register.sms_code"), inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6 });
  const error = h("div", { class: "form-error", "data-test": "form-error" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", "data-test": "login-submit" }, t("login.submit"));
  const sendButton = h("button", { type: "button", class: "btn btn-ghost", "data-test": "send-code", onclick: onSendCode }, t("register.send_code"));
  const onDone = () => {
    state.me = null;
    go("#/credit");
  };
  const byPassword = loginHandler({ api, phone, password, error, submit, onDone });
  let withCode = false;
  const codePart = h("div", {}, h("div", { class: "field-row" }, sendButton), smsCode.wrap);
  const toggle = h("button", { type: "button", class: "link-button", "data-test": "login-mode", onclick: switchMode }, t("login.with_code"));
  const form = h(
    "form",
    { class: "card form", novalidate: true, onsubmit: (event) => (withCode ? byCode(event) : byPassword(event)) },
    h("h1", {}, t("login.title")),
    phone.wrap,
    password.wrap,
    codePart,
    error,
    submit,
    toggle,
    h("p", { class: "switch-link" }, t("login.no_account"), " ", h("a", { href: "#/register", "data-test": "to-register" }, t("login.to_register")))
  );
  codePart.hidden = true;
  mount(root, hero(), form, offersTeaser());

  function switchMode() {
    withCode = !withCode;
    password.wrap.hidden = withCode;
    codePart.hidden = !withCode;
    toggle.textContent = withCode ? t("login.with_password") : t("login.with_code");
    mount(error);
  }

  async function onSendCode() {
    const number = phone.input.value.trim();
    phone.setError("");
    if (!/^1[3-9][0-9]{9}$/.test(number)) return phone.setError(number ? t("register.phone_bad") : t("register.need_phone"));
    try {
      await busy(sendButton, t("register.send_code"), () => api.sendCode(number, "login"));
      mount(error, notice("info", t("register.code_sent", { phone: number })));
    } catch (e) {
      phone.setError(errorText(e));
    }
  }

  async function byCode(event) {
    event.preventDefault();
    mount(error);
    const number = phone.input.value.trim();
    const code = smsCode.input.value.trim();
    phone.setError(number ? "" : t("register.need_phone"));
    smsCode.setError(/^[0-9]{6}$/.test(code) ? "" : t("register.need_code"));
    if (!number || !/^[0-9]{6}$/.test(code)) return;
    await busy(submit, t("login.busy"), async () => {
      try {
        await api.loginWithCode(number, code);
        onDone();
      } catch (e) {
        // a failed code login is 401 invalid_credentials; attempts_left says how many tries remain
        if (e instanceof ApiError && e.code === "invalid_credentials") {
          const left = e.detail.attempts_left;
          smsCode.setError(left > 0 ? t("err.invalid_sms_code_left", { left }) : t("err.login_code.invalid_credentials"));
        } else mount(error, notice("error", errorText(e)));
      }
    });
  }
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
