"""`python -m csms.simulator`: run simulated charge points against a CSMS."""

import sys

from csms.simulator.cli import main

sys.exit(main())
