"""Intake forms. Validation messages say what to do; what was typed is kept."""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from onboarding.assurance import CATALOGUE, VALIDATION_METHODS
from onboarding.attestation._countries import NATIONALITY_CODES as ALPHA3

MAX_NAME = 100
_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_BAD_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class MultiCheckbox(SelectMultipleField):
    """Checkboxes for a multiple choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def choices(mapping: dict[str, Any]) -> list[SelectChoice]:
    """SelectChoice list from a code → label mapping (labels marked for translation)."""
    return [SelectChoice(k, _l(str(v))) for k, v in mapping.items()]


class ConsentForm(FlaskForm):
    """Step 1: consent, in the person's language."""

    token = HiddenField()
    language = HiddenField()
    purposes = MultiCheckbox(_l("The person agrees to each purpose"), choices=[])
    method = RadioField(_l("How consent was given"), choices=[
        SelectChoice("read_aloud", _l("Read aloud and agreed verbally")),
        SelectChoice("signed", _l("Read and signed on paper"))],
        validators=[DataRequired(_l("Choose how consent was given."))])
    agreed = BooleanField(_l("I confirm the person understood and agreed freely"),
                          validators=[DataRequired(_l("Without consent we cannot enrol."))])
    submit = SubmitField(_l("Record consent and continue"))


def _name_ok(value: str) -> str:
    value = unicodedata.normalize("NFC", value.strip())
    if _BAD_CHARS.search(value):
        raise ValidationError(_l("A name contains an invisible control character."))
    if len(value) > MAX_NAME:
        raise ValidationError(_l("Each name can have at most %(n)d characters.", n=MAX_NAME))
    return value


def split_names(text: str) -> list[str]:
    """One name per line; empty lines ignored."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class IdentityForm(FlaskForm):
    """Step 2: identity claims."""

    names = TextAreaField(
        _l("Names as the person uses them"), validators=[DataRequired(), Length(max=1000)],
        description=_l("One per line, the main one first, in any script, spelled the way the "
                       "person spells them."), render_kw={"rows": 3, "spellcheck": "false"})
    other_names = TextAreaField(_l("Other names used (optional)"),
                                validators=[Optional(), Length(max=1000)],
                                render_kw={"rows": 2, "spellcheck": "false"})
    dob_precision = RadioField(_l("How much of the date of birth is known"), choices=[
        SelectChoice("full", _l("Full date")), SelectChoice("month", _l("Year and month")),
        SelectChoice("year", _l("Year only"))], default="full")
    dob_year = IntegerField(_l("Year of birth"), validators=[DataRequired(
        _l("Enter the year of birth, even if approximate.")),
        NumberRange(min=1900, max=date.today().year, message=_l("Enter a real year."))])
    dob_month = IntegerField(_l("Month (1-12)"), validators=[Optional(), NumberRange(1, 12)])
    dob_day = IntegerField(_l("Day"), validators=[Optional(), NumberRange(1, 31)])
    dob_approximate = BooleanField(_l("The date is approximate"))
    birth_place = StringField(_l("Place of birth (optional)"),
                              validators=[Optional(), Length(max=120)])
    nationality = StringField(_l("Nationality (ISO code such as GBR, NGA, VNM; XXA if stateless)"),
                              validators=[Optional(), Length(max=3)])
    languages = StringField(_l("Languages (codes such as en, es, ar, vi)"),
                            validators=[Optional(), Length(max=100)])
    submit = SubmitField(_l("Save and continue"))

    def validate_names(self, field: Any) -> None:
        names = split_names(field.data)
        if not names:
            raise ValidationError(_l("Enter at least one name."))
        if len(names) > 5:
            raise ValidationError(_l("At most five names."))
        for n in names:
            _name_ok(n)

    def validate_other_names(self, field: Any) -> None:
        for n in split_names(field.data):
            _name_ok(n)

    def validate_dob_month(self, field: Any) -> None:
        if self.dob_precision.data in ("full", "month") and not field.data:
            raise ValidationError(_l("Enter the month, or choose “Year only”."))

    def validate_dob_day(self, field: Any) -> None:
        if self.dob_precision.data != "full":
            return
        if not field.data:
            raise ValidationError(_l("Enter the day, or choose “Year and month”."))
        year, month = self.dob_year.data, self.dob_month.data
        if year and month and 1 <= month <= 12:
            last = calendar.monthrange(year, month)[1]
            if field.data > last:
                raise ValidationError(_l("That date does not exist: %(m)s/%(y)s has %(d)s days.",
                                         m=month, y=year, d=last))
            if date(year, month, field.data) > date.today():
                raise ValidationError(_l("The date of birth cannot be in the future."))

    def validate_nationality(self, field: Any) -> None:
        if field.data and field.data.strip().upper() not in ALPHA3:
            raise ValidationError(_l("Use a three-letter ISO 3166 code (XXA for stateless)."))

    def validate_languages(self, field: Any) -> None:
        for code in self.language_list():
            if not _BCP47.match(code):
                raise ValidationError(_l("“%(c)s” is not a language code.", c=code))

    def language_list(self) -> list[str]:
        return [c.strip() for c in re.split(r"[,\s]+", self.languages.data or "") if c.strip()]

    def dob_value(self) -> str:
        y, m, d = self.dob_year.data, self.dob_month.data, self.dob_day.data
        if self.dob_precision.data == "year":
            return f"{y:04d}"
        if self.dob_precision.data == "month":
            return f"{y:04d}-{m:02d}"
        return f"{y:04d}-{m:02d}-{d:02d}"


class PhotoForm(FlaskForm):
    """Step 3: a photo from the camera (put into the file input by camera.js) or a file."""

    photo = FileField(_l("Photo of the person"),
                      description=_l("Use the camera below, or choose a JPEG, PNG or WebP file."))
    submit = SubmitField(_l("Use this photo and continue"))


class EvidenceForm(FlaskForm):
    """Step 4: one evidence item at a time."""

    kind = SelectField(_l("Evidence"), choices=[SelectChoice(k, _l(v.label))
                                                for k, v in CATALOGUE.items()])
    validation = SelectField(_l("How it was checked"), choices=choices(VALIDATION_METHODS))
    result = RadioField(_l("Result"), choices=[
        SelectChoice("validated", _l("Checked and confirmed")),
        SelectChoice("unverified", _l("Could not be confirmed")),
        SelectChoice("failed", _l("Did not match"))], default="validated")
    details = TextAreaField(_l("Details (document number, who confirmed, what the reference "
                               "said)"), validators=[Optional(), Length(max=2000)],
                            render_kw={"rows": 3})
    reference_ial = SelectField(_l("Reference's own identity level"), choices=[
        SelectChoice("", "—"), SelectChoice("1", "IAL1"), SelectChoice("2", "IAL2")],
        validators=[Optional()])
    relationship = SelectField(_l("Reference's relationship to the person"), choices=[
        SelectChoice("", "—"), SelectChoice("support_worker", _l("Support worker")),
        SelectChoice("family", _l("Family member")), SelectChoice("community", _l("Community")),
        SelectChoice("professional", _l("Other professional"))], validators=[Optional()])
    liability_ack = BooleanField(_l("The reference acknowledged liability for the vouch"))
    submit = SubmitField(_l("Add this evidence"))


class RefereeForm(FlaskForm):
    """Step 5: the trusted-referee session record."""

    mode = RadioField(_l("How the session took place"), choices=[
        SelectChoice("1", _l("In person")), SelectChoice("2", _l("Remote, attended"))],
        default="1")
    reason = SelectField(_l("Why a trusted referee was needed"), choices=[])
    detail = TextAreaField(_l("More about why (optional)"),
                           validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    checked = MultiCheckbox(_l("Indicators you checked for"), choices=[])
    seen = MultiCheckbox(_l("Indicators you saw"), choices=[],
                         description=_l("If you saw any, the attestation is held for your "
                                        "NGO administrator; it is not issued."))
    submit = SubmitField(_l("Save and review"))


class SearchForm(FlaskForm):
    """Caseload search by name (POST, so names never land in URLs or access logs)."""

    q = StringField(_l("Search by name"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), choices=[
        SelectChoice("", _l("Any")), SelectChoice("draft", _l("Draft")),
        SelectChoice("active", _l("Active")), SelectChoice("restricted", _l("Restricted"))],
        validators=[Optional()])
    submit = SubmitField(_l("Search"))


class RevokeForm(FlaskForm):
    """Revoke or reissue with a reason."""

    reason = SelectField(_l("Reason"), choices=[
        SelectChoice("lost", _l("Card or phone lost")),
        SelectChoice("corrected", _l("Details corrected")),
        SelectChoice("safeguarding", _l("Safeguarding concern")),
        SelectChoice("error", _l("Issued in error")),
        SelectChoice("renewal", _l("Renewal")),
        SelectChoice("new_evidence", _l("New evidence added (step-up)")),
        SelectChoice("other", _l("Other"))])
    submit = SubmitField(_l("Confirm"))


class LegalHoldForm(FlaskForm):
    """NGO admin places or lifts a legal hold. A reason code, never free text: the audit
    entry must not carry a note that could name the person or the case."""

    reason = SelectField(_l("Reason"), choices=[
        SelectChoice("court_order", _l("Court order")),
        SelectChoice("law_enforcement_request", _l("Law-enforcement request")),
        SelectChoice("litigation", _l("Litigation")),
        SelectChoice("regulator_request", _l("Regulator request")),
        SelectChoice("safeguarding_investigation", _l("Safeguarding investigation"))])
    hold = HiddenField(validators=[AnyOf(("on", "off"))])
    submit = SubmitField(_l("Confirm"))


class CertificationForm(FlaskForm):
    """NGO admin records a trusted-referee (re)certification."""

    user_id = SelectField(_l("Caseworker"), choices=[])
    certified_on = DateField(_l("Certified on"), validators=[DataRequired()])
    expires_on = DateField(_l("Expires on"), validators=[DataRequired()],
                           description=_l("Trusted referees are recertified every year."))
    submit = SubmitField(_l("Record certification"))


class ConsentTextForm(FlaskForm):
    """A new version of the consent text."""

    version = StringField(_l("Version"), validators=[DataRequired(), Length(max=16)])
    language = SelectField(_l("Language"), choices=[SelectChoice("en", "English"),
                                                   SelectChoice("es", "Español")])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=20000)],
                         render_kw={"rows": 10})
    purposes = StringField(_l("Purposes (codes, comma-separated)"),
                           validators=[DataRequired(), Length(max=400)],
                           default="identity_attestation,bank_sharing")
    submit = SubmitField(_l("Publish this version"))
