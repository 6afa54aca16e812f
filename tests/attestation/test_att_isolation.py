"""The attestation core is a library a bank can embed: importing it (and its CLI) must not
import Flask, and the package import stays small (QR libraries load only when used)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = """
import sys
import {module}
heavy = sorted(m for m in ("flask", "werkzeug", "sqlalchemy", "jinja2") if m in sys.modules)
print(",".join(heavy) or "clean")
print(",".join(sorted(m for m in ("qrcode", "PIL", "zxingcpp") if m in sys.modules)) or "noqr")
"""


@pytest.mark.parametrize("module", ["onboarding.attestation", "onboarding.attestation.cli",
                                    "onboarding.attestation.qr"])
def test_import_does_not_pull_in_flask(module: str) -> None:
    out = subprocess.run([sys.executable, "-c", CHECK.format(module=module)],
                         capture_output=True, text=True, check=True, timeout=60).stdout.split()
    assert out[0] == "clean", f"{module} imported {out[0]}"
    if module == "onboarding.attestation":
        assert out[1] == "noqr"


def test_public_api_is_exported() -> None:
    import onboarding.attestation as att

    for name in att.__all__:
        assert getattr(att, name) is not None, name
