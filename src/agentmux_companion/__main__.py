"""``python -m agentmux_companion`` runs the command line."""

import sys

from agentmux_companion.cli import main

sys.exit(main())
