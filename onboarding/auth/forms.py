"""Forms for authentication. Labels are translatable; errors keep what was typed
(except secrets, which are never echoed back into the page)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class CodeForm(FlaskForm):
    """A TOTP code or a recovery code."""

    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[DataRequired(), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text",
                                  "autofocus": True})
    submit = SubmitField(_l("Continue"))


class EnrolForm(FlaskForm):
    """Confirm that the authenticator app has the new seed."""

    code = StringField(_l("6-digit code shown by the app"),
                       validators=[DataRequired(), Length(min=6, max=7)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    submit = SubmitField(_l("Confirm and turn on"))


class ChangePasswordForm(FlaskForm):
    """Current password, new password twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired()],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)],
                        render_kw={"autocomplete": "new-password"},
                        description=_l("At least 8 characters. A long passphrase is best; "
                                       "any language and any characters are fine."))
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(),
                                        EqualTo("new", _l("The passwords differ."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Change password"))


class ReauthForm(FlaskForm):
    """Step-up: password and TOTP again."""

    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    code = StringField(_l("Code from your authenticator app"),
                       validators=[DataRequired(), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code"})
    next = HiddenField()
    submit = SubmitField(_l("Confirm it is you"))


class EmptyForm(FlaskForm):
    """Buttons that only need the CSRF token (logout, disable ...)."""

    submit = SubmitField(_l("Confirm"))
