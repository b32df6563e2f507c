"""Plain-text tables for the command line (right-aligned numbers, left-aligned words)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["text_table"]


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]], indent: str = "  ") -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    numeric = [all(_is_number(r[i]) for r in cells[1:]) if len(cells) > 1 else False
               for i in range(len(headers))]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for r in cells:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric)]
        lines.append(indent + "  ".join(parts).rstrip())
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text.startswith("0x")
    return True
