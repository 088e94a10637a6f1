"""slack_event_receipts: Slack event ids already accepted, so retries are processed once

Revision ID: 0006_slack_event_receipts
Revises: 0005_handoffs
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_slack_event_receipts"
down_revision: str | None = "0005_handoffs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_event_receipts",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_slack_event_receipts"),
    )
    op.create_index("ix_slack_event_receipts_received_at", "slack_event_receipts", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_slack_event_receipts_received_at", table_name="slack_event_receipts")
    op.drop_table("slack_event_receipts")
