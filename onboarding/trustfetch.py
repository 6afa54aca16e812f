"""``onboarding trust fetch``: copy the public trust and status lists for offline use.

Plain ``urllib`` (no app, no secrets): the files are signed, so transport integrity is a
convenience, not the security boundary — verification checks the governance signature and
each list's issuer signature.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

MAX_BYTES = 8 * 1024 * 1024


def _get(url: str) -> bytes:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"refusing to fetch {url!r}")
    with urllib.request.urlopen(url, timeout=20) as resp:  # noqa: S310 - scheme checked
        data: bytes = resp.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValueError(f"{url} is larger than {MAX_BYTES} bytes")
    return data


def fetch(base_url: str, out: Path) -> str:
    """Download the trust list (COSE and JWKS), the governance key rollover announcements
    and every status list; returns a summary."""
    base = base_url.rstrip("/")
    out.mkdir(parents=True, exist_ok=True)
    (out / "status").mkdir(exist_ok=True)
    (out / "trust-list.cose").write_bytes(_get(base + "/trust-list"))
    (out / "jwks.json").write_bytes(_get(base + "/trust-list/jwks.json"))
    # Governance key rollover announcements: with them, a verifier that pinned an earlier
    # governance key still accepts a trust list signed by the key in force.
    (out / "rollovers.json").write_bytes(_get(base + "/trust-list/rollovers"))
    index = json.loads(_get(base + "/status/index.json"))
    names = []
    for uri in index.get("status_lists", []):
        name = urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1] + ".cwt"
        (out / "status" / name).write_bytes(_get(uri))
        names.append(name)
    return (f"trust list and {len(names)} status list(s) saved in {out} "
            f"(trust-list.cose, jwks.json, rollovers.json, status/)")
