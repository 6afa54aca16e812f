"""governance key rollover announcements

Public, signed announcements of a new governance key (the outgoing key signs, the incoming
key proves possession): verifiers pinning an older key follow them to the key in force.

Revision ID: 0003_governance_rollover
Revises: 0002_lifecycle
Create Date: 2026-11-23 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_governance_rollover'
down_revision = '0002_lifecycle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('governance_rollover',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('old_kid', sa.String(length=16), nullable=False),
    sa.Column('new_kid', sa.String(length=16), nullable=False),
    sa.Column('token', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_governance_rollover')),
    sa.UniqueConstraint('new_kid', name=op.f('uq_governance_rollover_new_kid'))
    )


def downgrade() -> None:
    op.drop_table('governance_rollover')
