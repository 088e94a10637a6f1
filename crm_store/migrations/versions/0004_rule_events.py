"""crm_events, rule_firings, rule_state: the event table rules run on, and their audit trail

Revision ID: 0004_rule_events
Revises: 0003_conversation_sender
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_rule_events"
down_revision: str | None = "0003_conversation_sender"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("subject_type", sa.String(length=30), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_crm_events"),
        sa.UniqueConstraint("dedupe_key", name="uq_crm_events_dedupe_key"),
    )
    op.create_index("ix_crm_events_status_id", "crm_events", ["status", "id"])
    op.create_index("ix_crm_events_occurred_at", "crm_events", ["occurred_at"])
    op.create_index("ix_crm_events_account_id", "crm_events", ["account_id"])
    op.create_table(
        "rule_firings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_name", sa.String(length=100), nullable=False),
        sa.Column("rule_version", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["crm_events.id"],
            name="fk_rule_firings_event_id_crm_events",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_rule_firings"),
        sa.UniqueConstraint("rule_name", "event_id", name="uq_rule_firings_rule_name_event_id"),
    )
    op.create_index("ix_rule_firings_rule_name_fired_at", "rule_firings", ["rule_name", "fired_at"])
    op.create_table(
        "rule_state",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_rule_state"),
    )


def downgrade() -> None:
    op.drop_table("rule_state")
    op.drop_index("ix_rule_firings_rule_name_fired_at", table_name="rule_firings")
    op.drop_table("rule_firings")
    op.drop_index("ix_crm_events_account_id", table_name="crm_events")
    op.drop_index("ix_crm_events_occurred_at", table_name="crm_events")
    op.drop_index("ix_crm_events_status_id", table_name="crm_events")
    op.drop_table("crm_events")
