"""Shared plumbing of the file importers: reading text of any encoding, CSV rows with their
line numbers, rejections, and the report of one import."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# Called with the number of records just applied (drives the progress bar of the CLI).
Progress = Callable[[int], None]

# Flush to the database every so many records: bounded memory and a moving progress bar.
BATCH_SIZE = 500

_TRUE = frozenset({"1", "true", "t", "yes", "y", "oui", "vrai", "x"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "non", "faux"})


class UnreadableFile(Exception):
    """The file cannot be imported at all; nothing of it may be written."""


@dataclass(frozen=True, order=True)
class Rejection:
    """One record left out of the import, with where it was and why."""

    line: int
    reason: str
    unit: str = "line"

    def __str__(self) -> str:
        return f"{self.unit} {self.line}: {self.reason}"


@dataclass
class ImportReport:
    """What one import did: keys created, updated, unchanged, and the records rejected."""

    kind: str
    source: str = ""
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    # Places only: repeated rows folded into one place, and same names kept apart.
    merged: list[str] = field(default_factory=list)
    distinct: list[str] = field(default_factory=list)
    # Anything else the user should know about the import, one sentence each.
    notes: list[str] = field(default_factory=list)
    # Records imported that look wrong (a place far outside the region), one sentence each.
    warnings: list[str] = field(default_factory=list)

    def record(self, outcome: str, key: str) -> None:
        """File `key` under `outcome` ("created", "updated" or "unchanged")."""
        {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}[
            outcome
        ].append(key)

    def counts(self) -> dict[str, int]:
        """Number of records per outcome."""
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "rejected": len(self.rejected),
        }


# --- text -------------------------------------------------------------------------------


def decode_line(raw: bytes) -> str:
    """UTF-8 when the line is valid UTF-8, else Windows-1252 (Latin-1 for its five holes)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    controls = sum(
        1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f") or 0x80 <= ord(ch) < 0xA0
    )
    return controls > max(2, len(text) // 100)


def describe_encoding(data: bytes) -> str:
    """How the text was read, for the import's summary: "UTF-8", "Windows-1252", or a mix."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    legacy = 0
    lines = data.splitlines()
    for raw in lines:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            legacy += 1
    if not legacy:
        return "UTF-8"
    if legacy == len(lines):
        return "Windows-1252"
    return f"UTF-8, with {legacy} line(s) read as Windows-1252"


def decode_text(data: bytes) -> list[str]:
    """The lines of `data` (line ends kept), each decoded on its own: files pasted together
    from several sources mix UTF-8 and Latin-1 lines."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = [decode_line(raw) for raw in data.splitlines(keepends=True)]
    if _looks_binary("".join(lines)):
        raise UnreadableFile("the file is binary, not text")
    return lines


def read_lines(path: Path) -> list[str]:
    """Decoded lines of the file at `path`; UnreadableFile when it is missing or not text."""
    if not path.exists():
        raise UnreadableFile(f"{path}: no such file")
    if path.is_dir():
        raise UnreadableFile(f"{path}: is a directory, not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        lines = decode_text(data)
    except UnreadableFile as exc:
        raise UnreadableFile(f"{path}: {exc}") from exc
    if not any(line.strip() for line in lines):
        raise UnreadableFile(f"{path}: the file is empty")
    return lines


# --- CSV --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvRow:
    """One CSV record: the physical line it starts on and its cells by column name."""

    line: int
    cells: Mapping[str, str]

    def get(self, column: str | None) -> str:
        """The stripped cell of `column` ("" when the column is absent or the cell empty)."""
        if column is None:
            return ""
        return self.cells.get(column, "").strip()


@dataclass(frozen=True)
class CsvTable:
    """The header and the records of a CSV file."""

    columns: Sequence[str]
    rows: Sequence[CsvRow]

    def column(self, wanted: str) -> str | None:
        """The header name matching `wanted` exactly, else ignoring case; None when absent."""
        if wanted in self.columns:
            return wanted
        folded = wanted.strip().casefold()
        for name in self.columns:
            if name.casefold() == folded:
                return name
        return None

    def require(self, *wanted: str) -> list[str]:
        """Header names of the `wanted` columns; UnreadableFile naming any that is missing."""
        found = [self.column(name) for name in wanted]
        missing = [name for name, col in zip(wanted, found, strict=True) if col is None]
        if missing:
            raise UnreadableFile(
                f"missing required column(s): {', '.join(missing)} "
                f"(the file has: {', '.join(self.columns) or 'no header'})"
            )
        return [col for col in found if col is not None]


def _delimiter(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def parse_csv(lines: Sequence[str]) -> CsvTable:
    """Records of CSV text (header on its first non-blank line), each with its line number."""
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise UnreadableFile("the file is empty")
    reader = csv.reader(_numbered(lines[start:]), delimiter=_delimiter(lines[start]))
    try:
        header = [name.strip() for name in next(reader)]
        rows: list[CsvRow] = []
        before = reader.line_num
        for cells in reader:
            first_line = start + before + 1
            before = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            padded = cells + [""] * (len(header) - len(cells))
            rows.append(CsvRow(first_line, dict(zip(header, padded, strict=False))))
    except csv.Error as exc:
        raise UnreadableFile(f"not a CSV file (line {start + reader.line_num}: {exc})") from exc
    if not any(header):
        raise UnreadableFile("the first line is not a CSV header")
    return CsvTable(header, rows)


def _numbered(lines: Iterable[str]) -> Iterator[str]:
    # csv wants one "\n"-terminated string per physical line; Latin-1 lines may end in "\r".
    for line in lines:
        yield line.rstrip("\r\n") + "\n"


def read_with(path: Path, parse: Callable[[list[str]], T]) -> T:
    """Decode the file at `path` line by line and parse it; errors name the file."""
    lines = read_lines(path)
    try:
        return parse(lines)
    except UnreadableFile as exc:
        raise UnreadableFile(f"{path}: {exc}") from exc


# --- cells ------------------------------------------------------------------------------


def parse_bool(text: str) -> bool:
    """Yes/no cell in English or French; ValueError for anything else."""
    folded = text.strip().casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueError(f"{text!r} is not yes/no")


def split_list(text: str, sep: str = "|") -> list[str]:
    """Non-empty stripped parts of a separated cell, duplicates dropped, order kept."""
    seen: dict[str, None] = {}
    for part in text.split(sep):
        part = part.strip()
        if part:
            seen.setdefault(part, None)
    return list(seen)


def assign_changed(obj: object, values: Mapping[str, Any]) -> bool:
    """Set each attribute of `obj` that differs from `values`; whether anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def batches(total: int, size: int = BATCH_SIZE) -> Iterator[range]:
    """Index ranges covering `total` items in slices of `size`."""
    for begin in range(0, total, size):
        yield range(begin, min(begin + size, total))
