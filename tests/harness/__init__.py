"""What the tests start and stop, one way for each:

- `gateway`: the gateway in this process (`running`) or in a thread on a loopback port
  (`serve`, for a browser);
- `processes`: `kengele serve` and `kengele worker` as processes (`start_gateway`,
  `start_worker`), their environment, stop and kill;
- `standin`: the provider stand-ins of tests/fakes/, each served in a thread on a free port;
- `server`: uvicorn on a free loopback port, under all of the above (`live_server` serves an
  app in the test's own event loop).
- `workers`: how many test processes `pytest -n auto` starts on PostgreSQL (the server's free
  connections).

Ports are the kernel's free ones and files go to each test's tmp_path, so tests run in
parallel (pytest -n auto) never share one.
"""
