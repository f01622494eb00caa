"""Derivation tests share one temporary derivation cache per session (never the user's cache)."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _derivation_cache(tmp_path_factory):
    old = os.environ.get("STATMECH_ATTN_DERIVATION_CACHE")
    os.environ["STATMECH_ATTN_DERIVATION_CACHE"] = str(tmp_path_factory.mktemp("derivation_cache"))
    yield
    if old is None:
        os.environ.pop("STATMECH_ATTN_DERIVATION_CACHE", None)
    else:
        os.environ["STATMECH_ATTN_DERIVATION_CACHE"] = old
