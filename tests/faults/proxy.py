"""A TCP proxy in front of PostgreSQL that can cut, stall and restore the database connection.

It listens on 127.0.0.1 on a free port, in the test's event loop, and forwards every byte to
the database. `cut()` resets every connection (RST) and every new one at once; `stall()`
keeps connections open but holds every byte (new connections are accepted and held too);
`restore()` lets bytes flow again (held bytes first) and accepts connections normally.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

from sqlalchemy.engine import make_url

_CHUNK = 65536


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset, as a dead network path or a killed server looks to a client."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class DatabaseProxy:
    """Forwards 127.0.0.1:<port> to the database; cut, stall and restore on demand."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self.url = url
        self.target = (url.host or "127.0.0.1", url.port or 5432)
        self.port = 0
        self.mode = "open"
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def database_url(self) -> str:
        """The database URL through the proxy."""
        return self.url.set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    async def __aenter__(self) -> DatabaseProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        self.restore()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            _reset(writer)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def cut(self) -> None:
        """Reset every connection and refuse (reset) new ones until `restore`."""
        self.mode = "cut"
        self._flowing.set()  # held pumps wake up and see the cut
        for writer in list(self._writers):
            _reset(writer)

    def stall(self) -> None:
        """Hold every byte, both ways, on every connection old and new, until `restore`."""
        self.mode = "stall"
        self._flowing.clear()

    def restore(self) -> None:
        """Let bytes flow and connections open again."""
        self.mode = "open"
        self._flowing.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "cut":
            _reset(writer)
            return
        self._writers.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            await self._flowing.wait()
            if self.mode == "cut":
                return
            up_reader, upstream = await asyncio.open_connection(*self.target)
            self._writers.add(upstream)
            pumps = [
                asyncio.ensure_future(self._pump(reader, upstream)),
                asyncio.ensure_future(self._pump(up_reader, writer)),
            ]
            for pump in pumps:
                self._tasks.add(pump)
                pump.add_done_callback(self._tasks.discard)
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for pump in pumps:
                pump.cancel()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for end in (writer, upstream):
                if end is not None:
                    self._writers.discard(end)
                    end.transport.abort() if self.mode == "cut" else end.close()

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await src.read(_CHUNK):
                await self._flowing.wait()  # a stall holds the bytes here
                if self.mode == "cut" or dst.is_closing():
                    return
                dst.write(data)
                await dst.drain()
