"""Alembic environment: the URL and connection come from ``onboarding.cli``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import onboarding.models  # noqa: F401 - registers every table on the metadata
from onboarding.db import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from onboarding.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
