"""Accounts: who may sign in, with which role, and the refresh tokens that keep a session going.

``domain`` holds the rules (usernames, passwords, refresh tokens, sign-in limits) with no I/O;
``store`` is the SQL adapter (PostgreSQL, or SQLite on the embedded default) migrated by Alembic;
``service`` is what the gateway and the CLI call: sign up, sign in, refresh, sign out, create.
"""
