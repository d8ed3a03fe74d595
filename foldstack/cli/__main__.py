"""``python -m foldstack.cli``."""

import sys

from foldstack.cli import main

sys.exit(main())
