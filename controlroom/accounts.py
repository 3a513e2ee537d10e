"""`kiemthu users add|list`: accounts of the control room, from the terminal (the first administrator too)."""

from __future__ import annotations

import sys
from contextlib import closing
from pathlib import Path

import typer
from rich.console import Console

from controlroom import auth, db


def database(db_path: Path | None) -> Path:
    from controlroom.app import DEFAULT_DB

    return Path(db_path or DEFAULT_DB)


def read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Mật khẩu / password", hide_input=True, confirmation_prompt=True)


def add_account_cli(username: str, role: str, full_name: str, db_path: Path | None, password_stdin: bool) -> int:
    console = Console(stderr=True)
    path = database(db_path)
    try:
        auth.check_account(username, "x" * auth.MIN_PASSWORD, role)  # name and role first, before asking
        password = read_password(password_stdin)
        with closing(db.connect(path)) as conn:
            auth.add_user(conn, username, password, role, full_name)
            db.audit(conn, None, "account_added", account=username, role=role, via="cli")
    except auth.AccountError as exc:
        console.print(f"Không tạo được tài khoản / account not added: {exc}", markup=False, highlight=False)
        return 2
    console.print(f"Đã tạo tài khoản / account added: {username} ({auth.ROLES[role]}) in {path}", markup=False,
                  highlight=False, soft_wrap=True)
    return 0


def list_accounts_cli(db_path: Path | None) -> int:
    console = Console()
    with closing(db.connect(database(db_path))) as conn:
        for u in auth.users(conn):
            console.print(f"{u['username']}\t{auth.ROLES[u['role']]}\t{u['full_name']}\t"
                          f"{'active' if u['active'] else 'locked'}", markup=False, highlight=False)
    return 0
