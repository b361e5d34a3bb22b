"""installation: the secret key's verifier

Revision ID: 0002_key_verifier
Revises: 0001
Create Date: 2026-12-01 20:50:00

`db upgrade` then records the verifier of the key in use (diaryadmin.db.upgrade): a migration
never sees the key.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_key_verifier"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret_key_verifier", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
    )


def downgrade() -> None:
    op.drop_table("installation")
