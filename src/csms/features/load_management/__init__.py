"""Site load management (on top of the Smart Charging profile, spec 3.13.1, 5.16.3).

Several charge points on one supply never draw more than its limit. In dependency order:
`allocation` (the arithmetic over a tree of groups, pure), `meter` (what a car draws, from its
meter values), `machine` (one transaction as a state machine: its states, events and
transition table), `model` (what the CSMS keeps in memory, told of the charge points'
messages), `state` (from the store into the model), `send` (the profiles on the wire), `view`
(what the operator sees), `worker` (the owned task that allocates each tree that is due and
sends the changes). ROUTES is empty: the model observes the CALLs of other profiles. See
docs/architecture.md.
"""

from csms.features.context import Handler
from csms.features.load_management.worker import converge, run_load_management

ROUTES: dict[str, Handler] = {}

__all__ = ["ROUTES", "converge", "run_load_management"]
