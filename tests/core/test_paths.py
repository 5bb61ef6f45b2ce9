"""The companion's own folders: where they are, and that what it writes there stays private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agentmux_companion.core.paths import AppPaths, ensure_private_dir


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_every_folder_created_on_the_way_is_private(tmp_path: Path) -> None:
    (tmp_path / "existing").mkdir(mode=0o755)
    os.chmod(tmp_path / "existing", 0o755)
    target = tmp_path / "existing" / "data" / "backups" / "store-1"
    ensure_private_dir(target)
    assert stat.S_IMODE((tmp_path / "existing").stat().st_mode) == 0o755  # not ours to change
    for folder in (target.parents[1], target.parent, target):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_companion_dir_override_puts_everything_in_one_folder(tmp_path: Path) -> None:
    paths = AppPaths.resolve(home=tmp_path / "h", env={"AGENTMUX_COMPANION_DIR": str(tmp_path / "c")})
    assert paths.ledger_path.is_relative_to(tmp_path / "c")
    assert paths.backups_dir.is_relative_to(tmp_path / "c")
    assert paths.log_file.is_relative_to(tmp_path / "c")
    assert paths.agentmux_root == tmp_path / "h" / ".agentmux"
