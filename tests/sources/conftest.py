from __future__ import annotations

import pytest

from _support.canonical import VALID, write_folder


@pytest.fixture
def valid_folder(tmp_path):
    return write_folder(tmp_path / "valid", VALID)
