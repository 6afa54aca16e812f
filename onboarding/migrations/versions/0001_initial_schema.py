"""initial schema

Revision ID: 0001_initial
Revises: (none)
Create Date: 2026-11-23 12:52:31.547285
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_entry',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('org_id', sa.Uuid(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=64), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entry')),
    sa.UniqueConstraint('id', name=op.f('uq_audit_entry_id'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_org_id'), ['org_id'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('job_run',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_run'))
    )
    op.create_table('organisation',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('ngo', 'bank', 'authority', name='org_kind', native_enum=False, length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('jurisdiction', sa.String(length=8), nullable=False),
    sa.Column('issuer_id', sa.String(length=32), nullable=True),
    sa.Column('accredited_until', sa.Date(), nullable=True),
    sa.Column('issuer_state', sa.String(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('issuer_id', name=op.f('uq_organisation_issuer_id'))
    )
    op.create_table('trust_list_version',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('token', sa.LargeBinary(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_trust_list_version'))
    )
    op.create_table('consent_text',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('purposes', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_consent_text_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_text')),
    sa.UniqueConstraint('org_id', 'version', 'language', name=op.f('uq_consent_text_org_id'))
    )
    with op.batch_alter_table('consent_text', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_text_org_id'), ['org_id'], unique=False)

    op.create_table('issuer_key',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('kid', sa.LargeBinary(length=8), nullable=False),
    sa.Column('alg', sa.Integer(), nullable=False),
    sa.Column('public_key_der', sa.LargeBinary(), nullable=False),
    sa.Column('private_key_enc', sa.LargeBinary(), nullable=False),
    sa.Column('state', sa.Enum('active', 'retired', 'revoked', name='key_state', native_enum=False, length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_issuer_key_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuer_key'))
    )
    with op.batch_alter_table('issuer_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issuer_key_org_id'), ['org_id'], unique=False)

    op.create_table('staff_user',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('caseworker', 'ngo_admin', 'verifier', 'compliance_officer', 'reporting_officer', 'bank_admin', 'platform_admin', name='staff_role', native_enum=False, length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('totp_secret_enc', sa.LargeBinary(), nullable=True),
    sa.Column('totp_enrolled', sa.Boolean(), nullable=False),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_staff_user_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_user')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_user_email'))
    )
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_user_org_id'), ['org_id'], unique=False)

    op.create_table('status_list',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=16), nullable=False),
    sa.Column('uri', sa.String(length=300), nullable=False),
    sa.Column('bits', sa.LargeBinary(), nullable=False),
    sa.Column('allocated', sa.LargeBinary(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('token', sa.LargeBinary(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dirty', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_status_list_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_list')),
    sa.UniqueConstraint('slug', name=op.f('uq_status_list_slug'))
    )
    with op.batch_alter_table('status_list', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_list_org_id'), ['org_id'], unique=False)

    op.create_table('api_key',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_api_key_created_by_staff_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_api_key_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_key_prefix'))
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_org_id'), ['org_id'], unique=False)

    op.create_table('bank_policy',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('backtest', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_bank_policy_created_by_staff_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_bank_policy_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_policy'))
    )
    with op.batch_alter_table('bank_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_policy_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_policy_state'), ['state'], unique=False)

    op.create_table('caseworker_certification',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('certified_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by'], ['staff_user.id'], name=op.f('fk_caseworker_certification_recorded_by_staff_user')),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_caseworker_certification_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_caseworker_certification'))
    )
    with op.batch_alter_table('caseworker_certification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_caseworker_certification_user_id'), ['user_id'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'restricted', 'erased', name='person_status', native_enum=False, length=24), nullable=False),
    sa.Column('step', sa.String(length=24), nullable=False),
    sa.Column('intake_token', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('names_enc', sa.LargeBinary(), nullable=True),
    sa.Column('other_names_enc', sa.LargeBinary(), nullable=True),
    sa.Column('dob_enc', sa.LargeBinary(), nullable=True),
    sa.Column('birth_place_enc', sa.LargeBinary(), nullable=True),
    sa.Column('nationality_enc', sa.LargeBinary(), nullable=True),
    sa.Column('languages_enc', sa.LargeBinary(), nullable=True),
    sa.Column('notes_enc', sa.LargeBinary(), nullable=True),
    sa.Column('photo_file', sa.String(length=64), nullable=True),
    sa.Column('thumbnail_enc', sa.LargeBinary(), nullable=True),
    sa.Column('legal_hold', sa.Boolean(), nullable=False),
    sa.Column('retain_until', sa.Date(), nullable=True),
    sa.Column('possible_duplicate_of', sa.Uuid(), nullable=True),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_person_created_by_staff_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_person_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('intake_token', name=op.f('uq_person_intake_token'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_status'), ['status'], unique=False)

    op.create_table('proposal',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=False),
    sa.Column('object_version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('reason_code', sa.String(length=32), nullable=False),
    sa.Column('reason_text_enc', sa.LargeBinary(), nullable=True),
    sa.Column('proposed_by', sa.Uuid(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['staff_user.id'], name=op.f('fk_proposal_decided_by_staff_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_proposal_org_id_organisation')),
    sa.ForeignKeyConstraint(['proposed_by'], ['staff_user.id'], name=op.f('fk_proposal_proposed_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal'))
    )
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_status'), ['status'], unique=False)

    op.create_table('recovery_code',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_recovery_code_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    op.create_table('screening_list',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('fmt', sa.String(length=16), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Uuid(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_screening_list_org_id_organisation')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['staff_user.id'], name=op.f('fk_screening_list_uploaded_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_list'))
    )
    with op.batch_alter_table('screening_list', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_list_org_id'), ['org_id'], unique=False)

    op.create_table('staff_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_staff_session_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_staff_session'))
    )
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_session_user_id'), ['user_id'], unique=False)

    op.create_table('verification',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('api_key_id', sa.Uuid(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('result', sa.String(length=24), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('attestation_hash', sa.String(length=64), nullable=True),
    sa.Column('pending_enc', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_verification_org_id_organisation')),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_verification_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification'))
    )
    with op.batch_alter_table('verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_attestation_hash'), ['attestation_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_org_id'), ['org_id'], unique=False)

    op.create_table('whitelist_entry',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('applicant_key', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('note_code', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('approved_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by'], ['staff_user.id'], name=op.f('fk_whitelist_entry_approved_by_staff_user')),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_whitelist_entry_created_by_staff_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_whitelist_entry_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whitelist_entry'))
    )
    with op.batch_alter_table('whitelist_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whitelist_entry_applicant_key'), ['applicant_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_whitelist_entry_org_id'), ['org_id'], unique=False)

    op.create_table('attestation',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('key_id', sa.Uuid(), nullable=True),
    sa.Column('cti', sa.LargeBinary(length=16), nullable=False),
    sa.Column('status_list_id', sa.Uuid(), nullable=True),
    sa.Column('status_idx', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.Enum('held', 'active', 'suspended', 'revoked', 'superseded', name='attestation_status', native_enum=False, length=24), nullable=False),
    sa.Column('assurance', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('issued_by', sa.Uuid(), nullable=False),
    sa.Column('qr_enc', sa.LargeBinary(), nullable=True),
    sa.Column('qr_version', sa.Integer(), nullable=True),
    sa.Column('revocation_reason', sa.String(length=32), nullable=True),
    sa.Column('superseded_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issued_by'], ['staff_user.id'], name=op.f('fk_attestation_issued_by_staff_user')),
    sa.ForeignKeyConstraint(['key_id'], ['issuer_key.id'], name=op.f('fk_attestation_key_id_issuer_key')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_attestation_org_id_organisation')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_attestation_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_list_id'], ['status_list.id'], name=op.f('fk_attestation_status_list_id_status_list')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attestation')),
    sa.UniqueConstraint('cti', name=op.f('uq_attestation_cti'))
    )
    with op.batch_alter_table('attestation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attestation_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attestation_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attestation_status'), ['status'], unique=False)

    op.create_table('bank_case',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('verification_id', sa.Uuid(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('product', sa.String(length=32), nullable=False),
    sa.Column('counter_checks', sa.JSON(), nullable=False),
    sa.Column('claims_enc', sa.LargeBinary(), nullable=False),
    sa.Column('issuer_org_id', sa.Uuid(), nullable=True),
    sa.Column('recommendation', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('assigned_to', sa.Uuid(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('policy_id', sa.Uuid(), nullable=True),
    sa.Column('applicant_key', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=True),
    sa.Column('engine_input', sa.JSON(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_bank_case_created_by_staff_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_bank_case_org_id_organisation')),
    sa.ForeignKeyConstraint(['verification_id'], ['verification.id'], name=op.f('fk_bank_case_verification_id_verification')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_case'))
    )
    with op.batch_alter_table('bank_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_case_assigned_to'), ['assigned_to'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_case_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_case_status'), ['status'], unique=False)

    op.create_table('consent',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('text_id', sa.Uuid(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('purposes', sa.JSON(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_consent_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['staff_user.id'], name=op.f('fk_consent_recorded_by_staff_user')),
    sa.ForeignKeyConstraint(['text_id'], ['consent_text.id'], name=op.f('fk_consent_text_id_consent_text')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent'))
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_person_id'), ['person_id'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('validation', sa.String(length=32), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('details_enc', sa.LargeBinary(), nullable=True),
    sa.Column('reference_ial', sa.Integer(), nullable=True),
    sa.Column('reference_relationship', sa.String(length=32), nullable=True),
    sa.Column('reference_liability_ack', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_evidence_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['staff_user.id'], name=op.f('fk_evidence_recorded_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_person_id'), ['person_id'], unique=False)

    op.create_table('name_token',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_name_token_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'token', name=op.f('pk_name_token'))
    )
    with op.batch_alter_table('name_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_name_token_token'), ['token'], unique=False)

    op.create_table('referee_session',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('caseworker_id', sa.Uuid(), nullable=False),
    sa.Column('mode', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('reason_detail_enc', sa.LargeBinary(), nullable=True),
    sa.Column('indicators_checked', sa.JSON(), nullable=False),
    sa.Column('indicators_seen', sa.JSON(), nullable=False),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['caseworker_id'], ['staff_user.id'], name=op.f('fk_referee_session_caseworker_id_staff_user')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_referee_session_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referee_session')),
    sa.UniqueConstraint('person_id', name=op.f('uq_referee_session_person_id'))
    )
    op.create_table('handover_link',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('attestation_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['attestation_id'], ['attestation.id'], name=op.f('fk_handover_link_attestation_id_attestation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_handover_link'))
    )
    op.create_table('safeguarding_message',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('bank_org_id', sa.Uuid(), nullable=False),
    sa.Column('ngo_org_id', sa.Uuid(), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('body_enc', sa.LargeBinary(), nullable=False),
    sa.Column('sent_by', sa.Uuid(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bank_org_id'], ['organisation.id'], name=op.f('fk_safeguarding_message_bank_org_id_organisation')),
    sa.ForeignKeyConstraint(['case_id'], ['bank_case.id'], name=op.f('fk_safeguarding_message_case_id_bank_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ngo_org_id'], ['organisation.id'], name=op.f('fk_safeguarding_message_ngo_org_id_organisation')),
    sa.ForeignKeyConstraint(['sent_by'], ['staff_user.id'], name=op.f('fk_safeguarding_message_sent_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safeguarding_message'))
    )
    with op.batch_alter_table('safeguarding_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safeguarding_message_bank_org_id'), ['bank_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_safeguarding_message_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_safeguarding_message_ngo_org_id'), ['ngo_org_id'], unique=False)

    op.create_table('screening_hit',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('list_id', sa.Uuid(), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('entity_name', sa.String(length=300), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('matched', sa.JSON(), nullable=False),
    sa.Column('disposition', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['bank_case.id'], name=op.f('fk_screening_hit_case_id_bank_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['list_id'], ['screening_list.id'], name=op.f('fk_screening_hit_list_id_screening_list')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_screening_hit_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_hit'))
    )
    with op.batch_alter_table('screening_hit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_hit_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_screening_hit_org_id'), ['org_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('screening_hit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screening_hit_org_id'))
        batch_op.drop_index(batch_op.f('ix_screening_hit_case_id'))

    op.drop_table('screening_hit')
    with op.batch_alter_table('safeguarding_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safeguarding_message_ngo_org_id'))
        batch_op.drop_index(batch_op.f('ix_safeguarding_message_case_id'))
        batch_op.drop_index(batch_op.f('ix_safeguarding_message_bank_org_id'))

    op.drop_table('safeguarding_message')
    op.drop_table('handover_link')
    op.drop_table('referee_session')
    with op.batch_alter_table('name_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_name_token_token'))

    op.drop_table('name_token')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_person_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_person_id'))

    op.drop_table('consent')
    with op.batch_alter_table('bank_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_case_status'))
        batch_op.drop_index(batch_op.f('ix_bank_case_org_id'))
        batch_op.drop_index(batch_op.f('ix_bank_case_assigned_to'))

    op.drop_table('bank_case')
    with op.batch_alter_table('attestation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attestation_status'))
        batch_op.drop_index(batch_op.f('ix_attestation_person_id'))
        batch_op.drop_index(batch_op.f('ix_attestation_org_id'))

    op.drop_table('attestation')
    with op.batch_alter_table('whitelist_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whitelist_entry_org_id'))
        batch_op.drop_index(batch_op.f('ix_whitelist_entry_applicant_key'))

    op.drop_table('whitelist_entry')
    with op.batch_alter_table('verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_org_id'))
        batch_op.drop_index(batch_op.f('ix_verification_attestation_hash'))

    op.drop_table('verification')
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_session_user_id'))

    op.drop_table('staff_session')
    with op.batch_alter_table('screening_list', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screening_list_org_id'))

    op.drop_table('screening_list')
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))

    op.drop_table('recovery_code')
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_status'))
        batch_op.drop_index(batch_op.f('ix_proposal_org_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_object_id'))

    op.drop_table('proposal')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_status'))
        batch_op.drop_index(batch_op.f('ix_person_org_id'))
        batch_op.drop_index(batch_op.f('ix_person_created_by'))

    op.drop_table('person')
    with op.batch_alter_table('caseworker_certification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_caseworker_certification_user_id'))

    op.drop_table('caseworker_certification')
    with op.batch_alter_table('bank_policy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_policy_state'))
        batch_op.drop_index(batch_op.f('ix_bank_policy_org_id'))

    op.drop_table('bank_policy')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_org_id'))

    op.drop_table('api_key')
    with op.batch_alter_table('status_list', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_list_org_id'))

    op.drop_table('status_list')
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_user_org_id'))

    op.drop_table('staff_user')
    with op.batch_alter_table('issuer_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issuer_key_org_id'))

    op.drop_table('issuer_key')
    with op.batch_alter_table('consent_text', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_text_org_id'))

    op.drop_table('consent_text')
    op.drop_table('trust_list_version')
    op.drop_table('organisation')
    op.drop_table('job_run')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_org_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_object_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_action'))

    op.drop_table('audit_entry')
