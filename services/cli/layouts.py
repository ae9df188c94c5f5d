"""Tables that fit the terminal: a table where it fits, one block per row where it does not.

A clerk's terminal is often 80 columns. A case's table of steps needs about 125, and rich would
squeeze it by wrapping every cell (`identidad-comprador` over four lines). So each view is built
twice: as a table whose identifier columns never wrap, and as a stacked list whose first line per
row holds what identifies it and whose next lines, indented, hold the rest. The terminal's width
picks one when the view is printed.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

INDENT = 6  # a stacked row's details, under its first line


@dataclass(frozen=True)
class Fitted:
    """`wide` when the terminal holds it without wrapping an identifier, else `stacked()`."""

    wide: Table
    stacked: Callable[[], RenderableType]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        needed = console.measure(self.wide, options=options.update(width=10_000)).minimum
        yield self.wide if needed <= options.max_width else self.stacked()


def line(*cells: tuple[str | Text, int]) -> Text:
    """One line of cells, each padded to its width (the last one is not padded)."""
    text = Text("  ")
    for index, (cell, width) in enumerate(cells):
        piece = cell if isinstance(cell, Text) else Text(cell)
        text.append_text(piece)
        if index < len(cells) - 1:
            text.append(" " * (max(width - piece.cell_len, 0) + 2))
    return text


def details(*texts: str | Text) -> Padding:
    """A stacked row's further lines: indented, wrapped at words where they are long (even on
    a console that leaves wrapping to the terminal, which would crop them inside the indent)."""
    parts = [t.copy() if isinstance(t, Text) else Text(t) for t in texts]
    for part in parts:
        part.no_wrap, part.overflow = False, "fold"
    return Padding(Group(*parts), (0, 0, 0, INDENT), expand=False)


def widest(values: Sequence[str], at_least: int = 0) -> int:
    return max([at_least, *(len(v) for v in values)])
