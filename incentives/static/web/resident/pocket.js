// What the resident app keeps on the device for offline use (localStorage, one key):
// the claimed vouchers as last seen (code, token, terms, times), each usable voucher's QR
// image (a data: URL of the server's PNG, kept with the token it encodes), and the last
// credit pass. 券包 reads them when the network is gone; the page marks them as offline.
//
// Hook for the credit pass (issue 14): the screen that shows the pass calls
// savePass(pass) with the GET /me/credit/pass answer; passView(lastPass()) shows it
// offline: its QR while `expires_at` is ahead, "expired" instead of a stale QR after.

import { fmtDateTime, h, notice, t } from "../common.js";

const KEY = "xinyou.resident.pocket";
const MAX_QR = 30; // QR images kept (usable vouchers, newest first)

function read() {
  try {
    const pocket = JSON.parse(localStorage.getItem(KEY));
    if (pocket && typeof pocket === "object") return { vouchers: {}, qr: {}, pass: null, savedAt: null, ...pocket };
  } catch {
    /* unreadable: start again */
  }
  return { vouchers: {}, qr: {}, pass: null, savedAt: null };
}

function write(pocket) {
  pocket.savedAt = new Date().toISOString();
  try {
    localStorage.setItem(KEY, JSON.stringify(pocket));
  } catch {
    // storage full: drop the QR images (they come back from the server) and keep the rest
    pocket.qr = {};
    try {
      localStorage.setItem(KEY, JSON.stringify(pocket));
    } catch {
      /* nothing more to do: offline use will show what it can */
    }
  }
}

/** Forget everything (logout: the next person on this phone sees nothing). */
export function clearPocket() {
  localStorage.removeItem(KEY);
}

/** Remember vouchers as the API returned them (a list page or one voucher). */
export function saveVouchers(vouchers) {
  const pocket = read();
  for (const v of vouchers) pocket.vouchers[v.code] = v;
  // a QR whose voucher is no longer usable (or whose token changed) is dropped
  for (const [code, qr] of Object.entries(pocket.qr)) {
    const v = pocket.vouchers[code];
    if (!v || v.status !== "issued" || v.token !== qr.token) delete pocket.qr[code];
  }
  write(pocket);
}

export function pocketVoucher(code) {
  return read().vouchers[code] || null;
}

/** The kept vouchers, newest first; `status` "issued" keeps only the usable ones. */
export function pocketVouchers(status) {
  const all = Object.values(read().vouchers).sort((a, b) => b.issued_at.localeCompare(a.issued_at));
  return status ? all.filter((v) => offlineStatus(v) === status) : all;
}

/** The status a kept voucher has now, as far as the device can tell (time only). */
export function offlineStatus(v) {
  return v.status === "issued" && new Date(v.expires_at) <= new Date() ? "expired" : v.status;
}

export function savedAt() {
  return read().savedAt;
}

export function hasQr(v) {
  const qr = read().qr[v.code];
  return Boolean(qr && qr.token === v.token);
}

export function pocketQr(v) {
  const qr = read().qr[v.code];
  return qr && qr.token === v.token ? qr.dataUrl : null;
}

/** A blob: URL of a kept data: URL image (pages show images as blob: URLs only). */
export function objectUrlOf(dataUrl) {
  const [head, body] = dataUrl.split(",", 2);
  const type = head.slice(5).split(";")[0] || "image/png";
  const bytes = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  return URL.createObjectURL(new Blob([bytes], { type }));
}

/** Keep a voucher's QR image (a Blob from the API) as a data: URL. */
export async function saveQr(v, blob) {
  const dataUrl = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
  const pocket = read();
  pocket.qr[v.code] = { token: v.token, dataUrl, issued_at: v.issued_at };
  const kept = Object.entries(pocket.qr).sort((a, b) => b[1].issued_at.localeCompare(a[1].issued_at));
  pocket.qr = Object.fromEntries(kept.slice(0, MAX_QR));
  write(pocket);
  return dataUrl;
}

// ------------------------------------------------------------------------------ credit pass

/** Keep the last credit pass (GET /me/credit/pass: token, expires_at, qr_png_url, …),
 * with its QR image when given (a data: URL). */
export function savePass(pass, qrDataUrl = null) {
  const pocket = read();
  pocket.pass = { ...pass, qrDataUrl };
  write(pocket);
}

export function lastPass() {
  return read().pass;
}

/** The kept pass as the page shows it offline: its QR while it is valid, else a note
 * that it has expired (never a stale QR). */
export function passView(pass, now = new Date()) {
  if (!pass) return null;
  if (new Date(pass.expires_at) <= now) {
    return h("div", { class: "pass pass-expired", "data-test": "pass-expired" },
      notice("warn", t("pocket.pass_expired", { time: fmtDateTime(pass.expires_at) })));
  }
  return h("div", { class: "pass", "data-test": "pass-offline" },
    pass.qrDataUrl ? h("img", { class: "qr", src: objectUrlOf(pass.qrDataUrl), alt: t("pocket.pass_alt") }) : null,
    h("p", { class: "muted small" }, t("pocket.pass_until", { time: fmtDateTime(pass.expires_at) })));
}
