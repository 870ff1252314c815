"""`python -m devtools COMMAND`: see devtools.cli."""

import sys

from devtools.cli import main

sys.exit(main())
