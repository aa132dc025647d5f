"""The keyring: values under several keys, a key file re-read, tampering refused."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from app.kit import crypto
from app.kit.crypto import DataKeyError, Keyring, key_id, new_key, parse_keys


def _ring(*keys: str, key_file: Path | None = None) -> Keyring:
    return Keyring(keys=parse_keys(",".join(keys)), lookup=b"l" * 32, key_file=key_file)


def test_values_carry_their_key_and_open_under_a_ring_that_has_it() -> None:
    old, new = new_key(), new_key()
    value = _ring(old).encrypt("+243810000101")
    assert value.startswith(f"e1:{key_id(base64.urlsafe_b64decode(old))}:")
    assert "+243810000101" not in value and value != _ring(old).encrypt("+243810000101")
    both = _ring(old, new)
    assert both.decrypt(value) == "+243810000101"
    assert both.encrypt("x").split(":")[1] == key_id(base64.urlsafe_b64decode(new))
    with pytest.raises(DataKeyError, match="no key"):
        _ring(new).decrypt(value)
    # A value stored before encryption reads as it is; "" stays "".
    assert both.decrypt("Bonjour") == "Bonjour" and both.encrypt("") == ""


def test_a_changed_byte_is_refused_not_decrypted() -> None:
    ring = _ring(new_key())
    head, _, data = ring.encrypt("Attaque a Mavivi").rpartition(":")
    raw = bytearray(base64.b64decode(data))
    raw[-1] ^= 1
    with pytest.raises(InvalidTag):
        ring.decrypt(f"{head}:{base64.b64encode(bytes(raw)).decode()}")


def test_lookup_hash_is_keyed() -> None:
    a = Keyring(keys=parse_keys(new_key()), lookup=b"a" * 32)
    b = Keyring(keys=parse_keys(new_key()), lookup=b"b" * 32)
    assert a.lookup_hash("+243810000101") == a.lookup_hash("+243810000101")
    assert a.lookup_hash("+243810000101") != b.lookup_hash("+243810000101")


def test_a_running_process_takes_a_key_added_to_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data.keys"
    first = new_key()
    path.write_text(first + "\n")
    ring = _ring(first, key_file=path)
    before = ring.current_id
    second = new_key()
    with path.open("a") as handle:
        handle.write(second + "\n")
    monkeypatch.setattr(crypto, "RELOAD_SECONDS", 0.0)
    assert ring.current_id == key_id(base64.urlsafe_b64decode(second)) != before


def test_bad_keys_are_named_not_echoed() -> None:
    with pytest.raises(DataKeyError, match="32 bytes") as short:
        parse_keys(base64.urlsafe_b64encode(b"short").decode())
    assert "c2hvcnQ" not in str(short.value)
    with pytest.raises(DataKeyError, match="base64"):
        parse_keys("not base64 !")


def test_keys_are_generated_once_in_the_data_directory(tmp_path: Path) -> None:
    ring = crypto.keyring_from("", None, "", None, tmp_path)
    again = crypto.keyring_from("", None, "", None, tmp_path)
    assert ring.current_id == again.current_id and ring.lookup == again.lookup
    assert (tmp_path / "keys" / "data.keys").stat().st_mode & 0o777 == 0o600
