// The registration walk-through (#/register), three steps on one screen:
//   1. phone → SMS code (the code proves the phone; POST /auth/sms-code)
//   2. real name, ID number, home city, password (checked by the identity provider)
//   3. the user agreement and privacy notice (GET /legal/agreement) → POST /auth/register
// The credit consent is a separate, later step (the credit screen asks for it).
// Every error shows next to the field it concerns, on the step that holds that field.
// The code is checked as step 1 is left (POST /auth/sms-code/check), not only at the end.

import { ApiError, busy, errorText, field, fieldErrors, getLang, h, mount, notice, t } from "../../common.js";
import { api, state, go, cities, cityLabel } from "../app.js";

const PHONE_RE = /^1[3-9][0-9]{9}$/;
const ID_RE = /^[0-9]{17}[0-9X]$/;
// which step holds each field (for errors from the server)
const STEP_OF = { phone: 0, sms_code: 0, real_name: 1, id_number: 1, home_city: 1, password: 1, agreement_version: 2 };

async function registerScreen(_arg, root) {
  const [list, agreement] = await Promise.all([
    cities(),
    api.request("GET", "/legal/agreement", { auth: false }),
  ]);
  const phone = field({ name: "phone", label: t("login.phone"), type: "tel", inputmode: "numeric", autocomplete: "tel", maxlength: 11 });
  const smsCode = field({ name: "sms_code", label: t("register.sms_code"), inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6 });
  const realName = field({ name: "real_name", label: t("register.real_name"), autocomplete: "name", maxlength: 50 });
  const idNumber = field({ name: "id_number", label: t("register.id_number"), maxlength: 18, autocomplete: "off", autocapitalize: "characters", hint: t("register.id_hint") });
  const homeCity = field({ name: "home_city", label: t("register.home_city"), type: "select" });
  homeCity.input.append(
    h("option", { value: "" }, t("register.choose_city")),
    ...list.map((c) => h("option", { value: c.code }, getLang() === "en" ? cityLabel(c) : `${cityLabel(c)}（${c.province}）`))
  );
  const password = field({ name: "password", label: t("login.password"), type: "password", autocomplete: "new-password", hint: t("register.password_hint") });
  const accept = h("input", { type: "checkbox", id: "f-agreement", "data-test": "agreement-accept" });
  const acceptError = h("p", { class: "field-error", "data-test": "error-agreement_version" });
  acceptError.hidden = true;
  const fields = { phone, sms_code: smsCode, real_name: realName, id_number: idNumber, home_city: homeCity, password };

  const sendButton = h("button", { type: "button", class: "btn btn-ghost", "data-test": "send-code", onclick: onSendCode }, t("register.send_code"));
  const sent = h("div", { "data-test": "code-sent" });
  const error = h("div", { class: "form-error", "data-test": "form-error" });
  const submit = h("button", { type: "submit", class: "btn btn-primary", "data-test": "register-submit" }, t("register.submit"));

  const steps = [
    h("fieldset", { class: "step", "data-test": "step-phone" },
      h("legend", {}, t("register.step_of", { n: 1 }), " · ", t("register.step_phone")),
      phone.wrap, h("div", { class: "field-row" }, sendButton), sent, smsCode.wrap,
      h("button", { type: "button", class: "btn btn-primary btn-block", "data-test": "next-1", onclick: (e) => next(0, e.currentTarget) }, t("register.next"))),
    h("fieldset", { class: "step", "data-test": "step-identity" },
      h("legend", {}, t("register.step_of", { n: 2 }), " · ", t("register.step_identity")),
      realName.wrap, idNumber.wrap, homeCity.wrap, password.wrap,
      h("div", { class: "step-actions" },
        h("button", { type: "button", class: "btn btn-ghost", onclick: () => show(0) }, t("register.prev")),
        h("button", { type: "button", class: "btn btn-primary", "data-test": "next-2", onclick: (e) => next(1, e.currentTarget) }, t("register.next")))),
    h("fieldset", { class: "step", "data-test": "step-agreement" },
      h("legend", {}, t("register.step_of", { n: 3 }), " · ", t("register.step_agreement")),
      h("h2", {}, agreement.title),
      h("p", { class: "muted" }, t("agreement.version", { version: agreement.version })),
      h("div", { class: "agreement-text", tabindex: "0", "data-test": "agreement-text" }, agreement.body),
      h("label", { class: "check", for: "f-agreement" }, accept, " ", t("agreement.accept")),
      acceptError,
      h("p", { class: "muted" }, t("register.consent_later")),
      error,
      h("div", { class: "step-actions" },
        h("button", { type: "button", class: "btn btn-ghost", onclick: () => show(1) }, t("register.prev")),
        submit)),
  ];
  mount(
    root,
    h(
      "form",
      { class: "card form", novalidate: true, onsubmit: onRegister },
      h("h1", {}, t("register.title")),
      steps,
      h("p", { class: "switch-link" }, t("register.have_account"), " ", h("a", { href: "#/login" }, t("register.to_login")))
    )
  );
  show(0);

  function show(index) {
    steps.forEach((step, i) => (step.hidden = i !== index));
  }

  function values() {
    const body = Object.fromEntries(Object.entries(fields).map(([name, f]) => [name, f.input.value.trim()]));
    body.password = password.input.value;
    body.id_number = body.id_number.toUpperCase();
    return body;
  }

  // Checks the server repeats, only to answer faster; each field gets its own message.
  function check(index) {
    const body = values();
    const problems = {};
    if (index === 0) {
      if (!body.phone) problems.phone = t("register.need_phone");
      else if (!PHONE_RE.test(body.phone)) problems.phone = t("register.phone_bad");
      if (!/^[0-9]{6}$/.test(body.sms_code)) problems.sms_code = t("register.need_code");
    } else {
      if (!body.real_name) problems.real_name = t("register.need_name");
      if (!body.id_number) problems.id_number = t("register.need_id");
      else if (!ID_RE.test(body.id_number)) problems.id_number = t("register.id_bad");
      if (!body.home_city) problems.home_city = t("register.need_city");
      if (!body.password) problems.password = t("register.need_password");
    }
    for (const [name, f] of Object.entries(fields)) if (STEP_OF[name] === index) f.setError(problems[name] || "");
    return !Object.keys(problems).length;
  }

  // Step 1 is left only with a code the server knows (POST /auth/sms-code/check: not
  // spent, but each check costs one of its tries); a code once checked is not asked again.
  let checked = "";
  async function next(index, button) {
    if (!check(index)) return;
    if (index === 0) {
      const { phone: number, sms_code: code } = values();
      if (checked !== `${number}:${code}`) {
        const ok = await busy(button, t("register.checking_code"), async () => {
          try {
            await api.request("POST", "/auth/sms-code/check", { body: { phone: number, sms_code: code }, auth: false });
            return true;
          } catch (e) {
            placeError(e);
            return false;
          }
        });
        if (!ok) return;
        checked = `${number}:${code}`;
      }
    }
    show(index + 1);
    steps[index + 1].querySelector("input, select")?.focus();
  }

  let timer = null;
  async function onSendCode() {
    const number = phone.input.value.trim();
    phone.setError("");
    if (!PHONE_RE.test(number)) return phone.setError(number ? t("register.phone_bad") : t("register.need_phone"));
    try {
      const answer = await busy(sendButton, t("register.send_code"), () => api.sendCode(number, "register"));
      mount(sent, notice("info", t("register.code_sent", { phone: number })));
      countdown(answer.resend_after);
      smsCode.input.focus();
    } catch (e) {
      const perField = fieldErrors(e);
      phone.setError(perField.phone || errorText(e));
      if (e instanceof ApiError && e.code === "throttled" && e.detail.retry_after) countdown(e.detail.retry_after);
    }
  }

  function countdown(seconds) {
    clearInterval(timer);
    let left = Number(seconds) || 60;
    const tick = () => {
      if (!sendButton.isConnected || left <= 0) {
        clearInterval(timer);
        sendButton.disabled = false;
        sendButton.textContent = t("register.send_code");
        return;
      }
      sendButton.disabled = true;
      sendButton.textContent = t("register.resend_in", { seconds: left });
      left -= 1;
    };
    tick();
    timer = setInterval(tick, 1000);
  }

  async function onRegister(event) {
    event.preventDefault();
    mount(error);
    acceptError.hidden = true;
    if (!check(0)) return show(0);
    if (!check(1)) return show(1);
    if (!accept.checked) {
      acceptError.textContent = t("agreement.must_accept");
      acceptError.hidden = false;
      return;
    }
    const body = { ...values(), agreement_version: agreement.version };
    await busy(submit, t("register.busy"), async () => {
      try {
        await api.request("POST", "/auth/register", { body, auth: false });
        await api.login(body.phone, body.password);
        state.me = null;
        go("#/credit");
      } catch (e) {
        placeError(e);
      }
    });
  }

  function placeError(e) {
    const perField = fieldErrors(e);
    const byCode = {
      invalid_sms_code: "sms_code",
      identity_mismatch: "real_name",
      unknown_city: "home_city",
      already_registered: "phone",
    };
    if (e instanceof ApiError && byCode[e.code]) {
      const text = e.code === "invalid_sms_code" && e.detail.attempts_left > 0
        ? t("err.invalid_sms_code_left", { left: e.detail.attempts_left })
        : errorText(e);
      perField[byCode[e.code]] = text;
    }
    if (e instanceof ApiError && e.code === "agreement_required") {
      // a new version was published meanwhile: show it
      state.flash = errorText(e);
      return go("#/register");
    }
    const placed = Object.keys(perField).filter((name) => fields[name]);
    for (const name of placed) fields[name].setError(perField[name]);
    if (placed.length) return show(Math.min(...placed.map((name) => STEP_OF[name])));
    mount(error, notice("error", errorText(e)));
  }
}

export const routes = {
  register: { screen: registerScreen, guestOnly: true },
};
