"""Long-running processes: ``ecoute run`` (API + scheduler + worker) and ``ecoute worker``.

SIGTERM and SIGINT set one stop event. The uvicorn server, which swaps in its own handlers
while it serves, hands the signal back to ours when it has shut down (it re-raises captured
signals into the handlers it found), so the API drains first, then the scheduler steps down
and the worker finishes the batch in hand (a collection stops after its current batch, which
is committed; a classification batch is committed or rolled back whole), gives its leases back
and the process exits 0.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from ecoute.config.settings import Settings
from ecoute.errors import PortInUse
from ecoute.store.db import make_session_factory, open_store

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    api: bool = True
    scheduler: bool = True
    collect: bool = True
    classify: bool = True


def _install_stop_handlers(stop: threading.Event, server: Any = None) -> None:
    def handle(signum: int, _frame: FrameType | None) -> None:
        if not stop.is_set():
            log.info("received %s: finishing the work in hand, then stopping",
                     signal.Signals(signum).name)
        stop.set()
        if server is not None:
            server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handle)


def listening_socket(host: str, port: int) -> socket.socket:
    """The API's socket, bound before anything else starts: a port already in use is one
    readable error, not a traceback after the scheduler and workers were started."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn does: a restart may reuse a port whose old connections are in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is already in use by another program",
                            hint="stop that program or choose another port with --port") from exc
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                        hint="check --host and --port") from exc
    sock.set_inheritable(True)
    return sock


def run_process(settings: Settings, options: RunOptions, stop: threading.Event | None = None,
                on_listening: Callable[[], None] | None = None) -> None:
    """Serve and/or schedule and/or work until SIGTERM/SIGINT (or ``stop``); returns cleanly.

    ``on_listening`` is called once the API's port is ours, so that what it says is not
    printed before a "port in use" error."""
    from ecoute.scheduler.leader import Scheduler
    from ecoute.scheduler.workers import Worker

    stop = stop or threading.Event()
    engine = open_store(settings)
    sock = listening_socket(options.host, options.port) if options.api else None
    if sock is not None and on_listening is not None:
        on_listening()
    threads: list[threading.Thread] = []
    if options.scheduler:
        scheduler = Scheduler(engine, make_session_factory(engine), settings)
        threads.append(threading.Thread(target=scheduler.run, args=(stop,), name="scheduler"))
    if options.collect or options.classify:
        worker = Worker(engine, settings, collect=options.collect, classify=options.classify,
                        stop=stop)
        threads.append(threading.Thread(target=worker.run, name="worker"))
    server = _api_server(settings, engine, options) if options.api else None
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        _install_stop_handlers(stop, server)
    for thread in threads:
        thread.start()
    try:
        if server is not None:
            server.run(sockets=[sock] if sock is not None else None)
            stop.set()  # the API stopped (signal or failure to bind): stop the rest too
        else:
            while not stop.wait(1.0):
                pass
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        engine.dispose()
        if sock is not None:
            sock.close()
        log.info("ecoute stopped")


def _api_server(settings: Settings, engine: Any, options: RunOptions) -> Any:
    import uvicorn

    from ecoute.api.app import create_app

    config = uvicorn.Config(create_app(settings, engine), host=options.host, port=options.port,
                            log_config=None, access_log=False)
    return uvicorn.Server(config)
