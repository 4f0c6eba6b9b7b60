"""``ecoute run``, ``worker``, ``serve`` and ``demo``: the long-running processes."""

from __future__ import annotations

from typing import Annotated

import typer

from ecoute.cli._common import HostOpt, PortOpt, out, session_factory, warn_open_reads
from ecoute.config.settings import get_settings


def run_cmd(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    api: Annotated[bool, typer.Option(help="Serve the API and /metrics.")] = True,
) -> None:
    """Everything in one process: API, scheduler and a collect + classify worker.

    Runs until SIGTERM or Ctrl+C, then finishes the batch in hand and exits."""
    from ecoute.daemon import RunOptions, run_process

    settings = get_settings()
    run_process(settings, RunOptions(host=host, port=port, api=api),
                on_listening=lambda: warn_open_reads(settings, host))


def worker_cmd(
    collect: Annotated[bool, typer.Option(help="Collect due sources.")] = True,
    classify: Annotated[bool, typer.Option(help="Classify new items.")] = True,
    scheduler: Annotated[
        bool, typer.Option(help="Also stand by as scheduler (one leads per database).")
    ] = False,
) -> None:
    """An extra worker against the shared PostgreSQL database (start as many as you like)."""
    from ecoute.daemon import RunOptions, run_process

    run_process(get_settings(), RunOptions(api=False, scheduler=scheduler, collect=collect,
                                           classify=classify))


def serve_cmd(host: HostOpt = "127.0.0.1", port: PortOpt = 8000) -> None:
    """Serve the API (and its documentation at /docs)."""
    import uvicorn

    from ecoute.api.app import create_app

    from ecoute.daemon import listening_socket

    settings = get_settings()
    session_factory(settings)  # refuse to start on an unmigrated database
    sock = listening_socket(host, port)
    warn_open_reads(settings, host)
    try:
        uvicorn.Server(uvicorn.Config(create_app(settings), host=host, port=port,
                                      log_level="info")).run(sockets=[sock])
    finally:
        sock.close()


def demo_cmd(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    serve: Annotated[bool, typer.Option(help="Serve the API once the data is ready.")] = True,
) -> None:
    """Fresh SQLite database with the shipped sample sources, collected, classified, served."""
    from ecoute.demo import prepare_demo

    settings = prepare_demo(out)
    if serve:
        import uvicorn

        from ecoute.api.app import create_app

        from ecoute.demo import demo_user

        username, password = demo_user(session_factory(settings))
        warn_open_reads(settings, host)
        out.print(f"\nDashboard: [bold]http://{host}:{port}/[/bold] — to correct figures, sign "
                  f"in as [bold]{username}[/bold] with the password [bold]{password}[/bold] "
                  f"(new at each demo).\nAPI: http://{host}:{port}/api/v1/satisfaction?"
                  f"window=90d, its documentation http://{host}:{port}/docs — Ctrl+C to stop.",
                  highlight=False, soft_wrap=True)
        out.file.flush()  # seen at once, even when the output goes to a file
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
