"""Metrics drawn as SVG (matplotlib): what a wiki page, a chat message or an e-mail
embeds as it is. The same figures as the JSON, drawn from the document the JSON shows.

matplotlib is imported on the first chart (it takes a while, and most processes never
draw one); charts are drawn with its object API (no pyplot: no global figure state, safe
in a thread), in a worker thread so the event loop goes on serving meanwhile. Each data
line carries its series' name as its SVG id (``spi``, ``cpi``, ``compliance``,
``planned``, ``actual``) and text stays text (searchable, sharp at any size)."""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

SVG = "image/svg+xml"

_COLOURS = {
    "spi": "#1f77b4",
    "cpi": "#ff7f0e",
    "compliance": "#2ca02c",
    "planned": "#7f7f7f",
    "actual": "#d62728",
    "green": "#2ca02c",
    "amber": "#ffbf00",
    "red": "#d62728",
}
_DRAWING = threading.Lock()
"""One chart drawn at a time: matplotlib's style settings are the process's."""
_STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "pmo-api",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _figure(rows: int) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(8, 3.2 * rows), layout="constrained")


def _svg(figure: Any) -> bytes:
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context(_STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _draw_history(doc: dict[str, Any]) -> bytes:
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        figure = _figure(2)
        trend, money = figure.subplots(2, 1, sharex=True)
        points = doc["points"]
        days = [point["as_of"] for point in points]
        x = list(range(len(days)))
        for name, field, label in (
            ("spi", "spi", "SPI"),
            ("cpi", "cpi", "CPI"),
            ("compliance", "compliance_rate", "Compliance rate"),
        ):
            values = [
                point[field] if point[field] is not None else float("nan") for point in points
            ]
            (line,) = trend.plot(x, values, marker="o", color=_COLOURS[name], label=label)
            line.set_gid(name)
        trend.axhline(1.0, color="#bbbbbb", linewidth=0.8, linestyle="--")
        trend.set_ylabel("ratio")
        trend.legend(loc="best", frameon=False)
        trend.set_title(
            f"{doc['key']} {doc['name']}: trends by {doc['interval']} "
            f"({doc['start']} to {doc['end']})",
            loc="left",
        )
        for name, field, label in (
            ("planned", "planned_budget", "Budget planned"),
            ("actual", "actual_cost", "Actual cost"),
        ):
            values = [float(point[field]) for point in points]
            (line,) = money.plot(x, values, marker="o", color=_COLOURS[name], label=label)
            line.set_gid(name)
        money.set_ylabel("money")
        money.legend(loc="best", frameon=False)
        step = max(1, len(x) // 12)
        money.set_xticks(x[::step], days[::step], rotation=30, ha="right")
        return _svg(figure)


def _draw_rollup(doc: dict[str, Any]) -> bytes:
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        figure = _figure(1)
        budget, health = figure.subplots(1, 2)
        title = f"{doc['key']} {doc['name']}" if "key" in doc else "Organisation"
        figure.suptitle(f"{title}: as of {doc['as_of']}")
        planned, actual = float(doc["budget"]["planned"]), float(doc["budget"]["actual"])
        bars = budget.bar(
            ["Planned", "Actual"],
            [planned, actual],
            color=[_COLOURS["planned"], _COLOURS["actual"]],
        )
        bars[0].set_gid("planned")
        bars[1].set_gid("actual")
        budget.bar_label(bars, labels=[f"{planned:,.2f}", f"{actual:,.2f}"])
        budget.set_title("Budget", loc="left")
        names = ["green", "amber", "red"]
        counts = [doc["by_health"].get(name, 0) for name in names]
        bars = health.bar(names, counts, color=[_COLOURS[name] for name in names])
        for bar, name in zip(bars, names, strict=True):
            bar.set_gid(f"health-{name}")
        health.bar_label(bars)
        value = doc["earned_value"]
        spi = "n/a" if value["spi"] is None else f"{value['spi']:.3f}"
        cpi = "n/a" if value["cpi"] is None else f"{value['cpi']:.3f}"
        health.set_title(f"Projects by health (SPI {spi}, CPI {cpi})", loc="left")
        return _svg(figure)


async def history_chart(doc: dict[str, Any]) -> bytes:
    """Trend lines of SPI, CPI and compliance; budget planned against actual."""
    return await asyncio.to_thread(_locked, _draw_history, doc)


async def rollup_chart(doc: dict[str, Any]) -> bytes:
    """Budget planned against actual, and the projects by health."""
    return await asyncio.to_thread(_locked, _draw_rollup, doc)


def _locked(draw: Any, doc: dict[str, Any]) -> bytes:
    with _DRAWING:
        return draw(doc)  # type: ignore[no-any-return]
