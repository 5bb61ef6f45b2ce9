"""Platform icons rendered from the app's one SVG at build time, so no binary icon is committed.

Windows wants an ``.ico``, macOS an ``.icns``, the Linux menu a PNG beside the SVG. Qt renders
the SVG (QtSvg, already a dependency); the two containers are written here by hand because
both are simple (a directory of PNG images) and Qt's own writers store one size only. Windows
Vista and later, and every macOS the bundle supports, read PNG-compressed entries.

Run as a script by the spec (``python icons.py SVG OUT_DIR``) in a child process, so Qt renders
offscreen without loading into PyInstaller's own process.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

#: Sizes Windows picks from: small icons, taskbar, Explorer views, high-DPI.
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: ``icns`` element types with PNG payloads and the pixel size each one holds.
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"ic11", 32), (b"icp6", 64), (b"ic12", 64), (b"ic07", 128),
    (b"ic13", 256), (b"ic08", 256), (b"ic14", 512), (b"ic09", 512), (b"ic10", 1024),
)
#: The PNG installed for the Linux desktop entry (menus that don't take SVG use it).
LINUX_PNG_SIZE = 256


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICO file holding one PNG-compressed image per size."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))  # reserved, type 1 = icon, image count
    offset = len(header) + 16 * len(sizes)
    entries, payload = b"", b""
    for size in sizes:
        data = pngs[size]
        side = 0 if size >= 256 else size  # 0 means 256 in the one-byte fields
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
        payload += data
    return header + entries + payload


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICNS file with every element type of ``ICNS_TYPES``, each a PNG of its size."""
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def render_pngs(svg: Path, sizes: set[int]) -> dict[int, bytes]:
    """The SVG rendered square at each size, as PNG bytes (transparent background)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG image")
    pngs: dict[int, bytes] = {}
    for size in sorted(sizes):
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        writer = QImageWriter(buffer, QByteArray(b"png"))
        if not writer.write(image):
            raise SystemExit(f"could not encode a {size}px PNG of {svg}: {writer.errorString()}")
        pngs[size] = bytes(data.data())
    del app
    return pngs


def write_icons(svg: Path, out_dir: Path) -> dict[str, Path]:
    """Writes ``<stem>.ico``, ``<stem>.icns`` and ``<stem>.png`` into ``out_dir``; returns them."""
    sizes = set(ICO_SIZES) | {size for _, size in ICNS_TYPES} | {LINUX_PNG_SIZE}
    pngs = render_pngs(svg, sizes)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {
        "ico": out_dir / f"{svg.stem}.ico",
        "icns": out_dir / f"{svg.stem}.icns",
        "png": out_dir / f"{svg.stem}.png",
    }
    written["ico"].write_bytes(ico_bytes({size: pngs[size] for size in ICO_SIZES}))
    written["icns"].write_bytes(icns_bytes(pngs))
    written["png"].write_bytes(pngs[LINUX_PNG_SIZE])
    return written


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: icons.py SVG OUT_DIR")
    for path in write_icons(Path(sys.argv[1]), Path(sys.argv[2])).values():
        print(path)
