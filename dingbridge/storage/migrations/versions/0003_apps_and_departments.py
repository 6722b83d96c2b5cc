"""apps become real (kind, access, OIDC client fields), departments and who may use an app

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 03:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("dept_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["space_id"],
            ["spaces.id"],
            name=op.f("fk_departments_space_id_spaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("space_id", "dept_id", name=op.f("uq_departments_space_id_dept_id")),
    )
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_departments_space_id"), ["space_id"], unique=False)

    op.create_table(
        "member_departments",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_member_departments_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_departments_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "department_id", name=op.f("pk_member_departments")),
    )
    with op.batch_alter_table("member_departments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_departments_department_id"), ["department_id"], unique=False
        )

    with op.batch_alter_table("space_apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("icon", sa.String(length=1000), nullable=True))
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="link")
        )
        batch_op.add_column(
            sa.Column("access", sa.String(length=16), nullable=False, server_default="all")
        )
        batch_op.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("client_secret_hash", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("public_client", sa.Boolean(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("redirect_uris", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("backchannel_logout_uri", sa.String(length=1000), nullable=True)
        )
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_space_apps_client_id"), ["client_id"])

    op.create_table(
        "app_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["space_apps.id"],
            name=op.f("fk_app_access_app_id_space_apps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_app_access_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_app_access_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_access")),
    )
    with op.batch_alter_table("app_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_access_app_id"), ["app_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("app_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_access_app_id"))
    op.drop_table("app_access")
    with op.batch_alter_table("space_apps", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_space_apps_client_id"), type_="unique")
        for column in (
            "created_at",
            "backchannel_logout_uri",
            "post_logout_redirect_uris",
            "redirect_uris",
            "public_client",
            "client_secret_hash",
            "client_id",
            "access",
            "kind",
            "icon",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("member_departments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_departments_department_id"))
    op.drop_table("member_departments")
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_departments_space_id"))
    op.drop_table("departments")
