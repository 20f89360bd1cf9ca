"""The design card: the money table, the verdict, the requirements and the plot, in HTML and Markdown."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import mlcycle


class _Tables(HTMLParser):
    """Collect every table's cell texts, and whether an inline <svg> is present."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.svg = False
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table":
            self._table = attributes.get("class") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "svg":
            self.svg = True
        for name in ("src", "href"):
            if (attributes.get(name) or "").startswith("http"):
                self.external.append(str(attributes[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_design_card_html_has_the_money_table_and_the_plot(example_copy: Path) -> None:
    card = mlcycle.UseCase.load(example_copy).design()
    assert card.html_path is not None and card.html_path.is_file()
    parser = _Tables()
    parser.feed(card.html_path.read_text())
    money = {row[0]: row[1] for row in parser.tables["money"][1:]}
    lost = card.value.baseline_money_lost_per_period
    assert money["money lost per month today"] == f"{lost:,.0f} GBP"
    assert money["development budget"] == "24,000 GBP"
    scenarios = parser.tables["scenarios"]
    assert [row[0] for row in scenarios[1:]] == ["10%", "20%", "30%", "50%"]
    thirty = next(s for s in card.value.scenarios if s.improvement == 0.3)
    spread = card.value.spread
    assert spread is not None
    low, high = (x * 0.3 - card.value.running_cost_per_period for x in (spread.lost.low, spread.lost.high))
    assert scenarios[3][2] == f"{thirty.added_value_per_period:,.0f} GBP ({low:,.0f} GBP – {high:,.0f} GBP)"
    assert money["… its 90% interval (bootstrap over 511 days, 1,000 resamples)"] == (
        f"{spread.lost.low:,.0f} GBP – {spread.lost.high:,.0f} GBP"
    )
    assert parser.svg, "the target-over-time plot is inline SVG"
    assert parser.external == [], "the card must open offline"
    html = card.html_path.read_text()
    assert 'id="verdict"' in html and ">GO<" in html
    assert "Data scientist — is the model accurate?" in html and "Business stakeholder" in html


def test_design_card_markdown_matches_the_estimate(example_copy: Path) -> None:
    card = mlcycle.UseCase.load(example_copy).design()
    assert card.markdown_path is not None
    text = card.markdown_path.read_text()
    assert "## Verdict: GO" in text
    assert f"| money lost per month today | {card.value.baseline_money_lost_per_period:,.0f} GBP |" in text
    assert re.search(r"\| \[ \] \| quality: mae \| ≤ 115 \|", text)
    assert "![units over time](design-target.svg)" in text
    assert (card.markdown_path.parent / "design-target.svg").read_text().startswith("<svg")
