"""``citymatch accounts``: create operator, planner, device and app-user accounts; list; disable.

The password is read from standard input (``--password-stdin``, for scripts) or asked for without echo,
never taken as an argument (it would be in the shell's history and the process list).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from services.gateway.accounts.domain.rules import RuleBroken
from services.gateway.accounts.service import Accounts, UsernameTaken
from shared.auth import ROLES


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise RuleBroken("password", "the two entries differ")
    return first


def main(argv: list[str], open_accounts: Callable[[], Accounts]) -> int:
    """``open_accounts`` is the composition root's (the CLI opens the gateway's accounts from settings)."""
    parser = argparse.ArgumentParser(prog="citymatch accounts")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create an account")
    create.add_argument("--username", required=True)
    create.add_argument("--role", default="app-user", choices=ROLES)
    create.add_argument("--participant", help="the participant the account speaks for (required for a device)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sub.add_parser("list", help="list the accounts")
    disable = sub.add_parser("disable", help="disable an account (no more sign-ins or refreshes)")
    disable.add_argument("account_id")
    args = parser.parse_args(argv)
    accounts = open_accounts()
    try:
        if args.command == "create":
            made = accounts.create(args.username, _password(args), args.role, args.participant)
            print(f"{made.account_id}\t{made.username}\t{made.role}\t{made.subject}")
        elif args.command == "list":
            for a in accounts.all():
                print(f"{a.account_id}\t{a.username}\t{a.role}\t{a.subject}\t{'disabled' if a.disabled else 'active'}")
        elif not accounts.disable(args.account_id):
            print(f"citymatch accounts: no account {args.account_id!r}", file=sys.stderr)
            return 1
    except RuleBroken as exc:
        print(f"citymatch accounts: --{exc.field}: {exc}", file=sys.stderr)
        return 2
    except UsernameTaken as exc:
        print(f"citymatch accounts: {exc}", file=sys.stderr)
        return 2
    finally:
        accounts.close()
    return 0
