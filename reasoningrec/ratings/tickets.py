"""Sealed tickets: what the server showed a rater (item, mode, pair of systems, side swap, pool
build, rater, when), encrypted and authenticated, so a client can neither read which side is
which system (or whether the item is an attention check) nor invent or alter a ticket.

    from reasoningrec.ratings.tickets import TicketSealer
    sealer = TicketSealer(secret)
    token = sealer.seal({"i": "ml1m:test:5239", "s": 1, ...})     # opaque URL-safe text
    fields = sealer.open(token)                                   # PayloadError if not ours

Only the standard library (the Space has no `cryptography`): encrypt-then-MAC with two keys
derived from the secret. The cipher is HMAC-SHA256 in counter mode over a random 16-byte
nonce (a pseudo-random function as a stream cipher); the MAC is HMAC-SHA256 over nonce and
ciphertext, checked in constant time before anything is decrypted.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from .payload import PayloadError

NONCE_BYTES, MAC_BYTES = 16, 16
MAX_TICKET_CHARS = 2048     # a real ticket is ~300 characters; longer ones are not read


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class TicketSealer:
    def __init__(self, secret: str):
        root = hmac.new(secret.encode(), b"reasoningrec-ratings-ticket", hashlib.sha256).digest()
        self._enc = hmac.new(root, b"encrypt", hashlib.sha256).digest()
        self._mac = hmac.new(root, b"authenticate", hashlib.sha256).digest()

    def _stream(self, nonce: bytes, n: int) -> bytes:
        blocks = (hmac.new(self._enc, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest()
                  for i in range((n + 31) // 32))
        return b"".join(blocks)[:n]

    def _tag(self, data: bytes) -> bytes:
        return hmac.new(self._mac, data, hashlib.sha256).digest()[:MAC_BYTES]

    def seal(self, fields: dict) -> str:
        plain = json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()
        nonce = os.urandom(NONCE_BYTES)
        body = nonce + bytes(a ^ b for a, b in zip(plain, self._stream(nonce, len(plain))))
        return _b64(body + self._tag(body))

    def open(self, token) -> dict:
        bad = PayloadError("The ticket is not one this server issued (bad signature): ask "
                           "/rate_item for an item and send its ticket unchanged.")
        if not isinstance(token, str) or len(token) > MAX_TICKET_CHARS or not token.isascii():
            raise bad
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            raise bad from None
        body, tag = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if len(body) <= NONCE_BYTES or not hmac.compare_digest(self._tag(body), tag):
            raise bad
        nonce, cipher = body[:NONCE_BYTES], body[NONCE_BYTES:]
        plain = bytes(a ^ b for a, b in zip(cipher, self._stream(nonce, len(cipher))))
        return json.loads(plain)
