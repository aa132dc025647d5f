"""Freed memory given back to the system: where the C library cannot, nothing happens."""

from __future__ import annotations

import ctypes
import platform
import sys

import pytest

from app.kit import memory


def test_free_memory_is_given_back_where_the_c_library_can() -> None:
    memory._malloc_trim.cache_clear()
    given_back = memory.release_free_memory()
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert given_back or not glibc


def test_without_malloc_trim_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_libc(*args: object, **kwargs: object) -> None:
        raise OSError("no such library")

    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    try:
        assert memory.release_free_memory() is False
    finally:
        memory._malloc_trim.cache_clear()
