"""Reading screenshots: runs of a colour along a row or a column, blobs of a colour near a
point, and how much of a region has a colour. Qt's QImage reads the PNG (no display needed)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QImage

__all__ = ["Screen"]


def _rgb(color: str) -> tuple[int, int, int]:
    c = QColor(color)
    return c.red(), c.green(), c.blue()


class Screen:
    def __init__(self, image: QImage, path: Path | None = None) -> None:
        self.image = image
        self.path = path

    @classmethod
    def load(cls, path: Path) -> Screen:
        image = QImage(str(path))
        if image.isNull():
            raise AssertionError(f"cannot read screenshot {path}")
        return cls(image, path)

    def rgb(self, x: int, y: int) -> tuple[int, int, int]:
        c = self.image.pixelColor(x, y)
        return c.red(), c.green(), c.blue()

    def matches(self, x: int, y: int, color: str, tolerance: int = 6) -> bool:
        if not (0 <= x < self.image.width() and 0 <= y < self.image.height()):
            return False
        want = _rgb(color)
        got = self.rgb(x, y)
        return all(abs(a - b) <= tolerance for a, b in zip(want, got, strict=True))

    def runs_of(self, x: int, y0: int, y1: int, color: str, tolerance: int = 6, gap: int = 0,
                min_len: int = 1) -> list[tuple[int, int]]:
        """Vertical runs [top, bottom) of ``color`` in column ``x``, bridging gaps of up to
        ``gap`` other pixels (grid dots, text)."""
        return self._runs([self.matches(x, y, color, tolerance) for y in range(y0, y1)],
                          y0, gap, min_len)

    def spans_of(self, y: int, x0: int, x1: int, color: str, tolerance: int = 6,
                 gap: int = 0, min_len: int = 1) -> list[tuple[int, int]]:
        """Horizontal spans [left, right) of ``color`` in row ``y``."""
        return self._runs([self.matches(x, y, color, tolerance) for x in range(x0, x1)],
                          x0, gap, min_len)

    @staticmethod
    def _runs(flags: list[bool], origin: int, gap: int, min_len: int) -> list[tuple[int, int]]:
        runs: list[tuple[int, int]] = []
        start: int | None = None
        misses = 0
        for i, hit in enumerate([*flags, False]):
            if hit:
                if start is None:
                    start = i
                misses = 0
            elif start is not None:
                misses += 1
                if misses > gap or i == len(flags):
                    end = i - misses + 1
                    if end - start >= min_len:
                        runs.append((origin + start, origin + end))
                    start, misses = None, 0
        return runs

    def find_near(self, x: int, y: int, color: str, radius: int = 30,
                  tolerance: int = 12, min_pixels: int = 12) -> tuple[int, int] | None:
        """The centre of the pixels of ``color`` within ``radius`` of (x, y), or None."""
        hits = [(px, py) for py in range(y - radius, y + radius + 1)
                for px in range(x - radius, x + radius + 1)
                if self.matches(px, py, color, tolerance)]
        if len(hits) < min_pixels:
            return None
        return (sum(p[0] for p in hits) // len(hits), sum(p[1] for p in hits) // len(hits))

    def share(self, x: int, y: int, w: int, h: int, color: str, tolerance: int = 20) -> float:
        """The fraction of the region's pixels that have ``color``."""
        total = hits = 0
        for py in range(y, y + h, 2):
            for px in range(x, x + w, 2):
                total += 1
                hits += self.matches(px, py, color, tolerance)
        return hits / total if total else 0.0
