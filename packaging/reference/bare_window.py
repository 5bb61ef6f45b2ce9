"""The smallest PySide6 window program: the yardstick for the companion's frozen size.

``benchmarks/bench_frozen.py`` freezes it with ``bare-window.spec`` (the same Qt trimming as the
app, from ``freeze_policy``) and reports the app's folder and archive against this one's.
``--smoke`` shows the window, lets Qt paint it once, prints ``ready`` and exits 0.
"""

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel


def main(argv: list[str]) -> int:
    app = QApplication([sys.argv[0], *argv])
    window = QLabel("A bare PySide6 window")
    window.setWindowTitle("bare window")
    window.resize(320, 120)
    window.show()
    if "--smoke" in argv:
        def finish() -> None:
            print("ready", flush=True)
            app.quit()

        QTimer.singleShot(0, finish)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
