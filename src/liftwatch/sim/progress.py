"""What `liftwatch simulate` shows while it publishes: a progress bar for a run of known length on a
terminal, else a one-line summary every so often (on the terminal, or in the log when the output is a file
or a supervisor's pipe, where a bar would be noise)."""

from __future__ import annotations

import logging
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from liftwatch.sim.telemetry import PublishReport

log = logging.getLogger(__name__)

#: seconds between two summary lines
SUMMARY_EVERY_S = 10.0


def summary_line(report: PublishReport) -> str:
    """Messages sent, rate, faults injected and how late the stream runs behind the wall clock."""
    return (
        f"simulate: {report.sent:,} messages sent in {report.seconds:.0f} s ({report.rate:,.0f}/s), "
        f"{report.truth:,} faults injected, {report.lag_ms / 1000:.1f} s behind the wall clock"
    )


class PublishProgress:
    """A context manager whose ``update`` is ``publish``'s progress callback.

    ``duration_s`` > 0 and ``tty``: a rich progress bar on ``console``. Otherwise a summary line every
    ``every_s``: printed on ``console`` when ``tty``, else logged (INFO) so it lands in the process's log.
    """

    def __init__(
        self, console: Console, duration_s: float, tty: bool, every_s: float = SUMMARY_EVERY_S
    ) -> None:
        self.console = console
        self.duration_s = duration_s
        self.tty = tty
        self.every_s = every_s
        self._next_summary = every_s
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> PublishProgress:
        if self.duration_s > 0 and self.tty:
            self._bar = Progress(
                TextColumn("publishing"),
                BarColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[status]}"),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("publish", total=self.duration_s, status="")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, report: PublishReport) -> None:
        if self._bar is not None and self._task is not None:
            status = f"{report.sent:,} sent ({report.rate:,.0f}/s), {report.truth:,} faults"
            self._bar.update(self._task, completed=min(report.seconds, self.duration_s), status=status)
            return
        if report.seconds < self._next_summary:
            return
        self._next_summary = report.seconds + self.every_s
        if self.tty:
            self.console.print(summary_line(report), highlight=False)
        else:
            log.info(summary_line(report))
