"""handoffs table; conversations get the CSAT request time and the abstention streak

Revision ID: 0005_handoffs
Revises: 0004_rule_events
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_handoffs"
down_revision: str | None = "0004_rule_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_STATUSES_SQL = "status IN ('pending', 'claimed', 'away')"


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_agent_reply_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slack_channel", sa.String(length=40), nullable=True),
        sa.Column("slack_thread_ts", sa.String(length=40), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("customer_email", sa.String(length=254), nullable=True),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"],
            name="fk_handoffs_conversation_id_conversations", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by_user_id"], ["users.id"], name="fk_handoffs_claimed_by_user_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_handoffs_ticket_id_tickets",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_handoffs"),
        sa.UniqueConstraint(
            "slack_channel", "slack_thread_ts", name="uq_handoffs_slack_channel_slack_thread_ts"
        ),
    )  # fmt: skip
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])
    op.create_index("ix_handoffs_claimed_by_user_id", "handoffs", ["claimed_by_user_id"])
    op.create_index("ix_handoffs_status_requested_at", "handoffs", ["status", "requested_at"])
    op.create_index(
        "uq_handoffs_open_conversation", "handoffs", ["conversation_id"], unique=True,
        sqlite_where=sa.text(OPEN_STATUSES_SQL), postgresql_where=sa.text(OPEN_STATUSES_SQL),
    )  # fmt: skip
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("csat_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("abstain_streak", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("last_abstained_message_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("last_abstained_message_id")
        batch.drop_column("abstain_streak")
        batch.drop_column("csat_requested_at")
    op.drop_index("uq_handoffs_open_conversation", table_name="handoffs")
    op.drop_index("ix_handoffs_status_requested_at", table_name="handoffs")
    op.drop_index("ix_handoffs_claimed_by_user_id", table_name="handoffs")
    op.drop_index("ix_handoffs_conversation_id", table_name="handoffs")
    op.drop_table("handoffs")
