"""``python -m agentmux_companion`` runs the command line."""

import sys

from agentmux_companion.entry_points import command_line

sys.exit(command_line())
