"""Policy backtest page (issue 6): how long a compliance officer waits between pressing "Run
the backtest" and seeing the transition matrices and the chart, for 10,000 past cases.

    .venv/bin/python bench/backtest_bench.py             # 10,000 cases, bench/results/backtest.md
    .venv/bin/python bench/backtest_bench.py --smoke     # ~500 cases, bench/out/ (CI)
    .venv/bin/python bench/backtest_bench.py --db postgresql

What runs, all in a temporary folder and torn down at the end: a migrated database (SQLite by
default; ``--db postgresql`` makes a database of its own next to ``ONBOARDING_BENCH_PG_URL``
and drops it), the app, one bank with one compliance officer (signed in with password and
TOTP, as a person does), N synthetic past cases (``risk/synth.py``, minimised exactly as the
counter stores them) and a draft of ``risk/policies/strict-example-v1.yaml``. The bank has no
published policy, so the baseline is the shipped default.

The measured path is the page's: ``POST /compliance/policies/<id>/backtest`` (read the cases'
engine inputs, parse, assess under both policies, store the result, audit, commit) and the
``GET`` it redirects to (matrices and the SVG chart drawn by matplotlib). "Cold" is the first
time in the process (matplotlib imported, chart drawn); "warm" repeats it (the chart of an
unchanged result is cached). The baseline, measured in the same run, is the engine alone:
``risk.backtest.backtest`` on the same inputs already parsed in memory. The page's matrices
are checked against that baseline, so a fast but wrong page fails the benchmark.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("ONBOARDING_BENCH_PG_URL",
                          "postgresql://postgres@127.0.0.1:5432/postgres")
STRICT = ROOT / "risk" / "policies" / "strict-example-v1.yaml"
TARGET_S = 5.0
BASE = "https://localhost"


@contextlib.contextmanager
def database(kind: str, folder: Path) -> Iterator[tuple[str, str]]:
    """(SQLAlchemy URL, label)."""
    if kind == "postgresql":
        import psycopg

        name = f"onb_bench_{secrets.token_hex(5)}"
        try:
            with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except Exception as exc:
            raise SystemExit(f"PostgreSQL unreachable at {PG_ADMIN}: {exc}") from None
        try:
            yield (PG_ADMIN.rsplit("/", 1)[0] + "/" + name).replace(
                "postgresql://", "postgresql+psycopg://"), "PostgreSQL"
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    yield f"sqlite:///{folder / 'bench.db'}", "SQLite (WAL)"


def make_app(url: str, folder: Path) -> Any:
    from onboarding import create_app, migrate
    from onboarding.db import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    instance = folder / "instance"
    instance.mkdir()
    os.environ["ONBOARDING_INSTANCE_PATH"] = str(instance)
    return create_app({
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "KEK": base64.b64encode(secrets.token_bytes(32)).decode(),
        "BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1,
        "COOKIE_HOST_PREFIX": False, "SESSION_COOKIE_SECURE": True,
    })


def seed(app: Any, n: int, seed_value: int) -> dict[str, Any]:
    """A bank, its compliance officer, ``n`` past cases and the draft to backtest."""
    from sqlalchemy import insert

    from onboarding import mfa, staff
    from onboarding.audit import Actor
    from onboarding.bank.tiering import minimise
    from onboarding.compliance import policies
    from onboarding.models import BankCase, Verification
    from onboarding.models.core import OrgKind, Role
    from risk.synth import portfolio

    t = time.perf_counter()
    docs = [json.loads(json.dumps(minimise(x))) for x in portfolio(n, seed_value)]
    synth_s = time.perf_counter() - t
    password = f"bench pass {secrets.token_hex(4)}"
    factory = app.extensions["onboarding.sessionmaker"]
    with factory() as db, db.begin():
        bank = staff.create_organisation(db, Actor(), kind=OrgKind.BANK, name="Bench bank",
                                         display_name="Bench bank")
        user, _ = staff.create_user(db, Actor(), org=bank, email="officer@bench.invalid",
                                    display_name="Bench Officer",
                                    role=Role.COMPLIANCE_OFFICER, password=password,
                                    must_change_password=False)
        secret = mfa.new_secret()
        user.totp_secret_enc = mfa.seal_secret(app.extensions["onboarding.keyring"], user.id,
                                               secret)
        user.totp_enrolled = True
        ids = (bank.id, user.id)
    t = time.perf_counter()
    start = datetime.now(UTC) - timedelta(days=365)
    with factory() as db, db.begin():
        for lo in range(0, n, 2000):
            chunk = docs[lo:lo + 2000]
            vids = [uuid.uuid4() for _ in chunk]
            at = [start + timedelta(minutes=50 * (lo + i)) for i in range(len(chunk))]
            db.execute(insert(Verification), [
                {"id": v, "org_id": ids[0], "user_id": ids[1], "at": a, "result": "valid",
                 "channel": "paste"} for v, a in zip(vids, at, strict=True)])
            db.execute(insert(BankCase), [
                {"id": uuid.uuid4(), "org_id": ids[0], "verification_id": v,
                 "created_by": ids[1], "created_at": a, "status": "referred",
                 "product": "basic_account", "counter_checks": {}, "claims_enc": b"\x00",
                 "applicant_key": "", "version": 1, "engine_input": doc}
                for v, a, doc in zip(vids, at, chunk, strict=True)])
    insert_s = time.perf_counter() - t
    text = STRICT.read_text(encoding="utf-8")
    with factory() as db, db.begin():
        row = policies.create_draft(db, Actor(ids[1], ids[0]), org_id=ids[0],
                                    created_by=ids[1], name="Stricter", source=text,
                                    policy=policies.parse_source(text))
        policy_id = row.id
    return {"docs": docs, "password": password, "secret": secret, "policy_id": policy_id,
            "synth_s": synth_s, "insert_s": insert_s}


_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Client:
    """A signed-in browser, as far as the server can tell (https, CSRF token, TOTP)."""

    def __init__(self, app: Any) -> None:
        self.c = app.test_client()

    def get(self, url: str) -> Any:
        return self.c.get(url, base_url=BASE)

    def post(self, url: str, data: dict[str, str], token_page: str) -> Any:
        page = self.get(token_page).get_data(as_text=True)
        m = _TOKEN.search(page)
        assert m, f"no CSRF token on {token_page}"
        return self.c.post(url, data={**data, "csrf_token": m.group(1)}, base_url=BASE)

    def login(self, email: str, password: str, secret: str) -> None:
        from onboarding import mfa

        r = self.post("/login", {"email": email, "password": password}, "/login")
        assert r.status_code in (302, 303), r.status_code
        r = self.post("/login/code", {"code": mfa.code_at(secret)}, "/login/code")
        assert r.status_code in (302, 303), r.status_code


def page_path(client: Client, policy_id: uuid.UUID) -> tuple[float, float, str]:
    """POST the backtest (the CSRF token comes from the page, as in a browser, outside the
    timing) and follow the redirect; (post seconds, get seconds, page)."""
    detail = f"/compliance/policies/{policy_id}"
    page = client.get(detail).get_data(as_text=True)
    m = _TOKEN.search(page)
    assert m
    t = time.perf_counter()
    r = client.c.post(f"{detail}/backtest", data={"csrf_token": m.group(1)}, base_url=BASE)
    post_s = time.perf_counter() - t
    assert r.status_code == 303, r.status_code
    t = time.perf_counter()
    r = client.get(r.headers["Location"])
    get_s = time.perf_counter() - t
    assert r.status_code == 200
    return post_s, get_s, r.get_data(as_text=True)


def matrix(page: str, table_id: str, labels: tuple[str, ...]) -> dict[str, dict[str, int]]:
    table = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    out = {a: dict.fromkeys(labels, 0) for a in labels}
    for a, b, n in re.findall(r'data-from="(\w+)" data-to="(\w+)">(?:<strong>)?(\d+)', table):
        out[a][b] = int(n)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="warm repetitions")
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "backtest.md")
    ap.add_argument("--smoke", action="store_true",
                    help="~500 cases; results go to bench/out/, never the tracked table")
    args = ap.parse_args()
    if args.smoke:
        args.cases, args.repeat = 500, 1
        args.out = ROOT / "bench" / "out" / "backtest-smoke.md"

    import risk
    from risk.backtest import OUTCOMES, backtest
    from risk.model import TIERS

    with tempfile.TemporaryDirectory() as tmp, database(args.db, Path(tmp)) as (url, label):
        app = make_app(url, Path(tmp))
        try:
            world = seed(app, args.cases, args.seed)
            # Baseline: the engine alone, on the same inputs parsed in memory.
            parsed = [risk.parse_input(x) for x in world["docs"]]
            default, strict = risk.load_policy(risk.default_policy_path()), \
                risk.load_policy(STRICT)
            engine_runs = []
            for _ in range(3):
                t = time.perf_counter()
                expected = backtest(parsed, strict, default)
                engine_runs.append(time.perf_counter() - t)
            engine_s = min(engine_runs)

            client = Client(app)
            client.login("officer@bench.invalid", world["password"], world["secret"])
            cold_post, cold_get, page = page_path(client, world["policy_id"])
            if matrix(page, "outcome-matrix", OUTCOMES) != expected.outcomes or \
                    matrix(page, "tier-matrix", TIERS) != expected.tiers:
                raise SystemExit("the page's matrices differ from the engine's backtest")
            if 'id="backtest-chart"' not in page or "data:image/svg+xml;base64," not in page:
                raise SystemExit("the page shows no chart")
            warm = [page_path(client, world["policy_id"])[:2] for _ in range(args.repeat)]
        finally:
            app.extensions["onboarding.engine"].dispose()

    cold = cold_post + cold_get
    warm_total = statistics.median(p + g for p, g in warm)
    warm_post = statistics.median(p for p, _ in warm)
    warm_get = statistics.median(g for _, g in warm)
    n = args.cases

    def flag(seconds: float) -> str:
        return f"≤ {TARGET_S:.0f} s: " + ("met" if seconds <= TARGET_S else "**not met**")

    rows = [
        ("Engine alone: `risk.backtest` on parsed inputs in memory (baseline, same run)",
         f"{engine_s:.2f} s", "1.0", f"{n / engine_s:,.0f} cases/s"),
        ("Page path, cold: POST backtest + GET page with matrices and chart, first in process",
         f"{cold:.2f} s", f"{cold / engine_s:.1f}", flag(cold)),
        ("… of which POST (read inputs, parse, assess ×2, store, audit, commit)",
         f"{cold_post:.2f} s", f"{cold_post / engine_s:.1f}", ""),
        ("… of which GET (render; matplotlib import and chart drawn)",
         f"{cold_get:.2f} s", f"{cold_get / engine_s:.1f}", ""),
        (f"Page path, warm (median of {len(warm)})", f"{warm_total:.2f} s",
         f"{warm_total / engine_s:.1f}", flag(warm_total)),
        ("… of which POST", f"{warm_post:.2f} s", f"{warm_post / engine_s:.1f}", ""),
        ("… of which GET (chart cached)", f"{warm_get:.2f} s", f"{warm_get / engine_s:.1f}", ""),
    ]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cmd = "bench/backtest_bench.py" + (" --smoke" if args.smoke else "") + \
        (f" --cases {n}" if n != 10_000 and not args.smoke else "") + \
        (" --db postgresql" if args.db == "postgresql" else "")
    text = [
        "# Policy backtest page",
        "",
        f"Generated by `{cmd}` on {stamp}: {os.cpu_count()} CPU(s), Python "
        f"{platform.python_version()}, {platform.machine()}, {label}. {n:,} synthetic past "
        f"cases (`risk.synth`, seed {args.seed}, made in {world['synth_s']:.1f} s, inserted in "
        f"{world['insert_s']:.1f} s), `strict-example@1` against the shipped `default@1`; "
        f"{expected.changed(expected.outcomes):,} outcomes and "
        f"{expected.changed(expected.tiers):,} tiers change. The page's matrices were checked "
        "against the baseline's. Shared, noisy machine: compare ratios, not absolutes.",
        "",
        "| What | Time | × baseline | Target / notes |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(text), encoding="utf-8")
    print("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
