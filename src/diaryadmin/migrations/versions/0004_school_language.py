"""the language of a school's documents for parents

Revision ID: 0004_school_language
Revises: 0003_parent_accounts
Create Date: 2026-12-02 05:50:00

`schools.language` (`ru`, `en`) is the language of slips, letters, e-mails, refusal letters and
report sheets for the school's parents; NULL, every school's until `school set --language`,
means Russian.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_school_language"
down_revision = "0003_parent_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("language")
