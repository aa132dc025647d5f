"""Instructions instead of seconds: a bench run again under valgrind's callgrind.

CPU seconds on a shared 2-core machine swing by 20-30% between runs of the same code (the
other core's load, the database on it, the VM's neighbours); callgrind counts the
instructions a process runs, which repeat to within a fraction of a percent whatever else
the machine does. A bench script marks the part it measures (`Marks`), and `rerun` runs the
script again under callgrind with collection switched on only between the marks, then
returns the instructions counted in each marked part.

The marks are callgrind's client requests, compiled on the spot from valgrind's own header
(gcc and valgrind are on the machine; nothing is committed in binary form). Instructions
are not time: a step that waits on the database costs none, PostgreSQL's own work is not
counted, and a cache miss counts like any other instruction. Use them to compare two
versions of the same code, side by side, not as a speed.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import inspect
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

LIBRARY = "KENGELE_CALLGRIND_MARKS"
SOURCE = """
#include <valgrind/callgrind.h>
void kengele_collect(void) { CALLGRIND_TOGGLE_COLLECT; }
void kengele_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
"""


class Marks:
    """Start and stop collecting around a measured part (no-ops outside `rerun`).

    With `phase` ("package.module:Class.method" or "package.module:function"), collection is
    on only inside that function (its outermost call) while a part is measured: what one
    step of the pipeline costs. Callers must look the function up by its module or class
    when they call it (most of app/ does); a function imported by name elsewhere keeps the
    unwrapped one there.
    """

    def __init__(self, phase: str | None = None) -> None:
        path = os.environ.get(LIBRARY)
        self._lib = ctypes.CDLL(path) if path else None
        self._phase = phase
        self._armed = False
        self._depth = 0
        if phase and self._lib is not None:
            self._wrap(phase)

    def start(self) -> None:
        self._switch(True)

    def stop(self, label: str) -> None:
        """Stop collecting and write what this part counted (then counted from zero)."""
        self._switch(False)
        if self._lib is not None:
            self._lib.kengele_dump(label.encode())

    def _switch(self, on: bool) -> None:
        """A part begins or ends: collect now, or (with a phase) arm the wrapped function."""
        if self._lib is None:
            return
        if self._phase:
            self._armed = on
        else:
            self._lib.kengele_collect()

    def _toggle_at_edge(self, entering: bool) -> None:
        if not entering:
            self._depth -= 1
        if self._armed and self._depth == 0 and self._lib is not None:
            self._lib.kengele_collect()
        if entering:
            self._depth += 1

    def _wrap(self, phase: str) -> None:
        module_name, _, qualname = phase.partition(":")
        owner: Any = importlib.import_module(module_name)
        *path, name = qualname.split(".")
        for part in path:
            owner = getattr(owner, part)
        function = getattr(owner, name)
        edge = self._toggle_at_edge

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def wrapped(*args: Any, **kwargs: Any) -> Any:
                edge(True)
                try:
                    return await function(*args, **kwargs)
                finally:
                    edge(False)

        else:

            @functools.wraps(function)
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                edge(True)
                try:
                    return function(*args, **kwargs)
                finally:
                    edge(False)

        setattr(owner, name, wrapped)


def rerun(argv: list[str]) -> dict[str, int]:
    """Run `python argv...` under callgrind; instructions counted per marked part, in order.

    The child's own output goes to this process's output."""
    with tempfile.TemporaryDirectory(prefix="kengele-callgrind-") as tmp:
        source = Path(tmp) / "marks.c"
        source.write_text(SOURCE)
        library = Path(tmp) / "marks.so"
        subprocess.run(
            ["gcc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)], check=True
        )
        out = Path(tmp) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            *argv,
        ]
        env = {**os.environ, LIBRARY: str(library)}
        done = subprocess.run(command, env=env, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-3000:])
            raise SystemExit(f"the run under callgrind failed ({done.returncode})")
        counted: dict[str, int] = {}
        for dump in sorted(Path(tmp).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:])):
            text = dump.read_text(errors="replace")
            label = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.M)
            total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
            if label and total:
                counted[label.group(1).strip()] = int(total.group(1))
        return counted
