"""`python -m gateway` is `ats-gateway`."""

import sys

from gateway.cli import main

sys.exit(main())
