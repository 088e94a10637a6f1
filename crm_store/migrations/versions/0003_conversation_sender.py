"""conversations.rasa_sender_id: a random key for Rasa's tracker

Revision ID: 0003_conversation_sender
Revises: 0002_knowledge
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_conversation_sender"
down_revision: str | None = "0002_knowledge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("rasa_sender_id", sa.String(length=64), nullable=True))
    # Existing rows get a key that cannot collide with new random hex keys.
    op.execute("UPDATE conversations SET rasa_sender_id = 'legacy-' || CAST(id AS VARCHAR(20))")
    with op.batch_alter_table("conversations") as batch:
        batch.alter_column("rasa_sender_id", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_conversations_rasa_sender_id", ["rasa_sender_id"])


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_constraint("uq_conversations_rasa_sender_id", type_="unique")
        batch.drop_column("rasa_sender_id")
