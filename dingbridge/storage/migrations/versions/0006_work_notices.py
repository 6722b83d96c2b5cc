"""work notifications: a space's switches for telling a user of a new binding and its admins of
a stopped sync or a stream that cannot connect; the admins' DingTalk userids

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dingtalk_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notify_binding", sa.Boolean(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("notify_admins", sa.Boolean(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("admin_userids", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("dingtalk_settings", schema=None) as batch_op:
        batch_op.drop_column("admin_userids")
        batch_op.drop_column("notify_admins")
        batch_op.drop_column("notify_binding")
