"""`python -m segregation FILE.toml [--json]`."""

import sys

from .cli import main

sys.exit(main())
