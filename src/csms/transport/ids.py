"""The one rule for charge point ids, used by the OCPP endpoint and the operator API alike
(docs/field-behaviour.md, "Input limits and ids").

OCPP 1.6 only says the id is the last segment of the connection URL (J 3.1.1) and the Basic-auth
username (whitepaper 2.3). We take the rule OCPP 2.0.1 wrote down for the same identity: 1 to 48
characters of its identifierString set (letters, digits and * - _ = : + | @ .), less the colon,
which cannot appear in a Basic-auth username. Everything else (spaces, NUL, markup, non-ASCII,
anything percent-decoding could turn into U+FFFD) is refused, so two different URLs never name
the same charge point and no id looks like another one byte for byte.

Lookalikes: `lookalike_key` folds case, compatibility forms (NFKC: full-width letters) and
surrounding space, so that a new id colliding with a known one can be refused.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

MAX_LENGTH: Final = 48
PATTERN: Final = r"^[A-Za-z0-9*\-_=+|@.]{1,48}$"
_ID: Final = re.compile(PATTERN)
RULE: Final = "1 to 48 characters of A-Z a-z 0-9 * - _ = + | @ ."


def is_valid_charge_point_id(charge_point_id: str) -> bool:
    return _ID.fullmatch(charge_point_id) is not None


def lookalike_key(charge_point_id: str) -> str:
    """What two ids that a person could take for one another have in common."""
    return unicodedata.normalize("NFKC", charge_point_id).strip().casefold()
