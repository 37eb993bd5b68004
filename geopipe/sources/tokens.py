"""User tokens of remote services, looked up when a request is made (never stored in a URL).

ISGI's web service (``https://isgi.unistra.fr/ws``) needs the user token ISGI sends on
request (``ws_documentation.php``: parameter ``user``).  geopipe reads it from
``$GEOPIPE_ISGI_TOKEN``, else from a Prefect Secret block named ``geopipe-isgi-token``, and adds
it to the request's query when the URL is fetched, so it never reaches the catalog, a store's
provenance, a quarantine record or a Prefect task parameter.
"""

from __future__ import annotations

import os
import urllib.parse

from geopipe.errors import GeopipeError

#: token name -> (environment variable, Prefect Secret block, query parameter, URL path that needs it)
TOKENS = {"isgi": ("GEOPIPE_ISGI_TOKEN", "geopipe-isgi-token", "user", "/ws")}


class TokenError(GeopipeError):
    """A service's token is missing or was refused."""


def lookup(name: str) -> str | None:
    """The token ``name`` from its environment variable or Prefect Secret block, else None."""
    env, block, _, _ = TOKENS[name]
    if os.environ.get(env):
        return os.environ[env].strip()
    return _secret(block)


def _secret(block: str) -> str | None:
    """The value of the Prefect Secret block ``block``, or None (no Prefect API, no such block)."""
    try:
        from prefect.blocks.system import Secret

        return str(Secret.load(block).get()).strip() or None
    except Exception:  # the caller says how to set one
        return None


def needs(url: str) -> str | None:
    """The token name ``url`` needs (ISGI's /ws endpoint), or None."""
    parts = urllib.parse.urlsplit(str(url))
    if parts.path.rstrip("/").endswith("/ws") and "index=" in parts.query:
        return "isgi"
    return None


def storage_options(url: str, options: dict | None = None) -> dict:
    """``options`` plus the token ``url`` needs, as an extra query parameter for fsspec's HTTP
    filesystem (``params`` is passed to aiohttp); ``TokenError`` when it is not configured."""
    name = needs(url)
    out = dict(options or {})
    if not name:
        return out
    token = lookup(name)
    env, block, param, _ = TOKENS[name]
    if not token:
        raise TokenError(f"{url}: ISGI's web service needs a user token: set {env} or create a Prefect "
                         f"Secret block named {block!r} (ISGI sends tokens on request: "
                         "https://isgi.unistra.fr/ws_documentation.php)")
    out["params"] = {**out.get("params", {}), param: token}
    return out


def refused(url: str, exc: BaseException) -> TokenError | None:
    """A ``TokenError`` when the service refused the token (HTTP 401/403 on a URL that needs one)."""
    if not needs(url):
        return None
    status = getattr(exc.__cause__, "status", None) or getattr(exc, "status", None)
    text = str(exc)
    if status in (401, 403) or "HTTP 401" in text or "HTTP 403" in text:
        return TokenError(f"{url}: ISGI refused the user token (HTTP {status or '401/403'}): check "
                          f"{TOKENS['isgi'][0]} or the Prefect Secret block {TOKENS['isgi'][1]!r}")
    return None
