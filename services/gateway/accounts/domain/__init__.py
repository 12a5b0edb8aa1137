"""The accounts' rules, free of I/O: usernames, passwords, refresh tokens, sign-in limits."""
