"""The command line's side of an execution run (the :class:`hlrebal.runner.RunUI` the runner drives):
progress on stderr (a spinner on a terminal), the confirmation prompts, ``--quiet``, ``--log-file``,
and the stop flag that turns Ctrl-C and SIGTERM into a stop before the next request.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hlrebal.cli.common import err_console, out_console


class StopFlag:
    """Ctrl-C and SIGTERM during execution: remember them, stop before the next request."""

    def __init__(self) -> None:
        self.raised = False
        self._previous: dict[int, Any] = {}

    def __call__(self) -> bool:
        return self.raised

    def _handle(self, signum: int, frame: Any) -> None:
        self.raised = True
        err_console().print("stopping before the next request (signal received)", markup=False)

    def __enter__(self) -> StopFlag:
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """At a prompt Ctrl-C must leave at once (nothing is in flight), not wait for an answer."""
        import signal

        if not self._previous:
            yield
            return
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, self._handle)


def _confirm(question: str) -> bool:
    from rich.prompt import Confirm

    return Confirm.ask(question, console=err_console(), default=False)


class CliRun:
    """The CLI's side of a run: stderr progress (live on a terminal), prompts, --quiet, --log-file."""

    def __init__(self, *, quiet: bool, json_out: bool, log_file: Path | None, network: str = "") -> None:
        self.quiet = quiet
        self.json_out = json_out
        self.err = err_console()
        self.network = network
        self.stop = StopFlag()
        self._log = None
        self._status: Any = None
        self.live = False
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._log = os.fdopen(fd, "a", encoding="utf-8")

    def log(self, message: str) -> None:
        if self._log is not None:
            import datetime as dt

            stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            self._log.write(f"{stamp} {message}\n")
            self._log.flush()

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def notice(self, message: str) -> None:
        self.log(message)
        if not self.quiet:
            self.err.print(message, markup=False, highlight=False)

    def progress(self, message: str) -> None:
        self.log(message)
        if self.quiet:
            return
        # The spinner starts with the first order-side progress, after any prompt has been answered.
        if self._status is None and self.live:
            self._status = self.err.status(message)
            self._status.start()
        if self._status is not None:
            self._status.update(message)
        self.err.print(("  " if self._status is not None else "") + message, markup=False, highlight=False)

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def show_plan(self, plan: Any) -> None:
        from hlrebal import render

        self.log(f"plan: {len(plan.trades)} trade(s), turnover {plan.summary.turnover * 100:.2f}%")
        if self.json_out or (self.quiet and plan.is_empty):
            return
        out_console().print(render.plan_renderable(plan))

    def confirm(self, plan: Any) -> bool:
        with self.stop.suspended():
            return _confirm(f"Place these {len(plan.trades)} order(s) on {self.network}?")

    def reconfirm(self, plan: Any, why: str) -> bool:
        from hlrebal import render

        self._stop_status()
        self.err.print(f"the plan changed since you confirmed it: {why}", markup=False)
        self.err.print(render.plan_renderable(plan))
        with self.stop.suspended():
            return _confirm("Place the new plan?")

    def should_stop(self) -> bool:
        return self.stop()


@contextmanager
def live_status(ui: CliRun) -> Iterator[None]:
    """A spinner on stderr while orders are in flight, only on a terminal and never with --quiet."""
    ui.live = not ui.quiet and ui.err.is_terminal
    try:
        yield
    finally:
        ui.live = False
        ui._stop_status()
