import pytest

from _support.nightly import nightly_env


@pytest.fixture(scope="module")
def env(registered, tmp_path_factory):
    """``(population folder, NightlySettings, LoadedModel)`` for nightly runs."""
    return nightly_env(registered, tmp_path_factory.mktemp("nightly"))
