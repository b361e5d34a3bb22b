"""parent accounts: linked credentials, recovery codes

Revision ID: 0003_parent_accounts
Revises: 0002_key_verifier
Create Date: 2026-12-01 20:40:00

`credentials.linked_at` marks a login bound to the parent's own account (State Services);
`recovery_codes` holds one hashed "forgot password" code per guardian.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_parent_accounts"
down_revision = "0002_key_verifier"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("linked_at", sa.DateTime(), nullable=True))

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("window_started_at", sa.DateTime(), nullable=False),
        sa.Column("window_requests", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["guardians.id"],
            name=op.f("fk_recovery_codes_guardian_id_guardians"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("guardian_id", name=op.f("uq_recovery_codes_guardian_id")),
    )


def downgrade() -> None:
    op.drop_table("recovery_codes")
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_column("linked_at")
