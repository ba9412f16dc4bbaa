"""Signed voucher tokens for the QR code, and the short human code.

Token: `XY1` + key id + `.` + base32(voucher id: 8 bytes, expiry: 4 bytes unix seconds,
merchant id: 4 bytes, Ed25519 signature over `kid || voucher id || expiry || merchant id`:
64 bytes), upper case without padding — only QR alphanumeric-mode characters, about 140
of them. The merchant lets an offline scanner refuse another merchant's voucher; tokens
signed before it was added (no merchant, 12-byte body) still verify. The signature needs
only the public key (published at /api/v1/voucher-keys) to check, so a scanner can tell a
forged or expired QR offline; whether the voucher is still good is the server's word
(cancelled, revoked, redeemed are database states).

Personal credit pass (信用码): `XP1` + key id + `.` + base32(resident id: 8 bytes, expiry:
4 bytes, pass id: 8 bytes, Ed25519 signature over `"xinyou-pass" || kid || body`: 64
bytes). Same keys, another type: the prefix, the body length and the signed message all
differ, so a pass never verifies as a voucher nor a voucher as a pass. It names no score
and no tier (a merchant can read a QR); the pass id makes each issued pass one token, so a
counter can tell "this pass was already used for this offer".

Keys come from settings.VOUCHER_SIGNING_KEYS; several may be active for rotation, one
signs (VOUCHER_ACTIVE_KID). A key signs and is accepted only between its `not_before` and
`not_after` (each optional); the scanner's offline check (voucher-token.js) judges the same.
"""

import base64
import datetime as dt
import re
import secrets
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.utils import timezone
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

if TYPE_CHECKING:
    from .models import Voucher

PREFIX = "XY1"
_KID_RE = re.compile(r"[A-Z0-9]{1,8}")
_PAYLOAD_RE = re.compile(r"[A-Z2-7]+")
_BODY = struct.Struct(">QI")  # voucher id, expiry (unix seconds)
_MERCHANT = struct.Struct(">I")  # merchant id, after the body in current tokens


class InvalidToken(ValueError):
    """Malformed token, unknown key, a key outside its validity, or a signature that does
    not verify."""


class KeyNotInForce(RuntimeError):
    """No key (or not the one asked for) may sign now: a configuration to fix."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey | None
    public: Ed25519PublicKey
    not_before: dt.datetime | None
    not_after: dt.datetime | None
    public_raw: bytes  # the public key's 32 bytes (libsodium verifies passes with them)

    def in_force(self, at: dt.datetime) -> bool:
        """Between not_before (inclusive) and not_after (exclusive)."""
        if self.not_before is not None and at < self.not_before:
            return False
        return self.not_after is None or at < self.not_after

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()


@dataclass(frozen=True)
class PassClaims:
    kid: str
    resident_id: int
    pass_id: int
    expires_at: dt.datetime


@dataclass(frozen=True)
class TokenClaims:
    kid: str
    voucher_id: int
    expires_at: dt.datetime
    merchant_id: int | None = None


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else timezone.make_aware(parsed)  # the service's zone


@lru_cache(maxsize=8)
def _keys(config: tuple) -> dict[str, SigningKey]:
    keys: dict[str, SigningKey] = {}
    for kid, private_b64, public_b64, not_before, not_after in config:
        private = (
            Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
            if private_b64
            else None
        )
        public = (
            private.public_key()
            if private
            else Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64))
        )
        keys[kid] = SigningKey(
            kid,
            private,
            public,
            _parse_time(not_before),
            _parse_time(not_after),
            public.public_bytes(Encoding.Raw, PublicFormat.Raw),
        )
    return keys


_loaded: tuple[object, dict[str, SigningKey]] | None = None


def signing_keys() -> dict[str, SigningKey]:
    """All configured keys by kid, loaded once per configuration: the setting's list object
    is remembered, so the gate's hot path does not rebuild and hash the configuration on
    every scan (a changed setting, e.g. override_settings, is a new list and reloads)."""
    global _loaded
    configured = settings.VOUCHER_SIGNING_KEYS
    if _loaded is not None and _loaded[0] is configured:
        return _loaded[1]
    config = tuple(
        (
            k["kid"],
            k.get("private_key", ""),
            k.get("public_key", ""),
            k.get("not_before"),
            k.get("not_after"),
        )
        for k in configured
    )
    keys = _keys(config)
    _loaded = (configured, keys)
    return keys


def active_key(at: dt.datetime | None = None) -> SigningKey:
    """The key that signs now: VOUCHER_ACTIVE_KID while it is in force, else the newest
    key in force that has its private half."""
    at = at or timezone.now()
    keys = signing_keys()
    usable = [k for k in keys.values() if k.private is not None and k.in_force(at)]
    preferred = keys.get(settings.VOUCHER_ACTIVE_KID)
    if preferred in usable:
        return preferred
    if not usable:
        raise KeyNotInForce("no voucher signing key with a private half is in force")
    return max(usable, key=lambda k: k.not_before or dt.datetime.min.replace(tzinfo=dt.UTC))


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def _unb32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


_B32_DIGITS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHIJKLMNOPQRSTUV")


def _unb32_int(text: str, size: int) -> bytes:
    """`_unb32` of unpadded base32 (`[A-Z2-7]`) `size` bytes long, read as one base-32 number
    (int() in C; b32decode is Python): the bits past `size` bytes are dropped, as
    b32decode drops them."""
    spare = len(text) * 5 - size * 8
    return (int(text.translate(_B32_DIGITS), 32) >> spare).to_bytes(size, "big")


def sign(
    *,
    kid: str,
    voucher_id: int,
    expires_at: dt.datetime,
    merchant_id: int | None = None,
    at: dt.datetime | None = None,
) -> str:
    key = signing_keys()[kid]
    if key.private is None:
        raise RuntimeError(f"voucher signing key {kid} has no private half")
    if not key.in_force(at or timezone.now()):
        raise KeyNotInForce(f"voucher signing key {kid} is outside its not_before..not_after")
    body = _BODY.pack(voucher_id, int(expires_at.timestamp()))
    if merchant_id is not None:
        body += _MERCHANT.pack(merchant_id)
    signature = key.private.sign(kid.encode() + body)
    return f"{PREFIX}{kid}.{_b32(body + signature)}"


def voucher_token(voucher: "Voucher") -> str:
    """The token of a voucher (anything with `key_id`, `pk`, `expires_at` and
    `merchant_id`): signed with the key it was issued under while that key is in force,
    else with the active key."""
    now = timezone.now()
    key = signing_keys().get(voucher.key_id)
    if key is None or key.private is None or not key.in_force(now):
        key = active_key(now)
    return sign(
        kid=key.kid,
        voucher_id=voucher.pk,
        expires_at=voucher.expires_at,
        merchant_id=voucher.merchant_id,
        at=now,
    )


def verify(token: str, at: dt.datetime | None = None) -> TokenClaims:
    """The token's claims if its signature verifies with a known key in force (at `at`,
    default now); else InvalidToken. Expiry is reported, not judged: the voucher's state
    decides."""
    token = (token or "").strip().upper()
    if token.startswith(PASS_PREFIX):
        raise InvalidToken("pass_token")  # a credit pass is shown for entitlements
    if not token.startswith(PREFIX) or "." not in token or len(token) > 200:
        raise InvalidToken("malformed")
    kid, _, payload = token[len(PREFIX) :].partition(".")
    if not _KID_RE.fullmatch(kid) or not _PAYLOAD_RE.fullmatch(payload):
        raise InvalidToken("malformed")  # one canonical spelling per token
    key = signing_keys().get(kid)
    if key is None:
        raise InvalidToken("unknown_key")
    if not key.in_force(at or timezone.now()):
        raise InvalidToken("key_not_valid")
    try:
        raw = _unb32(payload)
    except ValueError:
        raise InvalidToken("malformed") from None
    if len(raw) not in (_BODY.size + 64, _BODY.size + _MERCHANT.size + 64):
        raise InvalidToken("malformed")
    body, signature = raw[:-64], raw[-64:]
    try:
        key.public.verify(signature, kid.encode() + body)
    except InvalidSignature:
        raise InvalidToken("bad_signature") from None
    voucher_id, expiry = _BODY.unpack(body[: _BODY.size])
    merchant_id = _MERCHANT.unpack(body[_BODY.size :])[0] if len(body) > _BODY.size else None
    return TokenClaims(kid, voucher_id, dt.datetime.fromtimestamp(expiry, tz=dt.UTC), merchant_id)


# --------------------------------------------------------------------------- credit pass

PASS_PREFIX = "XP1"
_PASS_BODY = struct.Struct(">QIQ")  # resident id, expiry (unix seconds), pass id
_PASS_DOMAIN = b"xinyou-pass"
_PASS_CHARS = -(-(_PASS_BODY.size + 64) * 8 // 5)  # 135: the base32 of body and signature


def sign_pass(*, resident_id: int, expires_at: dt.datetime, pass_id: int | None = None) -> str:
    """A credit pass token for the resident, signed with the active voucher key."""
    key = active_key()
    pass_id = secrets.randbits(63) if pass_id is None else pass_id
    body = _PASS_BODY.pack(resident_id, int(expires_at.timestamp()), pass_id)
    assert key.private is not None  # active_key signs with a key that has its private half
    signature = key.private.sign(_PASS_DOMAIN + key.kid.encode() + body)
    return f"{PASS_PREFIX}{key.kid}.{_b32(body + signature)}"


def verify_pass(token: str) -> PassClaims:
    """The pass's claims if it is a pass signed by a key usable now; else InvalidToken
    (`voucher_token` when it is a voucher's). Expiry is reported, not judged."""
    token = (token or "").strip().upper()
    if token.startswith(PREFIX):
        raise InvalidToken("voucher_token")
    if not token.startswith(PASS_PREFIX) or "." not in token or len(token) > 200:
        raise InvalidToken("malformed")
    kid, _, payload = token[len(PASS_PREFIX) :].partition(".")
    if not _KID_RE.fullmatch(kid) or not _PAYLOAD_RE.fullmatch(payload):
        raise InvalidToken("malformed")
    key = signing_keys().get(kid)
    if key is None:
        raise InvalidToken("unknown_key")
    now = dt.datetime.now(dt.UTC)
    if (key.not_before and now < key.not_before) or (key.not_after and now >= key.not_after):
        raise InvalidToken("key_not_in_force")
    if len(payload) != _PASS_CHARS:  # the only length whose base32 is a body and signature
        raise InvalidToken("malformed")
    raw = _unb32_int(payload, _PASS_BODY.size + 64)
    body, signature = raw[: _PASS_BODY.size], raw[_PASS_BODY.size :]
    # The same Ed25519 check as `key.public.verify`, by libsodium: a pass is verified at
    # every counter check, and libsodium takes about half OpenSSL's time (issue 27).
    try:
        crypto_sign_open(signature + _PASS_DOMAIN + kid.encode() + body, key.public_raw)
    except BadSignatureError:
        raise InvalidToken("bad_signature") from None
    resident_id, expiry, pass_id = _PASS_BODY.unpack(body)
    return PassClaims(kid, resident_id, pass_id, dt.datetime.fromtimestamp(expiry, tz=dt.UTC))


# --------------------------------------------------------------------------- human code

# No 0/O, 1/I/L, U, Z (Z reads as 2): nothing a clerk can misread. 29 characters, a
# prime, so a weighted check character modulo 29 catches every single wrong character
# and every swap of two neighbours (the check character's own position included).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXY"
CODE_BODY_LENGTH = 9
_CODE_WEIGHTS = range(2, 2 + CODE_BODY_LENGTH)  # distinct, none 0 or 1 modulo 29


def code_check_char(body: str) -> str:
    """The character that makes `sum(weight * value) + check` a multiple of 29."""
    n = len(CODE_ALPHABET)
    total = sum(w * CODE_ALPHABET.index(ch) for w, ch in zip(_CODE_WEIGHTS, body, strict=True))
    return CODE_ALPHABET[-total % n]


def new_code() -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_BODY_LENGTH))
    return body + code_check_char(body)


def normalize_code(raw: str) -> str | None:
    """The canonical code for what a clerk typed (spaces, dashes, case ignored), or None
    when it cannot be a code (wrong length, letters outside the alphabet, bad check)."""
    value = "".join(ch for ch in (raw or "").upper() if ch not in " -")
    if len(value) != CODE_BODY_LENGTH + 1 or any(ch not in CODE_ALPHABET for ch in value):
        return None
    if code_check_char(value[:-1]) != value[-1]:
        return None
    return value


def format_code(code: str) -> str:
    """`ABCD-EFGH-JK` for display."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"
