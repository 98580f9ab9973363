"""``Ticker``: the explorer's one UI task, calling a function a few times a second.

In a Jupyter kernel the task runs on the kernel's own asyncio loop, in the main thread, so
every widget is changed from the thread that owns it and never concurrently with a message
from the browser. Outside a running loop (a plain script), a daemon thread does the ticking.
An exception in the callback is kept in ``last_error`` and does not stop the ticker.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Ticker"]


class Ticker:
    """Call ``callback()`` every ``interval`` seconds until :meth:`stop`.

    Parameters
    ----------
    callback : callable
        The work of one tick (cheap when nothing changed).
    interval : float
        Seconds between ticks.
    """

    def __init__(self, callback: Callable[[], Any], interval: float = 0.25) -> None:
        self.callback = callback
        self.interval = interval
        self.last_error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def active(self) -> bool:
        """Whether the ticker is running (False as soon as :meth:`stop` was called)."""
        if self._stop.is_set():
            return False
        alive_thread = self._thread is not None and self._thread.is_alive()
        return alive_thread or (self._task is not None and not self._task.done())

    def start(self) -> None:
        """Start ticking (nothing happens when already running)."""
        if self.active:
            return
        self._stop.clear()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._task = loop.create_task(self._run_async())
        else:
            self._thread = threading.Thread(
                target=self._run_thread, name="accelforge-explorer-ui", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop ticking; a tick in progress in the ticking thread is waited for."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    def tick(self) -> None:
        """Run the callback once, keeping any exception in ``last_error``."""
        try:
            self.callback()
        except Exception as exc:  # a failed redraw must not end the UI task
            self.last_error = exc

    async def _run_async(self) -> None:
        while not self._stop.is_set():
            self.tick()
            await asyncio.sleep(self.interval)

    def _run_thread(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()
