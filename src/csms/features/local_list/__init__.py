"""Local Auth List Management profile (spec 3.5.2, 5.10, 5.15; errata 3.52).

The list as data, pure (`plan`: what a policy selects, the SendLocalList messages within a
charge point's limits); the answers and the updates sent (`updates`); the CSMS's belief per
charge point and keeping it in step (`sync`); the owned task that works off the charge points
due (`worker`). The charge point sends no message of this profile: ROUTES is empty, and Core
tells `sync` of boots and of a status that reports a list problem. See docs/architecture.md.
"""

from csms.features.context import Handler
from csms.features.local_list.sync import (
    LocalListRefused,
    LocalListView,
    converge,
    run_local_list_sync,
    view,
)

ROUTES: dict[str, Handler] = {}

__all__ = [
    "ROUTES",
    "LocalListRefused",
    "LocalListView",
    "converge",
    "run_local_list_sync",
    "view",
]
