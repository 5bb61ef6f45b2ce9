"""``python -m agentmux_companion`` runs the command line."""

import sys

from agentmux_companion.cli import console_main

sys.exit(console_main())
