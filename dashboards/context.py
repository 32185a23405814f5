"""What every dashboard of one mission needs: the mission, its language, the week the data
reach, the indicator catalogue, and the page frame (title, links, notes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import duckdb
import pandas as pd

from dashboards import data
from dashboards.page import Page
from dashboards.theme import esc, fmt_date, words

DASHBOARDS = ("leadership", "planning", "budget")


@dataclass
class Context:
    con: duckdb.DuckDBPyConnection
    mission: data.Mission
    as_of: data.AsOf | None
    catalogue: pd.DataFrame  # indexed by indicator_code, names in the mission's language
    generated: dt.datetime

    @property
    def lang(self) -> str:
        return self.mission.language

    @property
    def mission_id(self) -> str:
        return self.mission.mission_id

    def w(self, extra: dict[str, dict[str, str]] | None = None):
        return words(self.lang, extra)

    @cached_property
    def _attributes(self) -> dict[str, dict[str, object]]:
        """The catalogue's name, unit and direction columns as dicts (read per hover line)."""
        return {column: self.catalogue[column].to_dict()
                for column in ("name", "unit", "direction")}

    def name(self, code: str) -> str:
        """The indicator's name in the mission's language (plain text: escape it to show)."""
        name = self._attributes["name"].get(code)
        return name if isinstance(name, str) else code

    def unit(self, code: str) -> str:
        return self._attributes["unit"].get(code, "count")

    def direction(self, code: str) -> str:
        return self._attributes["direction"].get(code, "up")

    def codes(self, *, kind: str | None = None, families: tuple[str, ...] | None = None,
              exclude: tuple[str, ...] = ()) -> list[str]:
        frame = self.catalogue
        if kind:
            frame = frame[frame["kind"] == kind]
        codes = list(frame.index)
        if families:
            codes = [c for c in codes if c.split("_", 1)[0] in families]
        return [c for c in codes if c.split("_", 1)[0] not in exclude]


def make_context(con: duckdb.DuckDBPyConnection, mission: data.Mission,
                 generated: dt.datetime) -> Context:
    catalogue = data.catalogue(con, mission.language).set_index("indicator_code")
    return Context(con, mission, data.as_of(con, mission.mission_id), catalogue, generated)


def file_name(dashboard: str, mission_id: str) -> str:
    return f"{dashboard}_{mission_id}.html"


def new_page(ctx: Context, dashboard: str) -> Page:
    """A page with its title, data date and the links to the mission's other dashboards."""
    w = ctx.w()
    title = f"{w(dashboard)} — {ctx.mission.name}"
    if ctx.as_of:
        subtitle = w("data_to", week=ctx.as_of.week, start=fmt_date(ctx.as_of.week_start,
                                                                       ctx.lang),
                     end=fmt_date(ctx.as_of.week_end, ctx.lang))
    else:
        subtitle = w("no_data_yet")
    nav = [("index.html", w("index"))] + [
        (file_name(other, ctx.mission_id), w(other)) for other in DASHBOARDS
        if other != dashboard]
    return Page(title=title, lang=ctx.lang, name=f"{dashboard}_{ctx.mission_id}",
                subtitle=subtitle, nav=nav)


def about(page: Page, ctx: Context, notes: list[str]) -> None:
    """The closing notes on method and suppression."""
    w = ctx.w()
    page.h2(w("about"), "about")
    items = [*notes, w("status_note"), w("suppression_note")]
    page.html("<ul class=\"note\">" + "".join(f"<li>{esc(n)}</li>" for n in items) + "</ul>")


def footer(ctx: Context) -> str:
    when = ctx.generated.strftime("%Y-%m-%d %H:%M UTC")
    return ctx.w()("generated", when=when)
