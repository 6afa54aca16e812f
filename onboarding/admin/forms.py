"""Admin forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Regexp


class StaffForm(FlaskForm):
    """A new staff member of the admin's own organisation (no org field: mass assignment
    of another organisation is impossible by construction)."""

    email = EmailField(_l("Work email"), validators=[DataRequired(), Email(), Length(max=254)])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[], validators=[DataRequired()])
    submit = SubmitField(_l("Create account"))


class OrganisationForm(FlaskForm):
    """A new tenant and its first administrator."""

    kind = SelectField(_l("Kind"), choices=[SelectChoice("ngo", _l("NGO (issuer)")),
                                           SelectChoice("bank", _l("Bank (verifier)"))])
    name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=200)])
    display_name = StringField(
        _l("Neutral display name"), validators=[DataRequired(), Length(max=200)],
        description=_l("Shown to banks and printed on cards. It must not reveal the kind of "
                       "support the organisation gives."))
    jurisdiction = StringField(_l("Jurisdiction (ISO 3166 code)"),
                               validators=[DataRequired(), Regexp(r"^[A-Za-z]{2}$")],
                               default="GB")
    admin_email = EmailField(_l("First admin's email"),
                             validators=[DataRequired(), Email(), Length(max=254)])
    admin_name = StringField(_l("First admin's name"), validators=[DataRequired(),
                                                                   Length(max=200)])
    submit = SubmitField(_l("Create organisation"))


#: Words a neutral display name must not contain: a card or a bank screen naming the
#: kind of help someone receives can expose them (FORMATS.md: neutral display name).
REVEALING_WORDS = ("surviv", "victim", "traffick", "slavery", "exploit", "refuge", "shelter",
                   "abuse", "víctima", "trata", "sobreviv")


def revealing_word(value: str) -> str | None:
    """The first revealing word fragment found in ``value``, if any."""
    low = value.lower()
    return next((w for w in REVEALING_WORDS if w in low), None)
