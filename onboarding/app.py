"""The application factory (``create_app`` in :mod:`onboarding` delegates here)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

from flask import Flask, g, has_request_context, request, session
from sqlalchemy.orm import Session

from onboarding import config as cfg
from onboarding import errors, logs, passwords, security
from onboarding.crypto import Keyring
from onboarding.db import make_engine, make_sessionmaker
from onboarding.extensions import babel, csrf, limiter
from onboarding.sessions import DatabaseSessionInterface, ServerSession


class ConfigError(RuntimeError):
    """The configuration is incomplete (a secret is missing)."""


def _load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.update(cfg.DEFAULTS)
    app.config.update(cfg.env_overrides())
    if test_config:
        app.config.update(test_config)
    instance = Path(app.instance_path)
    for key, filename in (("SECRET_KEY", "secret_key"), ("KEK", "kek"),
                          ("BLIND_INDEX_KEY", "blind_index_key")):
        if not app.config.get(key):
            value = cfg.read_instance_secret(instance, filename)
            if value:
                app.config[key] = value
    if not app.config.get("DATABASE_URL"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'onboarding.db'}"
    if not app.config.get("KEYSTORE_URL"):
        app.config["KEYSTORE_URL"] = f"sqlite:///{instance / 'keystore.db'}"
    if not app.config.get("UPLOAD_FOLDER"):
        app.config["UPLOAD_FOLDER"] = str(instance / "uploads")
    missing = [k for k in ("SECRET_KEY", "KEK", "BLIND_INDEX_KEY") if not app.config.get(k)]
    if missing:
        raise ConfigError(
            f"missing {', '.join('ONBOARDING_' + m for m in missing)}: set them in the "
            f"environment or in {instance}/ (run `onboarding demo` for a development setup)")
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"
    app.config["RATELIMIT_KEY_PREFIX"] = "onboarding-rl"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")


def _select_locale() -> str | None:
    from onboarding.security import current_user

    if not has_request_context():  # CLI, jobs: messages stay in the default language
        return None
    chosen = session.get("locale")
    if chosen:
        return str(chosen)
    user = current_user()
    if user is not None:
        return user.locale
    langs = ("en", "es")
    return request.accept_languages.best_match(langs) if request else None


class _ApiSkippingSessionInterface(DatabaseSessionInterface):
    """Staff sessions for pages only. ``/api/`` is authenticated by bank API keys, never by
    a cookie: an API request neither reads a staff session row (a query) nor saves one
    (a rollback, a write and a commit that would also keep a staff session alive through
    API traffic). It gets an empty session that is never stored, so no cookie is set."""

    def open_session(self, app: Flask, request: Any) -> ServerSession:
        if request.path.startswith("/api/"):
            return ServerSession()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if request.path.startswith("/api/"):
            return
        super().save_session(app, session, response)


def build_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app."""
    instance_path = os.environ.get("ONBOARDING_INSTANCE_PATH")
    app = Flask("onboarding", instance_path=instance_path, instance_relative_config=True,
                template_folder="templates", static_folder="static")
    _load_config(app, test_config)
    if app.config.get("DEMO"):
        # Plain http on 127.0.0.1: browsers refuse __Host- cookies there (the Secure flag
        # stays; Chromium treats loopback as a secure context).
        app.config["COOKIE_HOST_PREFIX"] = False
        # The demo's "core banking system" is a local receiver (docs/bank-guide.md).
        app.config["WEBHOOK_ALLOW_HTTP"] = True
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    passwords.configure(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_COST"],
                        app.config["ARGON2_PARALLELISM"])

    engine = make_engine(app.config["DATABASE_URL"])
    factory = make_sessionmaker(engine)
    app.extensions["onboarding.engine"] = engine
    app.extensions["onboarding.sessionmaker"] = factory
    kek = cfg.decode_kek(app.config["KEK"])
    old = tuple(cfg.decode_kek(k) for k in (app.config.get("KEK_OLD") or "").split(",") if k)
    keyring = Keyring(kek, old)
    app.extensions["onboarding.keyring"] = keyring
    from onboarding.privacy import BlindIndex, KeyStore

    app.extensions["onboarding.keystore"] = KeyStore(make_engine(app.config["KEYSTORE_URL"]),
                                                     keyring)
    app.extensions["onboarding.blind_index"] = BlindIndex(
        cfg.decode_kek(app.config["BLIND_INDEX_KEY"]))

    def request_db() -> Session:
        if "db" not in g:
            g.db = factory()
        return cast(Session, g.db)

    app.extensions["onboarding.db"] = request_db

    @app.teardown_appcontext
    def close_db(_exc: BaseException | None) -> None:
        session_ = g.pop("db", None)
        if session_ is not None:
            session_.rollback()
            session_.close()

    app.session_interface = _ApiSkippingSessionInterface()
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale
    logs.init_app(app)
    security.init_app(app)
    errors.init_app(app)

    from onboarding.admin import bp as admin_bp
    from onboarding.auth import bp as auth_bp
    from onboarding.main import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    from onboarding.intake.views import bp as intake_bp
    from onboarding.intake.views import handover_bp
    from onboarding.lists import bp as lists_bp

    app.register_blueprint(intake_bp)
    app.register_blueprint(handover_bp)
    app.register_blueprint(lists_bp)
    from onboarding.api.views import bp as api_bp
    from onboarding.bank.views import bp as bank_bp
    from onboarding.registry import bp as registry_bp

    app.register_blueprint(bank_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(registry_bp)
    from onboarding.compliance.policies import bp as policies_bp
    from onboarding.compliance.reports import bp as reports_bp
    from onboarding.compliance.views import bp as compliance_bp
    from onboarding.compliance.views import ngo_bp as safeguarding_ngo_bp

    app.register_blueprint(compliance_bp)
    app.register_blueprint(safeguarding_ngo_bp)
    app.register_blueprint(policies_bp)
    app.register_blueprint(reports_bp)

    from onboarding.cli import register_app_commands

    register_app_commands(app)
    return app
