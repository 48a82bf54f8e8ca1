"""What an import reports: its kinds, the problems of a refused file, the result of an
accepted one (no pandas here: the CLI's --server form prints these without loading it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from calibration.i18n import t

KINDS = ("history", "signals", "regions", "actuals")
MAX_REPORTED = 50


@dataclass(frozen=True)
class Problem:
    """One reason a file was refused: where and why (English `reason`, and its key to translate)."""

    file: str
    row: int | None
    column: str | None
    reason: str
    # The translation key (calibration/locale/data.json) and its values; None for a
    # problem from elsewhere (an older API server's body), shown by its reason.
    key: str | None = None
    params: dict[str, object] = field(default_factory=dict, compare=False)

    @classmethod
    def of(
        cls, file: str, row: int | None, column: str | None, key: str, **params: object
    ) -> Problem:
        """A problem whose English reason is the key's English text (one source per sentence)."""
        return cls(file, row, column, t(key, "en", **params), key, params)

    def text(self, lang: str) -> str:
        """The reason in lang: its key translated when it has one, else the English reason."""
        return t(self.key, lang, **self.params) if self.key else self.reason

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.reason}"


class ImportRejected(Exception):
    """The file was refused; nothing was written."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems[:MAX_REPORTED]
        self.total = total if total is not None else len(problems)
        super().__init__(self.report())

    def report(self) -> str:
        """The first problems, one per line, and the total count."""
        lines = [str(p) for p in self.problems]
        if self.total > len(self.problems):
            lines.append(f"... and {self.total - len(self.problems)} more problems")
        lines.append(f"{self.total} problem(s); nothing was imported.")
        return "\n".join(lines)


@dataclass
class ImportResult:
    """What an accepted import did."""

    kind: str
    file_name: str
    rows: int
    inserted: int
    updated: int
    source_id: int | None
    notes: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        """Rows identical to what was stored."""
        return self.rows - self.inserted - self.updated

    def summary(self) -> str:
        """One line for the CLI and the page."""
        base = (
            f"{self.file_name}: {self.rows} {self.kind} rows — {self.inserted} new, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
        return base + ("" if self.source_id else " (nothing to change)")
