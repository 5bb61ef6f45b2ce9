"""Entry point of the frozen windowed executable ``agentmux-companion-gui`` (the tray app)."""

import sys

from agentmux_companion.app import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
