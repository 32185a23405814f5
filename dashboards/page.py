"""One dashboard page: escaped HTML around plotly charts, with plotly.js inside the file.

Choices, documented:

* plotly.js is embedded in every page (about 4.7 MB) rather than written once beside them: a
  page is often forwarded alone (by e-mail, on a USB key, to a shared drive) and must still
  draw its charts, offline, whatever folder it lands in. A shared copy would save space but
  leave blank pages as soon as one file travels without it.
* Nothing is fetched at run time: no CDN, no web font, no MathJax, no map tiles. Maps use the
  world outline from ``assets/world_110m.json``, handed to plotly.js before any chart is drawn
  (``window.PlotlyGeoAssets``), so it never asks its CDN for it.
* A French page registers a small French locale for plotly.js (month names, separators, the
  tool-bar's tooltips) and sets ``<html lang="fr">``.
* Every text from the warehouse is escaped by the caller (``theme.esc``); this module escapes
  the titles and table cells it is given as plain text, and writes only its own markup.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from dashboards.theme import CSS, MONTHS, MONTHS_LONG, attr, esc

ASSETS = Path(__file__).with_name("assets")
WORLD_TOPOJSON = ASSETS / "world_110m.json"

FRENCH_LOCALE = {
    "moduleType": "locale", "name": "fr",
    "dictionary": {
        "Download plot as a PNG": "Télécharger le graphique en PNG",
        "Download plot": "Télécharger le graphique",
        "Zoom": "Zoom", "Pan": "Déplacer", "Reset axes": "Réinitialiser les axes",
        "Autoscale": "Échelle automatique", "Zoom in": "Zoomer", "Zoom out": "Dézoomer",
        "Reset view": "Réinitialiser la vue", "Reset": "Réinitialiser",
        "Double-click on legend to isolate one trace":
            "Double-cliquer sur la légende pour isoler une série",
        "Click to enter Colorscale title": "Cliquer pour saisir le titre de l'échelle",
    },
    "format": {
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": MONTHS_LONG["fr"], "shortMonths": MONTHS["fr"],
        "date": "%d/%m/%Y", "decimal": ",", "thousands": " ",
    },
}


def plot_config(lang: str, name: str) -> dict:
    """plotly.js config: no logo or links, one download button, the language's locale."""
    return {
        "displaylogo": False, "responsive": True, "locale": lang, "modeBarButtonsToRemove": [
            "select2d", "lasso2d", "autoScale2d", "toggleSpikelines", "hoverClosestCartesian",
            "hoverCompareCartesian", "sendDataToCloud"],
        "toImageButtonOptions": {"filename": name, "format": "png", "scale": 2},
        # never used (the world outline is embedded), but keep plotly.js off the network
        "topojsonURL": "./",
    }


@dataclass
class Page:
    """A dashboard page being written: sections of HTML in order."""

    title: str  # plain text
    lang: str
    name: str  # file stem, e.g. leadership_MINUSCA
    subtitle: str = ""  # plain text
    nav: list[tuple[str, str]] = field(default_factory=list)  # (href, plain label)
    parts: list[str] = field(default_factory=list)
    uses_geo: bool = False
    figures: int = 0

    def h2(self, text: str, anchor: str | None = None) -> None:
        ident = f' id="{attr(anchor)}"' if anchor else ""
        self.parts.append(f"<h2{ident}>{esc(text)}</h2>")

    def finding(self, text: str) -> None:
        """A heading that states what the data show."""
        text = text[:1].upper() + text[1:]
        self.parts.append(f'<h3 class="finding">{esc(text)}</h3>')

    def note(self, text: str) -> None:
        self.parts.append(f'<p class="note">{esc(text)}</p>')

    def empty(self, text: str) -> None:
        self.parts.append(f'<p class="empty">{esc(text)}</p>')

    def html(self, markup: str) -> None:
        """Markup built by the caller from escaped pieces."""
        self.parts.append(markup)

    def figure(self, fig: go.Figure, *, height: int | None = None) -> None:
        self.figures += 1
        div_id = f"{self.name}-chart-{self.figures}"
        if any(trace.type in ("scattergeo", "choropleth") for trace in fig.data):
            self.uses_geo = True
        markup = pio.to_html(
            fig, config=plot_config(self.lang, f"{self.name}-{self.figures}"),
            include_plotlyjs=False, include_mathjax=False, full_html=False, div_id=div_id,
            default_height=f"{height or fig.layout.height or 380}px", default_width="100%",
            validate=True,
        )
        self.parts.append(f'<div class="chart">{markup}</div>')

    def table(self, header: list[str], rows: list[list[str]], *,
              numeric: set[int] | None = None) -> None:
        """A table of cells that are already escaped markup (use esc for plain text)."""
        numeric = numeric or set()
        head = "".join(f"<th>{esc(h)}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(
                f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
                for i, cell in enumerate(row)) + "</tr>"
            for row in rows)
        self.parts.append(f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
                          f"<tbody>{body}</tbody></table></div>")

    def render(self, generated: str) -> str:
        nav = " ".join(f'<a href="{attr(href)}">{esc(label)}</a>' for href, label in self.nav)
        scripts = [f"<script>{_plotlyjs()}</script>"]
        if self.lang == "fr":
            scripts.append(f"<script>Plotly.register({_json(FRENCH_LOCALE)});</script>")
        if self.uses_geo:
            scripts.append("<script>window.PlotlyGeoAssets=window.PlotlyGeoAssets||"
                           "{topojson:{}};window.PlotlyGeoAssets.topojson.world_110m="
                           f"{_world_topojson()};</script>")
        return "\n".join([
            "<!doctype html>",
            f'<html lang="{attr(self.lang)}"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            # nothing may leave the page: no fetch, no image, no font from anywhere
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
            "img-src data: blob:; font-src data:; worker-src blob:; connect-src 'none'\">",
            f"<title>{esc(self.title)}</title>",
            f"<style>{CSS}</style>", *scripts, "</head><body>",
            f"<header><nav>{nav}</nav><h1>{esc(self.title)}</h1>",
            f'<p class="muted">{esc(self.subtitle)}</p></header>',
            "<main>", *self.parts, "</main>",
            f'<footer class="muted">{esc(generated)}</footer>',
            "</body></html>",
        ])


def _json(value: object) -> str:
    return _script_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _script_text(text: str) -> str:
    """Text safe inside <script>: no '</script' or '<!--' can close or confuse it."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


@cache
def _plotlyjs() -> str:
    """plotly.js as shipped with plotly (it never contains a closing script tag)."""
    source = get_plotlyjs()
    if "</script" in source.lower():  # pragma: no cover - a broken plotly release
        raise RuntimeError("plotly.js contains '</script': cannot embed it")
    return source


@cache
def _world_topojson() -> str:
    return _json(json.loads(WORLD_TOPOJSON.read_text(encoding="utf-8")))


def generated_at() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
