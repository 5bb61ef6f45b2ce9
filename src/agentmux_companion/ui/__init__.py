"""The tray companion's Qt side: windows, tray, dialogs and the controllers that drive them.

Only this package and ``app.py`` import PySide6; long work runs in :mod:`workers`, never on the GUI thread.
"""
