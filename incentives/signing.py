"""Signed voucher tokens for the QR code, and the short human code.

Token: `XY1` + key id + `.` + base32(voucher id: 8 bytes, expiry: 4 bytes unix seconds,
Ed25519 signature over `kid || voucher id || expiry`: 64 bytes), upper case without
padding — only QR alphanumeric-mode characters, about 130 of them. The signature needs
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
signs (VOUCHER_ACTIVE_KID).
"""

import base64
import datetime as dt
import re
import secrets
import struct
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

PREFIX = "XY1"
_KID_RE = re.compile(r"[A-Z0-9]{1,8}")
_PAYLOAD_RE = re.compile(r"[A-Z2-7]+")
_BODY = struct.Struct(">QI")  # voucher id, expiry (unix seconds)


class InvalidToken(ValueError):
    """Malformed token, unknown key, or a signature that does not verify."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey | None
    public: Ed25519PublicKey
    not_before: dt.datetime | None
    not_after: dt.datetime | None

    @property
    def public_b64(self) -> str:
        raw = self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()


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


def _parse_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


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
            kid, private, public, _parse_time(not_before), _parse_time(not_after)
        )
    return keys


def signing_keys() -> dict[str, SigningKey]:
    """All configured keys by kid (cached per configuration)."""
    config = tuple(
        (
            k["kid"],
            k.get("private_key", ""),
            k.get("public_key", ""),
            k.get("not_before"),
            k.get("not_after"),
        )
        for k in settings.VOUCHER_SIGNING_KEYS
    )
    return _keys(config)


def active_key() -> SigningKey:
    key = signing_keys()[settings.VOUCHER_ACTIVE_KID]
    if key.private is None:
        raise RuntimeError(f"voucher signing key {key.kid} has no private half")
    return key


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def _unb32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def sign(*, kid: str, voucher_id: int, expires_at: dt.datetime) -> str:
    key = signing_keys()[kid]
    if key.private is None:
        raise RuntimeError(f"voucher signing key {kid} has no private half")
    body = _BODY.pack(voucher_id, int(expires_at.timestamp()))
    signature = key.private.sign(kid.encode() + body)
    return f"{PREFIX}{kid}.{_b32(body + signature)}"


def voucher_token(voucher) -> str:
    """The token of a voucher (anything with `key_id`, `pk` and `expires_at`)."""
    return sign(kid=voucher.key_id, voucher_id=voucher.pk, expires_at=voucher.expires_at)


def verify(token: str) -> TokenClaims:
    """The token's claims if its signature verifies with a known key; else InvalidToken.
    Expiry is reported, not judged: the voucher's state decides."""
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
    try:
        raw = _unb32(payload)
    except ValueError:
        raise InvalidToken("malformed") from None
    if len(raw) != _BODY.size + 64:
        raise InvalidToken("malformed")
    body, signature = raw[: _BODY.size], raw[_BODY.size :]
    try:
        key.public.verify(signature, kid.encode() + body)
    except InvalidSignature:
        raise InvalidToken("bad_signature") from None
    voucher_id, expiry = _BODY.unpack(body)
    return TokenClaims(kid, voucher_id, dt.datetime.fromtimestamp(expiry, tz=dt.UTC))


# --------------------------------------------------------------------------- credit pass

PASS_PREFIX = "XP1"
_PASS_BODY = struct.Struct(">QIQ")  # resident id, expiry (unix seconds), pass id
_PASS_DOMAIN = b"xinyou-pass"


def sign_pass(*, resident_id: int, expires_at: dt.datetime, pass_id: int | None = None) -> str:
    """A credit pass token for the resident, signed with the active voucher key."""
    key = active_key()
    pass_id = secrets.randbits(63) if pass_id is None else pass_id
    body = _PASS_BODY.pack(resident_id, int(expires_at.timestamp()), pass_id)
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
    try:
        raw = _unb32(payload)
    except ValueError:
        raise InvalidToken("malformed") from None
    if len(raw) != _PASS_BODY.size + 64:
        raise InvalidToken("malformed")
    body, signature = raw[: _PASS_BODY.size], raw[_PASS_BODY.size :]
    try:
        key.public.verify(signature, _PASS_DOMAIN + kid.encode() + body)
    except InvalidSignature:
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
