"""Alembic environment for the accounts: runs on the connection the store hands over (no ini file needed)."""

from alembic import context

from services.gateway.accounts.migrate import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
