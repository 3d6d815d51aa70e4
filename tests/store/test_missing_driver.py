"""A database URL whose driver is not installed is a clear error naming the package."""

from __future__ import annotations

import importlib.util

import pytest

from flowdesk.model import StoreError
from flowdesk.store import open_store


def test_a_missing_driver_names_the_package_to_install() -> None:
    if importlib.util.find_spec("pymysql") is not None:
        pytest.skip("pymysql is installed here")
    with pytest.raises(StoreError, match="needs the Python package 'pymysql'"):
        open_store("mysql+pymysql://nobody@127.0.0.1:1/none")
