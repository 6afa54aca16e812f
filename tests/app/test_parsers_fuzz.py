"""SECURITY.md 17 for the parsers this app adds on top of the attestation core (which is
fuzzed in tests/attestation): identity dates and names, policy files, uploaded images.
Any input gives a clear validation result, never an unhandled exception or a hang."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onboarding.intake.forms import IdentityForm

TEXT = st.text(st.characters(codec="utf-8"), max_size=120)
NUM = st.one_of(st.none(), st.integers(-10**6, 10**6).map(str), TEXT)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(names=TEXT, other=TEXT, precision=st.sampled_from(["full", "month", "year", "x", ""]),
       year=NUM, month=NUM, day=NUM, nationality=TEXT, languages=TEXT)
def test_identity_form_never_crashes(app, names, other, precision, year, month, day,
                                     nationality, languages):
    data = {"names": names, "other_names": other, "dob_precision": precision,
            "nationality": nationality, "languages": languages}
    for key, value in (("dob_year", year), ("dob_month", month), ("dob_day", day)):
        if value is not None:
            data[key] = value
    with app.test_request_context(method="POST", data=data):
        form = IdentityForm(meta={"csrf": False})
        ok = form.validate()
        if ok:
            value = form.dob_value()
            assert len(value) in (4, 7, 10)
            for name in names.splitlines():
                assert unicodedata.normalize("NFC", name.strip()) == \
                    unicodedata.normalize("NFC", unicodedata.normalize("NFC", name.strip()))
        else:
            assert form.errors  # a reason is given


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_policy_text_gives_policy_errors_only(text):
    import risk
    from risk.policy import PolicyError

    try:
        risk.load_policy(text + "\n")
    except PolicyError as exc:
        assert str(exc)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_uploaded_bytes_give_photo_errors_only(data):
    from onboarding import photos

    try:
        photos.process_upload(data)
    except photos.PhotoError as exc:
        assert str(exc)
