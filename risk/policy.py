"""Policy as data: load, validate and hash a YAML tiering policy.

A compliance team edits YAML, so a mistake must be reported where it is: every
:class:`PolicyError` carries the file, line and column of the offending node (PyYAML's compose
step keeps a mark on every node; we walk the node tree ourselves instead of ``safe_load`` so the
marks survive). Duplicate keys, which PyYAML accepts silently (last one wins), are errors here:
two ``balance_max`` lines in one tier are a review accident, not an intent.

The content hash is SHA-256 over canonical JSON of the loaded document (sorted keys, no
whitespace, UTF-8), so reformatting or re-commenting a policy keeps its hash and changing any
value changes it. Decisions carry that hash; a backtest names the two it compared.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import yaml

from risk._countries import ALPHA3
from risk.model import TIERS, RefereeSession

LIMIT_KEYS: Final = ("balance_max", "inflow_monthly", "outflow_monthly", "cash_monthly",
                     "single_transfer", "inbound_cross_border_monthly")
POLICY_STATUSES: Final = ("draft", "published", "archived")


class Strength(enum.IntEnum):
    """Evidence strength (NIST SP 800-63A-4), ordered so ``>=`` means "at least as strong"."""

    WEAK = 0
    FAIR = 1
    STRONG = 2
    SUPERIOR = 3


class PolicyError(ValueError):
    """A policy file is not valid; ``line`` and ``column`` are 1-based, as editors show them."""

    def __init__(self, message: str, source: str = "<policy>", line: int | None = None,
                 column: int | None = None, path: str = "") -> None:
        where = source if line is None else f"{source}:{line}:{column}"
        at = f" {path}:" if path else ""
        super().__init__(f"{where}:{at} {message}")
        self.source = source
        self.line = line
        self.column = column
        self.path = path
        self.message = message


@dataclass(frozen=True, slots=True)
class EvidenceCategory:
    code: int
    name: str
    strength: Strength


@dataclass(frozen=True, slots=True)
class TierRequirements:
    referee_sessions: frozenset[RefereeSession] | None = None
    signed_photo: bool = False
    min_authenticator_aal: int | None = None
    min_identity_assurance: int | None = None
    min_evidence_strength: Strength | None = None
    min_evidence_items: int = 0
    standard_cdd_passed: bool = False


@dataclass(frozen=True, slots=True)
class TierSpec:
    tier: str
    name: str
    builds_on: str | None
    requirements: TierRequirements
    features: tuple[str, ...]
    validity_months: int | None
    max_renewals: int | None


@dataclass(frozen=True, slots=True)
class JurisdictionParams:
    code: str
    currency: str
    age_of_majority: int
    inbound_cross_border_from: tuple[str, ...]
    #: Per tier (T1, T2): limit name -> amount in ``currency``. T3: the bank's normal limits.
    limits: Mapping[str, Mapping[str, float]]


@dataclass(frozen=True, slots=True)
class AssessmentParams:
    attestation_freshness_days: int
    status_list_max_age_hours: int | None
    approximate_dob_margin_years: int
    referee_vouching_max: int
    t1_validity_review_days: int
    review_before_expiry_days: int


@dataclass(frozen=True, slots=True)
class ScreeningParams:
    possible_match_threshold: float
    report_floor: float


@dataclass(frozen=True, slots=True)
class MonitoringParams:
    funnel_min_cash_deposit_locations: int
    funnel_min_cash_share: float
    funnel_min_outflow_share: float
    prepaid_card_max_purchases: int
    prepaid_card_max_amount: float
    geographic_spread_min_new_regions: int


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    version: int
    status: str
    title: str
    effective_from: str | None
    default_jurisdiction: str
    assessment: AssessmentParams
    screening: ScreeningParams
    caseworker_exempt_indicators: frozenset[str]
    monitoring: MonitoringParams
    evidence_categories: Mapping[int, EvidenceCategory]
    features: Mapping[str, str]
    tiers: Mapping[str, TierSpec]
    jurisdictions: Mapping[str, JurisdictionParams]
    content_hash: str
    source: str = "<policy>"
    document: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ref(self) -> str:
        """``id@version`` as shown in decisions and backtests."""
        return f"{self.id}@{self.version}"

    def jurisdiction(self, code: str | None) -> JurisdictionParams:
        """The parameter set for ``code`` (the default one for ``None``); KeyError if absent."""
        return self.jurisdictions[self.default_jurisdiction if code is None else code]


# --------------------------------------------------------------------------- YAML with marks

class _Loader(yaml.SafeLoader):
    """Safe loader (no Python tags) used only to compose nodes and resolve scalars."""


@dataclass(slots=True)
class _Doc:
    """Loaded YAML data plus the mark of every node, keyed by its path tuple."""

    data: Any
    marks: dict[tuple[str | int, ...], tuple[int, int]]
    source: str
    #: Where each mapping key itself is written (errors about a key point at the key).
    key_marks: dict[tuple[str | int, ...], tuple[int, int]] = field(default_factory=dict)


def _refuse_aliases(text: str, source: str) -> None:
    """Policies never need YAML anchors or aliases, and aliases make "billion laughs"
    documents possible (exponential expansion): refuse them before composing."""
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                m = token.start_mark
                raise PolicyError("YAML anchors and aliases (& and *) are not allowed in a "
                                  "policy", source, m.line + 1, m.column + 1)
    except yaml.MarkedYAMLError as e:
        m = e.problem_mark or e.context_mark
        raise PolicyError(f"YAML syntax error: {e.problem or e.context}", source,
                          None if m is None else m.line + 1,
                          None if m is None else m.column + 1) from None
    except yaml.YAMLError as e:  # e.g. ReaderError: a control character in the text
        raise PolicyError(f"YAML error: {e}", source) from None


def _compose(text: str, source: str) -> _Doc:
    _refuse_aliases(text, source)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise PolicyError("the policy is empty", source)
        marks: dict[tuple[str | int, ...], tuple[int, int]] = {}
        key_marks: dict[tuple[str | int, ...], tuple[int, int]] = {}
        data = _convert(node, (), marks, loader, source, key_marks)
    except yaml.MarkedYAMLError as e:
        m = e.problem_mark or e.context_mark
        line = None if m is None else m.line + 1
        col = None if m is None else m.column + 1
        raise PolicyError(f"YAML syntax error: {e.problem or e.context}", source, line, col
                          ) from None
    except yaml.YAMLError as e:
        raise PolicyError(f"YAML error: {e}", source) from None
    finally:
        loader.dispose()
    return _Doc(data, marks, source, key_marks)


def _convert(node: yaml.Node, path: tuple[str | int, ...],
             marks: dict[tuple[str | int, ...], tuple[int, int]], loader: _Loader,
             source: str, key_marks: dict[tuple[str | int, ...], tuple[int, int]]) -> Any:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str | int, Any] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                raise PolicyError("mapping keys must be plain values", source,
                                  knode.start_mark.line + 1, knode.start_mark.column + 1)
            key = loader.construct_object(knode)
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise PolicyError(f"mapping key {key!r} must be a string or an integer", source,
                                  knode.start_mark.line + 1, knode.start_mark.column + 1)
            if key in out:
                first = key_marks[(*path, key)]
                raise PolicyError(f"duplicate key {key!r} (first at line {first[0]})", source,
                                  knode.start_mark.line + 1, knode.start_mark.column + 1,
                                  _dotted((*path, key)))
            key_marks[(*path, key)] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
            out[key] = _convert(vnode, (*path, key), marks, loader, source, key_marks)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(v, (*path, i), marks, loader, source, key_marks)
                for i, v in enumerate(node.value)]
    value = loader.construct_object(node)
    if isinstance(value, datetime | date):
        # Canonical JSON has no dates; keep the ISO text so the hash is well defined.
        return value.isoformat()
    return value


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def canonical_json(data: Any) -> bytes:
    """The bytes the policy hash is computed over (sorted keys, compact, UTF-8)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=str).encode()


# --------------------------------------------------------------------------- validation

class _V:
    """Walks the loaded document; every error points at the node it is about."""

    def __init__(self, doc: _Doc) -> None:
        self.doc = doc

    def fail(self, path: tuple[str | int, ...], message: str, at_key: bool = False
             ) -> PolicyError:
        # Point at the nearest node that exists (a missing key points at its parent).
        if at_key and path in self.doc.key_marks:
            kl, kc = self.doc.key_marks[path]
            return PolicyError(message, self.doc.source, kl, kc, _dotted(path))
        p = path
        while p not in self.doc.marks and p:
            p = p[:-1]
        line, col = self.doc.marks.get(p, (None, None))
        return PolicyError(message, self.doc.source, line, col, _dotted(path))

    def get(self, path: tuple[str | int, ...]) -> Any:
        v: Any = self.doc.data
        for p in path:
            v = v[p]
        return v

    def mapping(self, path: tuple[str | int, ...], required: tuple[str, ...] = (),
                optional: tuple[str, ...] = (), any_keys: bool = False) -> dict[Any, Any]:
        v = self.get(path)
        if not isinstance(v, dict):
            raise self.fail(path, f"must be a mapping, got {_yaml_kind(v)}")
        if not any_keys:
            allowed = set(required) | set(optional)
            for k in v:
                if k not in allowed:
                    raise self.fail((*path, k),
                                    f"unknown key {k!r} (allowed: {', '.join(sorted(allowed))})",
                                    at_key=True)
        for k in required:
            if k not in v:
                raise self.fail(path, f"missing required key {k!r}")
        return v

    def string(self, path: tuple[str | int, ...], choices: tuple[str, ...] | None = None) -> str:
        v = self.get(path)
        if not isinstance(v, str) or not v.strip():
            raise self.fail(path, f"must be a non-empty string, got {_yaml_kind(v)}")
        if choices is not None and v not in choices:
            raise self.fail(path, f"must be one of {', '.join(choices)}, got {v!r}")
        return v

    def integer(self, path: tuple[str | int, ...], lo: int = 0, hi: int = 10**9,
                nullable: bool = False) -> int | None:
        v = self.get(path)
        if v is None and nullable:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(path, f"must be an integer{' or null' if nullable else ''}, "
                                  f"got {_yaml_kind(v)}")
        if not lo <= v <= hi:
            raise self.fail(path, f"must be between {lo} and {hi}, got {v}")
        return v

    def req_int(self, path: tuple[str | int, ...], lo: int = 0, hi: int = 10**9) -> int:
        v = self.integer(path, lo, hi)
        assert v is not None  # nullable=False guarantees it
        return v

    def number(self, path: tuple[str | int, ...], lo: float = 0.0, hi: float = 1e12) -> float:
        v = self.get(path)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(path, f"must be a number, got {_yaml_kind(v)}")
        if not lo <= v <= hi:
            raise self.fail(path, f"must be between {lo:g} and {hi:g}, got {v!r}")
        return float(v)

    def boolean(self, path: tuple[str | int, ...]) -> bool:
        v = self.get(path)
        if not isinstance(v, bool):
            raise self.fail(path, f"must be true or false, got {_yaml_kind(v)}")
        return v

    def str_list(self, path: tuple[str | int, ...], choices: frozenset[str] | None = None,
                 what: str = "value") -> tuple[str, ...]:
        v = self.get(path)
        if not isinstance(v, list):
            raise self.fail(path, f"must be a list, got {_yaml_kind(v)}")
        out: list[str] = []
        for i in range(len(v)):
            s = self.string((*path, i))
            if choices is not None and s not in choices:
                raise self.fail((*path, i), f"unknown {what} {s!r}")
            if s in out:
                raise self.fail((*path, i), f"{what} {s!r} listed twice")
            out.append(s)
        return tuple(out)


def _yaml_kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"boolean {v}"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return f"{type(v).__name__} {v!r}"


_TOP_REQ: Final = ("id", "version", "status", "title", "default_jurisdiction", "assessment",
                   "screening", "coercion", "monitoring", "evidence_categories", "features",
                   "tiers", "jurisdictions")
_ASSESS: Final = ("attestation_freshness_days", "status_list_max_age_hours",
                  "approximate_dob_margin_years", "referee_vouching_max",
                  "t1_validity_review_days", "review_before_expiry_days")
_MONITOR: Final = ("funnel_min_cash_deposit_locations", "funnel_min_cash_share",
                   "funnel_min_outflow_share", "prepaid_card_max_purchases",
                   "prepaid_card_max_amount", "geographic_spread_min_new_regions")
_REQS: Final = ("referee_sessions", "signed_photo", "min_authenticator_aal",
                "min_identity_assurance", "min_evidence_strength", "min_evidence_items",
                "standard_cdd_passed")
_SESSIONS: Final = {"none": RefereeSession.NONE, "onsite": RefereeSession.ONSITE,
                    "remote_attended": RefereeSession.REMOTE_ATTENDED}
_STRENGTHS: Final = {s.name.lower(): s for s in Strength}
_COERCION_CODES: Final = frozenset({
    "speaks_for_applicant", "holds_applicant_documents", "controls_applicant_money",
    "insists_on_being_present", "applicant_distressed_or_scripted", "shared_contact_details",
    "other"})
_JUR_KEYS: Final = ("currency", "age_of_majority", "inbound_cross_border_from", "limits")


def _validate(doc: _Doc) -> Policy:
    v = _V(doc)
    top = v.mapping((), _TOP_REQ, ("effective_from",))
    pid = v.string(("id",))
    version = v.req_int(("version",), 1, 10**6)
    status = v.string(("status",), POLICY_STATUSES)
    title = v.string(("title",))
    eff = None
    if "effective_from" in top and top["effective_from"] is not None:
        eff = v.string(("effective_from",))
        try:
            date.fromisoformat(eff)
        except ValueError:
            raise v.fail(("effective_from",), f"must be a date YYYY-MM-DD, got {eff!r}"
                         ) from None

    v.mapping(("assessment",), _ASSESS)
    a = ("assessment",)
    assessment = AssessmentParams(
        attestation_freshness_days=v.req_int((*a, "attestation_freshness_days"), 1, 3650),
        status_list_max_age_hours=v.integer((*a, "status_list_max_age_hours"), 1, 24 * 3650,
                                            nullable=True),
        approximate_dob_margin_years=v.req_int((*a, "approximate_dob_margin_years"), 0, 10),
        referee_vouching_max=v.req_int((*a, "referee_vouching_max"), 1, 100_000),
        t1_validity_review_days=v.req_int((*a, "t1_validity_review_days"), 0, 365),
        review_before_expiry_days=v.req_int((*a, "review_before_expiry_days"), 0, 365),
    )

    v.mapping(("screening",), ("possible_match_threshold", "report_floor"))
    screening = ScreeningParams(
        possible_match_threshold=v.number(("screening", "possible_match_threshold"), 1, 100),
        report_floor=v.number(("screening", "report_floor"), 0, 100),
    )
    if screening.report_floor > screening.possible_match_threshold:
        raise v.fail(("screening", "report_floor"),
                     "must not be above possible_match_threshold")

    v.mapping(("coercion",), ("caseworker_exempt_indicators",))
    exempt = v.str_list(("coercion", "caseworker_exempt_indicators"), _COERCION_CODES,
                        "coercion indicator")

    v.mapping(("monitoring",), _MONITOR)
    m = ("monitoring",)
    monitoring = MonitoringParams(
        funnel_min_cash_deposit_locations=v.req_int(
            (*m, "funnel_min_cash_deposit_locations"), 1, 1000),
        funnel_min_cash_share=v.number((*m, "funnel_min_cash_share"), 0, 1),
        funnel_min_outflow_share=v.number((*m, "funnel_min_outflow_share"), 0, 1),
        prepaid_card_max_purchases=v.req_int((*m, "prepaid_card_max_purchases"), 0, 1000),
        prepaid_card_max_amount=v.number((*m, "prepaid_card_max_amount")),
        geographic_spread_min_new_regions=v.req_int(
            (*m, "geographic_spread_min_new_regions"), 1, 1000),
    )

    cats: dict[int, EvidenceCategory] = {}
    for code in v.mapping(("evidence_categories",), any_keys=True):
        p = ("evidence_categories", code)
        if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 65535:
            raise v.fail(p, f"evidence category codes must be integers 0-65535, got {code!r}")
        v.mapping(p, ("name", "strength"))
        cats[code] = EvidenceCategory(code, v.string((*p, "name")),
                                      _STRENGTHS[v.string((*p, "strength"),
                                                          tuple(_STRENGTHS))])

    features: dict[str, str] = {}
    for name in v.mapping(("features",), any_keys=True):
        if not isinstance(name, str):
            raise v.fail(("features", name), "feature names must be strings")
        features[name] = v.string(("features", name))
    known_features = frozenset(features)

    tiers = _tiers(v, known_features)

    raw_j = _jurisdictions(v)
    default_j = v.string(("default_jurisdiction",))
    if default_j not in raw_j:
        raise v.fail(("default_jurisdiction",),
                     f"{default_j!r} is not one of the jurisdictions ({', '.join(raw_j)})")
    jurisdictions = _resolve_jurisdictions(v, raw_j, default_j, tiers)

    return Policy(
        id=pid, version=version, status=status, title=title, effective_from=eff,
        default_jurisdiction=default_j, assessment=assessment, screening=screening,
        caseworker_exempt_indicators=frozenset(exempt), monitoring=monitoring,
        evidence_categories=cats, features=features, tiers=tiers,
        jurisdictions=jurisdictions,
        content_hash="sha256:" + hashlib.sha256(canonical_json(doc.data)).hexdigest(),
        source=doc.source, document=doc.data,
    )


def _tiers(v: _V, known_features: frozenset[str]) -> dict[str, TierSpec]:
    raw = v.mapping(("tiers",), ("T1", "T2", "T3"))
    for t in ("T1", "T2", "T3"):
        if t not in raw:
            raise v.fail(("tiers",), f"missing tier {t} (T0 is implicit: no account)")
    tiers: dict[str, TierSpec] = {}
    for t in ("T1", "T2", "T3"):
        p: tuple[str | int, ...] = ("tiers", t)
        v.mapping(p, ("name", "requirements", "features", "validity_months", "max_renewals"),
                  ("builds_on",))
        builds_on = None
        if v.get(p).get("builds_on") is not None:
            builds_on = v.string((*p, "builds_on"), TIERS[1:TIERS.index(t)])
        rp = (*p, "requirements")
        r = v.mapping(rp, (), _REQS)
        sessions = None
        if "referee_sessions" in r:
            names = v.str_list((*rp, "referee_sessions"), frozenset(_SESSIONS),
                               "referee session")
            sessions = frozenset(_SESSIONS[n] for n in names)
        strength = None
        if "min_evidence_strength" in r:
            strength = _STRENGTHS[v.string((*rp, "min_evidence_strength"), tuple(_STRENGTHS))]
        items = v.req_int((*rp, "min_evidence_items"), 0, 20) if "min_evidence_items" in r \
            else 0
        if items and strength is None:
            raise v.fail((*rp, "min_evidence_items"), "needs min_evidence_strength as well")
        reqs = TierRequirements(
            referee_sessions=sessions,
            signed_photo=v.boolean((*rp, "signed_photo")) if "signed_photo" in r else False,
            min_authenticator_aal=v.integer((*rp, "min_authenticator_aal"), 1, 3)
            if "min_authenticator_aal" in r else None,
            min_identity_assurance=v.integer((*rp, "min_identity_assurance"), 0, 2)
            if "min_identity_assurance" in r else None,
            min_evidence_strength=strength,
            min_evidence_items=items,
            standard_cdd_passed=v.boolean((*rp, "standard_cdd_passed"))
            if "standard_cdd_passed" in r else False,
        )
        feats = v.str_list((*p, "features"), known_features, "feature")
        tiers[t] = TierSpec(
            tier=t, name=v.string((*p, "name")), builds_on=builds_on, requirements=reqs,
            features=feats,
            validity_months=v.integer((*p, "validity_months"), 1, 600, nullable=True),
            max_renewals=v.integer((*p, "max_renewals"), 0, 100, nullable=True),
        )
    # A higher tier must not take away a feature a lower one gives: the UI promises that
    # stepping up only adds (and "more assurance never gives less" must hold for features too).
    for lo, hi in (("T1", "T2"), ("T2", "T3")):
        missing = [f for f in tiers[lo].features if f not in tiers[hi].features]
        if missing:
            raise v.fail(("tiers", hi, "features"),
                         f"{hi} must include every {lo} feature; missing: {', '.join(missing)}")
    return tiers


def _jurisdictions(v: _V) -> dict[str, dict[str, Any]]:
    raw = v.mapping(("jurisdictions",), any_keys=True)
    if not raw:
        raise v.fail(("jurisdictions",), "needs at least one parameter set")
    out: dict[str, dict[str, Any]] = {}
    for code in raw:
        p: tuple[str | int, ...] = ("jurisdictions", code)
        if not isinstance(code, str) or not code.isalnum() or len(code) > 16:
            raise v.fail(p, f"jurisdiction codes must be short alphanumeric strings, got {code!r}")
        j = v.mapping(p, (), _JUR_KEYS)
        entry: dict[str, Any] = {}
        if "currency" in j:
            cur = v.string((*p, "currency"))
            if not (len(cur) in (2, 3) and cur.isalpha() and cur.isupper()):
                raise v.fail((*p, "currency"), f"must be an ISO 4217 code (or RU), got {cur!r}")
            entry["currency"] = cur
        if "age_of_majority" in j:
            entry["age_of_majority"] = v.req_int((*p, "age_of_majority"), 14, 25)
        if "inbound_cross_border_from" in j:
            entry["inbound_cross_border_from"] = v.str_list(
                (*p, "inbound_cross_border_from"), frozenset(ALPHA3), "ISO 3166-1 alpha-3 code")
        if "limits" in j:
            lim = v.mapping((*p, "limits"), (), ("T1", "T2"))
            limits: dict[str, dict[str, float]] = {}
            for t in lim:
                v.mapping((*p, "limits", t), (), LIMIT_KEYS)
                limits[t] = {k: v.number((*p, "limits", t, k))
                             for k in LIMIT_KEYS if k in lim[t]}
            entry["limits"] = limits
        out[code] = entry
    return out


def _resolve_jurisdictions(v: _V, raw: Mapping[str, Mapping[str, Any]], default: str,
                           tiers: Mapping[str, TierSpec]) -> dict[str, JurisdictionParams]:
    base = raw[default]
    for k in _JUR_KEYS:
        if k not in base:
            raise v.fail(("jurisdictions", default),
                         f"the default parameter set must define {k!r}")
    for t in ("T1", "T2"):
        if t not in base["limits"]:
            raise v.fail(("jurisdictions", default, "limits"),
                         f"the default parameter set must define limits for {t}")
    out: dict[str, JurisdictionParams] = {}
    for code, entry in raw.items():
        limits = {t: dict(entry.get("limits", {}).get(t, base["limits"][t])) for t in ("T1", "T2")}
        # Limits must not shrink from T1 to T2 (a cap at T1 that T2 lifts entirely is fine):
        # otherwise "more assurance never gives less" is false of the limits.
        for k, lo in limits["T1"].items():
            hi = limits["T2"].get(k)
            if hi is not None and hi < lo:
                raise v.fail(("jurisdictions", code, "limits", "T2", k),
                             f"T2 {k} ({hi:g}) is below T1 ({lo:g})")
        # A feature without a limit is fine; a limit on a feature the tier lacks is a typo.
        if "inbound_cross_border_monthly" in limits["T1"] and \
                "inbound_cross_border" not in tiers["T1"].features:
            raise v.fail(("jurisdictions", code, "limits", "T1", "inbound_cross_border_monthly"),
                         "T1 has no inbound_cross_border feature to limit")
        out[code] = JurisdictionParams(
            code=code,
            currency=entry.get("currency", base["currency"]),
            age_of_majority=entry.get("age_of_majority", base["age_of_majority"]),
            inbound_cross_border_from=entry.get("inbound_cross_border_from",
                                                base["inbound_cross_border_from"]),
            limits=limits,
        )
    return out


# --------------------------------------------------------------------------- public API

def load_policy(source: str | os.PathLike[str], *, name: str | None = None) -> Policy:
    """Load and validate a policy from a file path or from YAML text.

    A :class:`pathlib.Path` (or any ``os.PathLike``) is always read as a file; a ``str`` is
    read as a file when it is a single line naming an existing file, and as YAML text
    otherwise. Raises :class:`PolicyError` with file, line and column on any problem.
    """
    if isinstance(source, os.PathLike) or ("\n" not in source and _is_file(source)):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise PolicyError(f"cannot read policy: {e}", str(path)) from None
        return _validate(_compose(text, name or str(path)))
    return _validate(_compose(source, name or "<policy>"))


def _is_file(text: str) -> bool:
    # A one-line YAML document can be longer than a file name may be: not a path then.
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


def default_policy_path() -> Path:
    """The shipped default policy (DOMAIN.md §5)."""
    return Path(__file__).with_name("policies") / "default-v2.yaml"
