"""Encryption at rest of numbers and words, and the keyed hash that finds a number.

AES-256-GCM (``cryptography``): one primitive that both hides and authenticates, with a
ciphertext 28 bytes longer than the text (a 12-byte nonce, a 16-byte tag) and no padding;
Fernet (AES-CBC + HMAC) would add ~60 bytes of base64 overhead to every short number and do
two passes. A stored value is ``e1:<key id>:<base64 of nonce + ciphertext + tag>``: the key
id lets several keys coexist while `kengele keys rotate` moves rows to the newest one.

A number is looked up by ``HMAC-SHA256(lookup key, E.164)`` in an indexed column: the same
number always gives the same hash (one indexed lookup on the webhook path) and the hash says
nothing without the lookup key, a second key kept apart from the data keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import JSON, String, Text, event
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

PREFIX = "e1:"
KEY_BYTES = 32
NONCE_BYTES = 12
# A process re-reads a key file this often: a key added by `kengele keys rotate` is used for
# new writes by every running process within this time.
RELOAD_SECONDS = 1.0


class DataKeyError(Exception):
    """A key that is missing, malformed, or cannot open a stored value."""


def new_key() -> str:
    """A fresh 256-bit key, base64 (URL-safe) as it is written in settings and key files."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def _decode_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise DataKeyError("a key is not base64") from exc
    if len(raw) != KEY_BYTES:
        raise DataKeyError(f"a key must be {KEY_BYTES} bytes (base64), got {len(raw)}")
    return raw


def key_id(raw: bytes) -> str:
    """The short name of a key in the values it encrypted (a fingerprint, not the key)."""
    return hashlib.sha256(b"kengele-key-id:" + raw).hexdigest()[:8]


def parse_keys(text: str) -> list[bytes]:
    """Keys written one a line or separated by commas, oldest first (the last is current)."""
    parts = [p for line in text.replace(",", "\n").splitlines() if (p := line.strip())]
    return [_decode_key(p) for p in parts if not p.startswith("#")]


@dataclass
class Keyring:
    """Data keys (the last one encrypts; all decrypt) and the lookup key."""

    keys: list[bytes]
    lookup: bytes
    # Re-read for keys added while the process runs (None: keys from the environment).
    key_file: Path | None = None
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False)
    _current: str = ""
    _mtime: float = 0.0
    _checked: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise DataKeyError("no data key")
        self._install(self.keys)
        if self.key_file is not None:
            self._mtime = _mtime(self.key_file)
            self._checked = time.monotonic()

    def _install(self, keys: list[bytes]) -> None:
        for raw in keys:
            self._ciphers.setdefault(key_id(raw), AESGCM(raw))
        self._current = key_id(keys[-1])

    @property
    def current_id(self) -> str:
        """Id of the key new values are encrypted with (the file is re-read when it changed)."""
        self._maybe_reload()
        return self._current

    def known_ids(self) -> list[str]:
        """Ids of every key that can open values."""
        return list(self._ciphers)

    def _maybe_reload(self) -> None:
        if self.key_file is None or time.monotonic() - self._checked < RELOAD_SECONDS:
            return
        with self._lock:
            self._checked = time.monotonic()
            mtime = _mtime(self.key_file)
            if mtime != self._mtime:
                self.reload()

    def reload(self) -> None:
        """Read the key file again (keys are only ever added; the last becomes current)."""
        if self.key_file is None:
            return
        self._mtime = _mtime(self.key_file)
        keys = parse_keys(self.key_file.read_text(encoding="utf-8"))
        if keys:
            self.keys = keys
            self._install(keys)

    def encrypt(self, text: str) -> str:
        """``e1:<key id>:<base64>`` of `text` under the current key; "" stays "" (no content)."""
        if text == "":
            return ""
        kid = self.current_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[kid].encrypt(nonce, text.encode(), None)
        return f"{PREFIX}{kid}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, value: str) -> str:
        """The text of a stored value (a value not encrypted, from before, is returned as is)."""
        if not value.startswith(PREFIX):
            return value
        kid, _, data = value[len(PREFIX) :].partition(":")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            self.reload()
            cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DataKeyError(f"no key {kid} to open a stored value (see docs/DATA_PROTECTION.md)")
        raw = base64.b64decode(data)
        return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode()

    def lookup_hash(self, phone: str) -> str:
        """The keyed hash a number is found by (hex HMAC-SHA256 of its E.164 form)."""
        return hmac.new(self.lookup, phone.encode(), hashlib.sha256).hexdigest()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


# --- the keyring of this process -------------------------------------------------------------

_keyring: Keyring | None = None


def configure(keyring: Keyring) -> None:
    """Make `keyring` the one of this process; keys of a previous one still open values."""
    global _keyring
    if _keyring is not None:
        for raw in _keyring.keys:
            keyring._ciphers.setdefault(key_id(raw), AESGCM(raw))
    _keyring = keyring


def keyring() -> Keyring:
    """The keyring of this process (configured when its engine was created)."""
    if _keyring is None:
        raise DataKeyError("no keyring configured: create the engine from settings first")
    return _keyring


def encrypt(text: str) -> str:
    """`text` encrypted under the current key."""
    return keyring().encrypt(text)


def decrypt(value: str) -> str:
    """The text of an encrypted value."""
    return keyring().decrypt(value)


def lookup_hash(phone: str) -> str:
    """The keyed hash of a number (the indexed lookup column)."""
    return keyring().lookup_hash(phone)


# --- loading keys from settings --------------------------------------------------------------

_warned: set[str] = set()
# Said once, when the process has started (a command that fails earlier says only why).
_notices: list[str] = []


def start_notices() -> list[str]:
    """The warnings about keys not yet logged (each is given once per process)."""
    out = list(_notices)
    _notices.clear()
    return out


def _generated(path: Path, what: str) -> str:
    """The content of a key file in the data directory, created (0600) on first use."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        for _ in range(50):
            if content := path.read_text(encoding="utf-8").strip():
                return content
            time.sleep(0.02)
        raise DataKeyError(f"{path} is empty") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(new_key() + "\n")
    if str(path) not in _warned:
        _warned.add(str(path))
        _notices.append(
            f"No {what} configured: generated {path}. Keep a copy apart from the database "
            "(docs/DATA_PROTECTION.md, Encryption and keys)."
        )
    return path.read_text(encoding="utf-8")


def keyring_from(
    data_key: str,
    data_key_file: Path | None,
    lookup_key: str,
    lookup_key_file: Path | None,
    data_dir: Path,
) -> Keyring:
    """The keyring the settings name: keys from the environment, files, or generated ones."""
    key_file: Path | None = None
    if data_key.strip():
        keys = parse_keys(data_key)
    else:
        key_file = data_key_file or data_dir / "keys" / "data.keys"
        text = key_file.read_text(encoding="utf-8") if data_key_file else None
        keys = parse_keys(text if text is not None else _generated(key_file, "data key"))
        if data_key_file is None and str(key_file) not in _warned:
            _warned.add(str(key_file))
            _notices.append(
                f"Data key from the data directory ({key_file}): set KENGELE_DATA_KEY_FILE or "
                "KENGELE_DATA_KEY in production and keep a copy apart from the database."
            )
    if lookup_key.strip():
        lookup = _decode_key(lookup_key)
    elif lookup_key_file is not None:
        lookup = _decode_key(lookup_key_file.read_text(encoding="utf-8"))
    else:
        path = data_dir / "keys" / "lookup.key"
        lookup = _decode_key(_generated(path, "lookup key"))
    return Keyring(keys=keys, lookup=lookup, key_file=key_file)


# --- column types ----------------------------------------------------------------------------


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; ORM and Core statements see the text."""

    impl: Any = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value)


class EncryptedString(EncryptedText):
    """A number stored encrypted in a VARCHAR column (no length: a ciphertext is longer).

    The column named ``<name>_hash`` of the same table holds the number's keyed hash:
    ``column == number`` and ``column.in_(numbers)`` compare the hash, so that finding a
    number stays one indexed lookup in ORM and Core statements alike.
    """

    impl = String
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[str]):
        def _hash_column(self) -> Any:
            column = self.expr
            return column.table.c[f"{column.name}_hash"]

        def __eq__(self, other: Any) -> Any:
            if isinstance(other, str):
                return self._hash_column() == lookup_hash(other)
            return super().__eq__(other)

        def in_(self, other: Any) -> Any:
            return self._hash_column().in_([lookup_hash(v) for v in other])

    comparator_factory = Comparator


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON column whose document is stored as one encrypted JSON string."""

    impl = JSON
    cache_ok = True

    def __init__(self) -> None:
        # None is SQL NULL (as `correction IS NULL` expects), not the JSON document null.
        super().__init__(none_as_null=True)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if not isinstance(value, str):  # None, or a document stored before encryption
            return value
        return json.loads(decrypt(value))


def hash_of(column: str) -> Callable[[Any], str | None]:
    """A column default: the lookup hash of the value inserted into `column` (Core or ORM).

    An UPDATE that changes a number must set its hash too: the ORM does (keep_hashed), a Core
    ``update()`` has to name both columns.
    """

    def default(context: Any) -> str | None:
        value = context.get_current_parameters().get(column)
        return lookup_hash(value) if value else None

    return default


def keep_hashed(attribute: Any, hash_name: str) -> None:
    """Keep the hash column `hash_name` in step when the ORM sets `attribute` (a number)."""

    @event.listens_for(attribute, "set", propagate=True)
    def _set(target: Any, value: Any, _old: Any, _initiator: Any) -> None:
        if _keyring is not None:
            setattr(target, hash_name, _keyring.lookup_hash(value) if value else None)
