"""`python -m retrograd train ...`: the command line of `retrograd.cli`."""

import sys

from .cli import main

sys.exit(main())
