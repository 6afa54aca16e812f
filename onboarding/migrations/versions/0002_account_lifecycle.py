"""account lifecycle, monitoring and webhooks

Open accounts (tier in force, validity, renewals, step-up claims awaiting approval,
decision history, a change cursor for the decision API), monthly transaction summaries and
the monitoring alerts they raise, and the webhook endpoint + outbox. Existing cases get the
server defaults (no account yet).

Revision ID: 0002_lifecycle
Revises: 0001_initial
Create Date: 2026-11-23 14:49:34.001614
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_lifecycle'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_delivery',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sa.String(length=48), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_webhook_delivery_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_delivery_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_state'), ['state'], unique=False)

    op.create_table('webhook_endpoint',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret_wrapped', sa.LargeBinary(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_webhook_endpoint_created_by_staff_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_webhook_endpoint_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint')),
    sa.UniqueConstraint('org_id', name=op.f('uq_webhook_endpoint_org_id'))
    )
    op.create_table('transaction_summary',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('figures_enc', sa.LargeBinary(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('alerts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['bank_case.id'], name=op.f('fk_transaction_summary_case_id_bank_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_transaction_summary_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transaction_summary')),
    sa.UniqueConstraint('case_id', 'period_start', 'period_end', name=op.f('uq_transaction_summary_case_id'))
    )
    with op.batch_alter_table('transaction_summary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transaction_summary_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transaction_summary_org_id'), ['org_id'], unique=False)

    op.create_table('monitoring_alert',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('summary_id', sa.Uuid(), nullable=False),
    sa.Column('rule', sa.String(length=48), nullable=False),
    sa.Column('reason_code', sa.String(length=48), nullable=False),
    sa.Column('detail_enc', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('disposition', sa.String(length=24), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['bank_case.id'], name=op.f('fk_monitoring_alert_case_id_bank_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_monitoring_alert_org_id_organisation')),
    sa.ForeignKeyConstraint(['summary_id'], ['transaction_summary.id'], name=op.f('fk_monitoring_alert_summary_id_transaction_summary'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_alert'))
    )
    with op.batch_alter_table('monitoring_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_alert_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_alert_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_alert_status'), ['status'], unique=False)

    with op.batch_alter_table('bank_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_tier', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('account_opened_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('valid_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('renewals_used', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('account_ref', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('review_kind', sa.String(length=16), nullable=False, server_default='onboarding'))
        batch_op.add_column(sa.Column('pending_claims_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('history', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('validity_ended_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('screened_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('changed_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_bank_case_account_tier'), ['account_tier'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_case_changed_seq'), ['changed_seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_case_valid_until'), ['valid_until'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_bank_case_org_id'), ['org_id', 'account_ref'])
        # compliance queues at scale (bench/scale_bench.py)
        batch_op.create_index('ix_bank_case_queue', ['org_id', 'status', 'created_at'], unique=False)
        batch_op.create_index('ix_bank_case_org_created', ['org_id', 'created_at'], unique=False)
        batch_op.create_index('ix_bank_case_org_valid_until', ['org_id', 'valid_until'], unique=False)
    with op.batch_alter_table('monitoring_alert', schema=None) as batch_op:
        batch_op.create_index('ix_monitoring_alert_org_status', ['org_id', 'status'], unique=False)
    with op.batch_alter_table('person', schema=None) as batch_op:
        # the caseload, most recently updated first
        batch_op.create_index('ix_person_org_updated', ['org_id', 'updated_at'], unique=False)

    with op.batch_alter_table('screening_list', schema=None) as batch_op:
        # OFAC ALT.CSV (aliases), kept with the SDN file it was uploaded with
        batch_op.add_column(sa.Column('alt_content', sa.LargeBinary(), nullable=True))

    _backfill_accounts()


def _backfill_accounts() -> None:
    """Cases approved before this revision become open accounts: the decided tier, opened on
    the decision date, time-boxed by the shipped default (T1 12 months, T2 24, T3 none), with
    the decision as the first history entry. Their change cursor stays 0 (before any)."""
    import datetime as dt

    from risk.engine import add_months

    months = {"T1": 12, "T2": 24, "T3": None}
    case = sa.table("bank_case", sa.column("id", sa.Uuid()), sa.column("status", sa.String()),
                    sa.column("decision", sa.JSON()),
                    sa.column("decided_at", sa.DateTime(timezone=True)),
                    sa.column("account_tier", sa.String()),
                    sa.column("account_opened_on", sa.Date()),
                    sa.column("valid_until", sa.Date()), sa.column("history", sa.JSON()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(case.c.id, case.c.decision, case.c.decided_at).where(
        case.c.status == "approved")).all()
    for cid, decision, decided_at in rows:
        tier = (decision or {}).get("tier")
        if tier not in months or decided_at is None:
            continue
        if isinstance(decided_at, str):  # SQLite hands back text
            decided_at = dt.datetime.fromisoformat(decided_at)
        opened = decided_at.date()
        m = months[tier]
        conn.execute(case.update().where(case.c.id == cid).values(
            account_tier=tier, account_opened_on=opened,
            valid_until=add_months(opened, m) if m else None,
            history=[{"kind": "onboarding", "outcome": "approve", "tier": tier,
                      "how": (decision or {}).get("how"), "by": (decision or {}).get("by"),
                      "at": decided_at.isoformat(timespec="seconds"),
                      "policy": (decision or {}).get("policy"), "backfilled": True}]))



def downgrade() -> None:
    with op.batch_alter_table('screening_list', schema=None) as batch_op:
        batch_op.drop_column('alt_content')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_org_updated')
    with op.batch_alter_table('bank_case', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_case_org_valid_until')
        batch_op.drop_index('ix_bank_case_org_created')
        batch_op.drop_index('ix_bank_case_queue')
        batch_op.drop_constraint(batch_op.f('uq_bank_case_org_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_bank_case_valid_until'))
        batch_op.drop_index(batch_op.f('ix_bank_case_changed_seq'))
        batch_op.drop_index(batch_op.f('ix_bank_case_account_tier'))
        batch_op.drop_column('changed_seq')
        batch_op.drop_column('screened_at')
        batch_op.drop_column('validity_ended_on')
        batch_op.drop_column('history')
        batch_op.drop_column('pending_claims_enc')
        batch_op.drop_column('review_kind')
        batch_op.drop_column('account_ref')
        batch_op.drop_column('renewals_used')
        batch_op.drop_column('valid_until')
        batch_op.drop_column('account_opened_on')
        batch_op.drop_column('account_tier')

    with op.batch_alter_table('monitoring_alert', schema=None) as batch_op:
        batch_op.drop_index('ix_monitoring_alert_org_status')
        batch_op.drop_index(batch_op.f('ix_monitoring_alert_status'))
        batch_op.drop_index(batch_op.f('ix_monitoring_alert_org_id'))
        batch_op.drop_index(batch_op.f('ix_monitoring_alert_case_id'))

    op.drop_table('monitoring_alert')
    with op.batch_alter_table('transaction_summary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transaction_summary_org_id'))
        batch_op.drop_index(batch_op.f('ix_transaction_summary_case_id'))

    op.drop_table('transaction_summary')
    op.drop_table('webhook_endpoint')
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_state'))
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_org_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_next_attempt_at'))

    op.drop_table('webhook_delivery')
