"""Policy loading: validation errors point at line and column; the hash is canonical."""

from __future__ import annotations

from pathlib import Path

import pytest

import risk
from risk.policy import PolicyError, load_policy

DEFAULT_PATH = risk.default_policy_path()
TEXT = DEFAULT_PATH.read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def broken(old: str, new: str) -> tuple[str, int]:
    assert old in TEXT
    text = TEXT.replace(old, new, 1)
    return text, line_of(text, new.strip().splitlines()[0])


def test_default_policy_is_domain_section_5() -> None:
    p = load_policy(DEFAULT_PATH)
    assert (p.id, p.version, p.status) == ("default", 2, "published")
    ref = p.jurisdiction(None)
    assert ref.currency == "RU"
    assert dict(ref.limits["T1"]) == {"balance_max": 2000, "inflow_monthly": 1500,
                                      "outflow_monthly": 1000, "cash_monthly": 500,
                                      "single_transfer": 500}
    assert dict(ref.limits["T2"]) == {"balance_max": 5000, "inflow_monthly": 3000,
                                      "outflow_monthly": 2500, "cash_monthly": 1000,
                                      "inbound_cross_border_monthly": 500}
    assert p.tiers["T1"].validity_months == 12 and p.tiers["T1"].max_renewals == 1
    assert p.tiers["T2"].validity_months == 24
    # T1 excludes exactly what DOMAIN.md §5 excludes.
    for f in ("outbound_cross_border", "inbound_cross_border", "credit_and_overdraft",
              "cheques", "prepaid_cards", "crypto_assets", "third_party_mandates"):
        assert f not in p.tiers["T1"].features
    assert set(p.tiers["T2"].features) - set(p.tiers["T1"].features) == {
        "transfers_to_any_domestic_payee", "direct_debits", "inbound_cross_border"}


def test_hash_ignores_comments_and_layout_but_not_values() -> None:
    p = load_policy(TEXT)
    reformatted = "# a new comment\n" + TEXT.replace("version: 2", "version:    2")
    assert load_policy(reformatted).content_hash == p.content_hash
    assert load_policy(TEXT.replace("attestation_freshness_days: 180",
                                    "attestation_freshness_days: 181")
                       ).content_hash != p.content_hash


def test_path_and_text_and_pathlike_load_the_same() -> None:
    a = load_policy(str(DEFAULT_PATH))
    b = load_policy(DEFAULT_PATH)
    c = load_policy(TEXT)
    assert a.content_hash == b.content_hash == c.content_hash


@pytest.mark.parametrize(("old", "new", "column", "message"), [
    ("  attestation_freshness_days: 180", "  attestation_freshness_days: soon", 31,
     "must be an integer"),
    ("  possible_match_threshold: 85", "  possible_match_threshold: 185", 29,
     "between 1 and 100"),
    ("  t1_validity_review_days: 30", "  t1_validity_reveiw_days: 30", 3, "unknown key"),
    ("    currency: GBP", "    currency: pounds", 15, "ISO 4217"),
    ("      min_evidence_strength: fair", "      min_evidence_strength: decent", 30,
     "must be one of weak, fair, strong, superior"),
    ("      referee_sessions: [onsite]", "      referee_sessions: [onsite, by_post]", 34,
     "unknown referee session 'by_post'"),
    ("  3: {name: protection_document, strength: fair}",
     "  3: {name: protection_document, strength: fair}\n  3: {name: x, strength: weak}",
     3, "duplicate key 3"),
    ("status: published", "status: live", 9, "must be one of draft, published, archived"),
])
def test_errors_point_at_line_and_column(old: str, new: str, column: int, message: str
                                         ) -> None:
    text, _ = broken(old, new)
    expected_line = line_of(text, new.splitlines()[-1])
    with pytest.raises(PolicyError) as e:
        load_policy(text, name="p.yaml")
    assert message in e.value.message
    assert (e.value.line, e.value.column) == (expected_line, column)
    assert str(e.value).startswith(f"p.yaml:{expected_line}:{column}:")


def test_structural_errors() -> None:
    # T2 below T1 on a limit: "more assurance never gives less" must hold for limits too.
    text = TEXT.replace("T2: {balance_max: 4000", "T2: {balance_max: 1000", 1)
    with pytest.raises(PolicyError,
                       match=r"T2 balance_max \(1000\) is below T1 \(1600\)") as e:
        load_policy(text)
    assert e.value.line == line_of(text, "T2: {balance_max: 1000")
    # A tier taking away a feature of the tier below.
    text = TEXT.replace("payees, cash_within_cap, transfers_to_any", "payees, transfers_to_any", 1)
    with pytest.raises(PolicyError, match="T2 must include every T1 feature; missing: "
                                          "cash_within_cap"):
        load_policy(text)
    with pytest.raises(PolicyError, match="YAML syntax error") as e2:
        load_policy("id: [unclosed\nversion: 1\n")
    assert e2.value.line is not None
    with pytest.raises(PolicyError, match="empty"):
        load_policy("")
    text = TEXT.replace("\ntiers:", "\ntears:", 1)
    with pytest.raises(PolicyError, match="unknown key 'tears'") as e:
        load_policy(text)
    assert (e.value.line, e.value.column) == (line_of(text, "tears:"), 1)
    with pytest.raises(PolicyError, match="missing required key 'title'"):
        load_policy(TEXT.replace("\ntitle:", "\n# title:", 1))
    with pytest.raises(PolicyError, match="'XX' is not one of the jurisdictions"):
        load_policy(TEXT.replace("default_jurisdiction: REF", "default_jurisdiction: XX"))


def test_no_python_objects_from_yaml() -> None:
    with pytest.raises(PolicyError):
        load_policy("!!python/object/apply:os.system ['true']\n")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(tmp_path / "missing.yaml")


def test_strict_example_is_stricter() -> None:
    s = load_policy(DEFAULT_PATH.with_name("strict-example-v1.yaml"))
    d = load_policy(DEFAULT_PATH)
    assert s.assessment.attestation_freshness_days < d.assessment.attestation_freshness_days
    assert s.screening.possible_match_threshold < d.screening.possible_match_threshold
    assert s.tiers["T2"].requirements.min_evidence_items > \
        d.tiers["T2"].requirements.min_evidence_items
    for t in ("T1", "T2"):
        for k, v in s.jurisdiction(None).limits[t].items():
            assert v <= d.jurisdiction(None).limits[t][k]


def test_yaml_aliases_are_refused_quickly() -> None:
    import time

    import pytest

    from risk.policy import PolicyError, load_policy

    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True))
    started = time.perf_counter()
    with pytest.raises(PolicyError) as err:
        load_policy(bomb)
    assert time.perf_counter() - started < 1.0
    assert "anchors and aliases" in str(err.value) and err.value.line == 1


def test_one_long_line_is_text_not_a_path() -> None:
    import pytest

    from risk.policy import PolicyError, load_policy

    with pytest.raises(PolicyError):
        load_policy("x" * 400)
