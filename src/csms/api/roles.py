"""Which role each operator API route needs (docs/console.md, "Roles"), decided in one place
from the method and the path, before the request body is read (api/limits.py RequestGuard).

- reads (GET, HEAD) need `viewer`;
- everything else (commands, id tags, load groups, reservations, charging profiles, local
  lists, firmware uploads, charge point registration) needs `operator`;
- users and the audit log need `admin`, reads included;
- the caller's own account (`/me`, `/tokens`: its own API tokens) needs only to be signed in.
"""

from __future__ import annotations

from csms.storage import Role

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ADMIN_SECTIONS = frozenset({"users", "audit"})
SELF_SECTIONS = frozenset({"me", "tokens"})


def required_role(method: str, path: str, prefix: str = "/api/v1/") -> Role:
    section = path[len(prefix) :].split("/", 1)[0] if path.startswith(prefix) else ""
    if section in ADMIN_SECTIONS:
        return Role.ADMIN
    if section in SELF_SECTIONS or method.upper() in SAFE_METHODS:
        return Role.VIEWER
    return Role.OPERATOR
