"""The id form AgentMux mints, written out in core/contract.py instead of loading ``uuid``."""

from __future__ import annotations

import os
import re
import uuid

import pytest

from agentmux_companion.core.contract import new_uuid4, uuid4_text

AGENTMUX_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.mark.parametrize("sixteen", [bytes(16), b"\xff" * 16, bytes(range(16)), *(os.urandom(16) for _ in range(50))])
def test_uuid4_text_is_what_the_uuid_module_makes(sixteen: bytes) -> None:
    assert uuid4_text(sixteen) == str(uuid.UUID(bytes=sixteen, version=4))
    assert AGENTMUX_ID.match(uuid4_text(sixteen))


def test_new_ids_are_version_4_and_differ() -> None:
    ids = {new_uuid4() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(uuid.UUID(i).version == 4 and AGENTMUX_ID.match(i) for i in ids)


@pytest.mark.parametrize("length", [0, 15, 17])
def test_uuid4_text_wants_sixteen_bytes(length: int) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        uuid4_text(bytes(length))
