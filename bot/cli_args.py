"""Command-line arguments checked at the edge: numbers in range, text that can be stored."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number written in ASCII digits, from low to high."""

    def parse(value: str) -> int:
        text = value.strip()
        digits = text.removeprefix("-")
        if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(high)):
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number")
        number = int(text)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is not from {low} to {high}")
        return number

    return parse


_SURROGATES = re.compile("[\ud800-\udfff]")


def readable(args: argparse.Namespace) -> argparse.Namespace:
    """Arguments that were not valid UTF-8 (Python keeps such bytes as lone surrogates,
    which cannot be stored or printed) with U+FFFD in their place; paths are left as given."""
    for name, value in vars(args).items():
        if isinstance(value, str) and name != "config":
            setattr(args, name, _SURROGATES.sub("\ufffd", value))
    return args
