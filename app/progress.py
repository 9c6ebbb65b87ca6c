"""The progress of a long command, stage by stage, on standard error: a bar on a terminal, and plain
lines otherwise (a CI log), one when a stage begins and one every few seconds while it lasts."""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO

from tqdm import tqdm


class Progress:
    """``stage(text)`` ends the stage before and begins the next of ``stages``; ``close()`` (or the
    ``with`` block's end) ends the last."""

    def __init__(
        self, label: str, stages: int, *, stream: TextIO | None = None, every: float = 5.0,
        terminal: bool | None = None,
    ) -> None:
        self.label = label
        self.stages = stages
        self.stream = sys.stderr if stream is None else stream
        self.every = every
        self.done = 0
        self.text = ""
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        is_terminal = self.stream.isatty() if terminal is None else terminal
        self._bar = tqdm(
            total=stages, desc=label, file=self.stream, leave=False, dynamic_ncols=True,
            bar_format="{desc}: {bar} {n_fmt}/{total_fmt} [{elapsed}]{postfix}",
        ) if is_terminal else None
        self._ticker = threading.Thread(target=self._tick, name="zstack-mock-progress", daemon=True)
        self._ticker.start()

    def stage(self, text: str) -> None:
        with self._lock:
            if self.text:
                self.done += 1
            self.text = text
            self.started = time.monotonic()
            if self._bar is not None:
                self._bar.n = self.done
                self._bar.set_postfix_str(text)
            else:
                self._line("")

    def close(self) -> None:
        self._stopped.set()
        self._ticker.join()
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _tick(self) -> None:
        interval = 0.5 if self._bar is not None else self.every
        while not self._stopped.wait(interval):
            with self._lock:
                if self._bar is not None:
                    self._bar.refresh()
                elif self.text:
                    self._line(f" ({time.monotonic() - self.started:.0f} s)")

    def _line(self, suffix: str) -> None:
        self.stream.write(f"{self.label}: [{self.done + 1}/{self.stages}] {self.text}{suffix}\n")
        self.stream.flush()
