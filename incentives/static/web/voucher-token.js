// Offline checks of what a clerk scans or types, mirroring incentives/signing.py:
//
//   token = "XY1" + kid + "." + base32(voucher id: 8 bytes BE, expiry: 4 bytes BE unix
//           seconds, merchant id: 4 bytes BE (absent in older tokens), Ed25519 signature
//           over kid || those 16 (or 12) bytes: 64 bytes), no padding
//   code  = 9 characters of CODE_ALPHABET + 1 check character (weighted, modulo 29)
//
// A forged or expired token is told apart here, without the network; whether the voucher
// is still good (redeemed, cancelled, revoked) is the server's word alone.

const PREFIX = "XY1";
const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXY";

export function base32Decode(text) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of text) {
    const index = B32.indexOf(char);
    if (index < 0) throw new Error("base32");
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return new Uint8Array(out);
}

export function base64Decode(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Does this look like a token (rather than a human code)? */
export const looksLikeToken = (text) => text.trim().toUpperCase().startsWith(PREFIX);

/** The parts of a token, or null when it is not one (one canonical spelling only). */
export function parseToken(raw) {
  const token = (raw || "").trim().toUpperCase();
  if (!token.startsWith(PREFIX) || !token.includes(".") || token.length > 200) return null;
  const rest = token.slice(PREFIX.length);
  const dot = rest.indexOf(".");
  const kid = rest.slice(0, dot);
  const payload = rest.slice(dot + 1);
  if (!/^[A-Z0-9]{1,8}$/.test(kid) || !/^[A-Z2-7]+$/.test(payload)) return null;
  let bytes;
  try {
    bytes = base32Decode(payload);
  } catch {
    return null;
  }
  if (bytes.length !== 12 + 64 && bytes.length !== 16 + 64) return null;
  const body = bytes.slice(0, bytes.length - 64);
  const view = new DataView(body.buffer);
  const kidBytes = new TextEncoder().encode(kid);
  const signed = new Uint8Array(kidBytes.length + body.length);
  signed.set(kidBytes);
  signed.set(body, kidBytes.length);
  return {
    kid,
    voucherId: view.getBigUint64(0),
    expiresAt: new Date(view.getUint32(8) * 1000),
    merchantId: body.length === 16 ? view.getUint32(12) : null, // null: signed before it was added
    signature: bytes.slice(body.length),
    signed,
  };
}

let nobleUrl = null;
/** Where to load the @noble/ed25519 fallback from (browsers without WebCrypto Ed25519). */
export function useNobleFallback(url) {
  nobleUrl = url;
}

async function ed25519Verify(publicKey, signature, message) {
  if (!globalThis.crypto?.subtle) throw new Error("unsupported"); // not a secure context
  try {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch (error) {
    if (!nobleUrl || (error.name !== "NotSupportedError" && error.name !== "TypeError")) throw error;
  }
  const ed = await import(nobleUrl);
  return ed.verifyAsync(signature, message, publicKey);
}

/** Is the key inside its validity window (`not_before` ≤ now < `not_after`, each optional)? */
export function keyInForce(key, now = new Date()) {
  if (key.not_before && new Date(key.not_before) > now) return false;
  if (key.not_after && new Date(key.not_after) <= now) return false;
  return true;
}

/**
 * Check a token against the published keys ([{kid, public_key, not_before, not_after}]).
 * → {ok: true, claims} or {ok: false, reason, claims?} with reason one of
 *   malformed, unknown_key, key_not_valid (outside the key's not_before..not_after),
 *   bad_signature, expired, unsupported (cannot tell here).
 */
export async function checkToken(raw, keys, now = new Date()) {
  const claims = parseToken(raw);
  if (!claims) return { ok: false, reason: "malformed" };
  const key = keys.find((k) => k.kid === claims.kid);
  if (!key) return { ok: false, reason: "unknown_key", claims };
  if (!keyInForce(key, now)) return { ok: false, reason: "key_not_valid", claims };
  let valid;
  try {
    valid = await ed25519Verify(base64Decode(key.public_key), claims.signature, claims.signed);
  } catch {
    return { ok: false, reason: "unsupported", claims };
  }
  if (!valid) return { ok: false, reason: "bad_signature", claims };
  if (claims.expiresAt <= now) return { ok: false, reason: "expired", claims };
  return { ok: true, claims };
}

// ------------------------------------------------------------------------------ code

export function codeCheckChar(body) {
  // weights 2..10 over the 9 body characters; the check makes the sum a multiple of 29
  const n = CODE_ALPHABET.length;
  let total = 0;
  [...body].forEach((char, i) => {
    total += (i + 2) * CODE_ALPHABET.indexOf(char);
  });
  return CODE_ALPHABET[(n - (total % n)) % n];
}

/** The canonical code for what a clerk typed (spaces, dashes, case ignored), or null. */
export function normalizeCode(raw) {
  const value = (raw || "").toUpperCase().replace(/[\s-]/g, "");
  if (value.length !== 10 || [...value].some((c) => !CODE_ALPHABET.includes(c))) return null;
  return codeCheckChar(value.slice(0, 9)) === value[9] ? value : null;
}

/** Why what a clerk typed is not a code: "length" (not 10 characters), "alphabet" (a
 * character codes never use, e.g. 0, 1, I, O, U), "check" (ten good characters whose
 * check character does not match: a typo), or null when it is a code. */
export function codeProblem(raw) {
  const value = (raw || "").toUpperCase().replace(/[\s-]/g, "");
  if (value.length !== 10) return "length";
  if ([...value].some((c) => !CODE_ALPHABET.includes(c))) return "alphabet";
  return codeCheckChar(value.slice(0, 9)) === value[9] ? null : "check";
}
