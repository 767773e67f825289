"""Who is rating: a Hugging Face account when the Space has OAuth, else an anonymous id the
browser keeps, plus a salted hash of the IP address. Raw IPs are never stored.

    from reasoningrec.ratings.raters import Rater, rater_for, hash_ip, oauth_available
    rater = rater_for(profile=None, browser_id="k3J9...", ip="203.0.113.7", salt=salt)
    rater.rater_id, rater.kind, rater.ip_hash          # "anon:k3J9...", "anon", "5f0c..."

The IP hash is HMAC-SHA256(salt, ip), cut to 16 hex digits: enough to spot one machine
casting votes under many anonymous ids, useless for recovering the address without the salt.
The address is the one the trusted proxy saw (client_ip, RatingsSettings.proxy_hops), never a
hop the client wrote itself.
"""
from __future__ import annotations

import hashlib
import hmac
import importlib.util
import os
import secrets
from dataclasses import dataclass

from .payload import check_rater_id


@dataclass(frozen=True)
class Rater:
    rater_id: str       # "hf:<username>" or "anon:<browser id>"
    kind: str           # "hf" or "anon"
    ip_hash: str | None


def oauth_available() -> bool:
    """A Space with `hf_oauth: true` in its README sets these; elsewhere there is no login.
    Gradio's login also needs its `oauth` extra (authlib, itsdangerous): without it the app
    stays anonymous rather than failing to start."""
    if not (os.environ.get("OAUTH_CLIENT_ID") and os.environ.get("SPACE_ID")):
        return False
    return all(importlib.util.find_spec(m) is not None for m in ("authlib", "itsdangerous"))


def new_browser_id() -> str:
    return "r" + secrets.token_urlsafe(15)


def hash_ip(ip: str | None, salt: str) -> str | None:
    if not ip:
        return None
    return hmac.new(salt.encode(), ip.strip().encode(), hashlib.sha256).hexdigest()[:16]


def client_ip(request, proxy_hops: int = 0) -> str | None:
    """The caller's address from a gr.Request, as the trusted proxies saw it: with proxy_hops
    N > 0, the Nth X-Forwarded-For hop from the right (each trusted proxy appends the address
    it saw; everything left of that was written by the client and is ignored); with 0, or with
    fewer hops than N, the socket peer. RatingsSettings.proxy_hops says how many to trust."""
    if request is None:
        return None
    if proxy_hops > 0:
        headers = getattr(request, "headers", None) or {}
        values = headers.getlist("x-forwarded-for") if hasattr(headers, "getlist") else \
            [headers.get("x-forwarded-for", "")] if hasattr(headers, "get") else []
        hops = [h.strip() for v in values for h in v.split(",") if h.strip()]
        if len(hops) >= proxy_hops:
            return hops[-proxy_hops]
    client = getattr(request, "client", None)
    return getattr(client, "host", None)


def rater_for(profile=None, browser_id: str | None = None, ip: str | None = None,
              salt: str = "") -> Rater:
    """A signed-in profile wins; else the browser's anonymous id (checked)."""
    ip_hash = hash_ip(ip, salt)
    username = None
    if profile is not None:
        username = getattr(profile, "username", None) or (
            profile.get("preferred_username") if hasattr(profile, "get") else None)
    if username:
        return Rater(f"hf:{username}", "hf", ip_hash)
    return Rater(f"anon:{check_rater_id(browser_id)}", "anon", ip_hash)
