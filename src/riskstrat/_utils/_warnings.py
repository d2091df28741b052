"""Warnings that point at the caller's code, not at riskstrat's internals."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from types import FrameType

__all__ = ["warn_caller"]

_PACKAGE = str(Path(__file__).resolve().parents[1])


def warn_caller(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the first frame outside the package.

    A data-quality warning raised deep in validation (through ``load_tables`` or
    an adapter such as ``load_omop``) then names the line that asked for the
    data, however many internal calls lie between.
    """
    level = 2  # 1 is this function; 2 its caller
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
