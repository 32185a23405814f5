"""Chart pieces the dashboards share: indicator trends with their target, status markers that
differ by shape as well as colour, suppressed periods marked as such, and escaped hover text."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.context import Context
from dashboards.theme import (
    COLORWAY,
    GREY,
    STATUS_COLOURS,
    STATUS_SYMBOLS,
    esc,
    fmt_value,
    is_missing,
    month_label,
    period_name,
    row_status,
    status_text,
)


def scale(unit: str) -> float:
    """Percent values are fractions in the warehouse and shown as 0-100 on axes."""
    return 100.0 if unit == "percent" else 1.0


def axis_suffix(unit: str, lang: str) -> str:
    return ("\u202f%" if lang == "fr" else "%") if unit == "percent" else ""


def x_label(period_type: str, label: str, lang: str) -> str:
    return month_label(label, lang) if period_type == "month" else label


def value_text(ctx: Context, code: str, row: pd.Series, *, precise: bool = False) -> str:
    """The value as text, 'suppressed' or 'no data' (plain text)."""
    w = ctx.w()
    if bool(row.get("suppressed", False)):
        return w("suppressed")
    if is_missing(row.get("value")):
        return w("no_data")
    return fmt_value(row["value"], ctx.unit(code), ctx.lang, precise=precise)


def ci_text(ctx: Context, code: str, row: pd.Series) -> str:
    if is_missing(row.get("ci_low")) or is_missing(row.get("ci_high")):
        return ""
    unit = ctx.unit(code)
    low = fmt_value(row["ci_low"], unit, ctx.lang, precise=True)
    high = fmt_value(row["ci_high"], unit, ctx.lang, precise=True)
    joiner = " to " if ctx.lang == "en" else " à "
    return f"{ctx.w()('ci')} {low}{joiner}{high}"


def hover_lines(ctx: Context, code: str, row: pd.Series | dict, *, who: str | None = None
                ) -> str:
    """Hover text of one indicator value (a row as a Series or a dict): every piece escaped,
    joined by <br>."""
    w = ctx.w()
    lines = [f"<b>{esc(ctx.name(code))}</b>"]
    if who:
        lines.append(esc(who))
    period = period_name(row["period_type"], row["period_label"], ctx.lang)
    if bool(row.get("is_partial_period", False)):
        period += f" ({w('partial')})"
    lines.append(esc(period))
    lines.append(esc(value_text(ctx, code, row, precise=True)))
    ci = ci_text(ctx, code, row)
    if ci and not row.get("suppressed", False):
        lines.append(esc(ci))
    if not is_missing(row.get("target")) and not row.get("suppressed", False):
        lines.append(esc(f"{w('target')}: {fmt_value(row['target'], ctx.unit(code), ctx.lang)}"))
        lines.append(esc(f"{w('status')}: {row_status(row, ctx.lang)}"))
    return "<br>".join(lines)


def trend_traces(ctx: Context, code: str, rows: pd.DataFrame, *, name: str | None = None,
                 colour: str | None = None, show_target: bool = True, legend: bool = True,
                 ci: bool = False, who: str | None = None, dash: str | None = None,
                 legendgroup: str | None = None, legend_extras: bool | None = None,
                 status_markers: bool = True) -> list[go.Scatter]:
    """Line of an indicator over periods, markers shaped and coloured by status (plain dots in
    the line's colour where there is no target); suppressed periods as grey open squares on
    the axis; the target as a dashed step line. ``legend_extras``: show the 'suppressed' and
    'target' legend entries (default: as ``legend``). ``status_markers=False``: plain dots (for
    a reference line beside another series' statuses)."""
    extras = legend if legend_extras is None else legend_extras
    colour = colour or COLORWAY[0]
    unit = ctx.unit(code)
    k = scale(unit)
    w = ctx.w()
    rows = rows.sort_values("period_start")
    xs = [x_label(p, lab, ctx.lang) for p, lab in zip(rows["period_type"], rows["period_label"],
                                                       strict=True)]
    shown = ~rows["suppressed"] & rows["value"].notna()
    ys = [v * k if ok else None for v, ok in zip(rows["value"], shown, strict=True)]
    statuses = [s if s in STATUS_COLOURS and status_markers else None for s in rows["status"]]
    hover = [hover_lines(ctx, code, r, who=who) for r in rows.to_dict("records")]
    label = esc(name or ctx.name(code))
    traces = []
    error = None
    if ci and rows["ci_low"].notna().any():
        error = {"type": "data", "symmetric": False, "thickness": 1.2, "width": 4,
                 "array": [(h - v) * k if ok and not is_missing(h) else None for h, v, ok in
                           zip(rows["ci_high"], rows["value"], shown, strict=True)],
                 "arrayminus": [(v - lo) * k if ok and not is_missing(lo) else None
                                for lo, v, ok in zip(rows["ci_low"], rows["value"], shown,
                                                     strict=True)]}
    traces.append(go.Scatter(
        x=xs, y=ys, mode="lines+markers", name=label, legendgroup=legendgroup or label,
        showlegend=legend, connectgaps=False, hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>", error_y=error,
        line={"color": colour, "width": 2, "dash": dash},
        marker={"size": [11 if s else 6 for s in statuses],
                "symbol": [STATUS_SYMBOLS[s] if s else "circle" for s in statuses],
                "color": [STATUS_COLOURS[s] if s else colour for s in statuses],
                "line": {"width": [1 if s else 0 for s in statuses], "color": "white"}},
    ))
    hidden = rows["suppressed"].to_numpy()
    if hidden.any():
        traces.append(go.Scatter(
            x=[x for x, h in zip(xs, hidden, strict=True) if h], y=[0] * int(hidden.sum()),
            mode="markers", name=esc(w("suppressed")), legendgroup="suppressed",
            showlegend=extras, hovertext=[t for t, h in zip(hover, hidden, strict=True) if h],
            hovertemplate="%{hovertext}<extra></extra>", cliponaxis=False,
            marker={"symbol": "square-open", "size": 9, "color": GREY},
        ))
    if show_target and rows["target"].notna().any():
        traces.append(go.Scatter(
            x=xs, y=[t * k if not is_missing(t) else None for t in rows["target"]],
            mode="lines", name=esc(w("target")), legendgroup="target", showlegend=extras,
            line={"color": GREY, "dash": "dash", "width": 1.5, "shape": "hvh"},
            hoverinfo="skip",
        ))
    return traces


def status_legend(ctx: Context) -> list[go.Scatter]:
    """Legend entries explaining the status markers (no data: legend only)."""
    return [
        go.Scatter(x=[None], y=[None], mode="markers", name=esc(status_text(s, ctx.lang)),
                   legendgroup=f"status-{s}", marker={"symbol": STATUS_SYMBOLS[s], "size": 9,
                                                      "color": STATUS_COLOURS[s]},
                   hoverinfo="skip")
        for s in ("on_track", "at_risk", "off_track")
    ]


def percent_axis(fig: go.Figure, ctx: Context, unit: str, **where) -> None:
    fig.update_yaxes(ticksuffix=axis_suffix(unit, ctx.lang), rangemode="tozero", **where)


def wrap(text: str, width: int = 45) -> str:
    """Plain text escaped and broken into lines of about ``width`` characters with <br>, for
    plotly titles that would otherwise overflow their subplot."""
    lines, line = [], ""
    for word in str(text).split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(esc(x) for x in lines)
