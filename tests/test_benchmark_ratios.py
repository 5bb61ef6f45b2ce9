"""The benchmarks' ratios against their targets: a figure printed beside its verdict must show it."""

from __future__ import annotations

import pytest
from benchmarks.common import ratio_text


@pytest.mark.parametrize(
    ("value", "target", "shown"),
    [
        (1.43, 1.5, "1.43×"),
        (1.5, 1.5, "1.50×"),
        (1.1462, 1.15, "1.15×"),  # rounded onto the target from within: still within
        # Rounded to two places these would read "1.50×" or "1.15×" beside "over".
        (1.5041, 1.5, "1.504×"),
        (1.1532, 1.15, "1.153×"),
        (1.50049, 1.5, "1.5005×"),
    ],
)
def test_a_ratio_is_printed_precisely_enough_to_show_its_side_of_the_target(
    value: float, target: float, shown: str
) -> None:
    assert ratio_text(value, target) == shown


def test_a_ratio_without_a_target_keeps_two_places() -> None:
    assert ratio_text(1.5041) == "1.50×"
