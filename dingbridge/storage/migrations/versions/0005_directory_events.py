"""directory events: why and when a member was disabled; a space's event mode, callback keys,
sync guard and last catch-up sync

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("disabled_reason", sa.String(length=200), nullable=True))
    with op.batch_alter_table("dingtalk_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("events_mode", sa.String(length=8), nullable=False, server_default="off")
        )
        batch_op.add_column(sa.Column("callback_token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("callback_aes_key_encrypted", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("sync_guard_percent", sa.Integer(), nullable=False, server_default="10")
        )
        batch_op.add_column(sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dingtalk_settings", schema=None) as batch_op:
        batch_op.drop_column("last_sync_at")
        batch_op.drop_column("sync_guard_percent")
        batch_op.drop_column("callback_aes_key_encrypted")
        batch_op.drop_column("callback_token")
        batch_op.drop_column("events_mode")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("disabled_reason")
        batch_op.drop_column("disabled_at")
