"""Helpers for console tests: staff accounts, signed-in clients, seeded conversations."""

from __future__ import annotations

import itertools
import re

from bot.engine import Turn
from cases.users import create_user

PASSWORD = "correct horse battery"
_sids = itertools.count(1)


def add_staff(runtime) -> None:
    """A supervisor 'sam' and an admin 'ada'."""
    with runtime.Session() as s, s.begin():
        create_user(
            db_session=s,
            username="sam",
            password=PASSWORD,
            role="supervisor",
            display_name="Sam Supervisor",
        )
        create_user(
            db_session=s, username="ada", password=PASSWORD, role="admin", display_name="Ada Admin"
        )


def csrf(client, path: str = "/console/login") -> str:
    """The CSRF token from a page's form."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str, password: str = PASSWORD):
    """Sign in through the form; returns the response."""
    token = csrf(client)
    return client.post(
        "/console/login", data={"username": username, "password": password, "csrf_token": token}
    )


def text(runtime, body: str, sender: str = "+15550100200"):
    """One SMS through the engine (fake or real NLU, whichever the runtime has)."""
    turn = Turn("sms", sender, body, f"SM{next(_sids):032x}")
    with runtime.Session() as s:
        return runtime.bot.handle(turn, db_session=s)
