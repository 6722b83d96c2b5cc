"""The simulator's clock: wall time plus an offset that tests advance to expire things."""

from __future__ import annotations

import time


class SimClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the simulator clock only moves forward")
        self.offset += seconds
