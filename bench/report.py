"""The benchmark's table and the issue's targets, computed from the measured rows."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from bench.load import Measured

DIRECT = "direct"
FORWARDER = "forwarder"
GATEWAY = "gateway"
FAILOVER = "failover (primary refused)"
FAILOVER_RETRIES = "failover, primary max_retries=2"
BREAKER = "breaker open (primary refused)"
ACCESS_LOG = "gateway, access log on"
CACHE_HITS = "gateway, score cache hits"
WORKERS = "gateway --workers {n}"
NO_FAST_LANE = "gateway, fast lane off"


@attrs.frozen(kw_only=True)
class Row:
    """One cell of the benchmark: what was measured, at which size and concurrency, and its result."""

    label: str
    docs: int
    conc: int
    measured: Measured | None
    rss_mb: float | None = None
    #: CPU time (user + system) the server under test spent per request during the cell.
    cpu_us: float | None = None
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        """The row as plain JSON-able values."""
        return attrs.asdict(self)


def find(rows: Sequence[Row], label: str, docs: int, conc: int) -> Row | None:
    """The measured row with this label, size and concurrency, if any."""
    for row in rows:
        if row.label == label and row.docs == docs and row.conc == conc and row.measured is not None:
            return row
    return None


def _ms(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: Sequence[Row]) -> str:
    """One fixed-width table: every row with its figures relative to direct and to the forwarder."""
    head = (
        f"{'row':<32} {'docs':>5} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} "
        f"{'+p50 ms':>8} {'+p99 ms':>8} {'vs fwd':>7} {'CPU us':>7} {'RSS MB':>7} {'errors':>6}"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        m = row.measured
        if m is None:
            lines.append(f"{row.label:<32} {row.docs:>5} {row.conc:>4}  skipped: {row.note}")
            continue
        direct = find(rows, DIRECT, row.docs, row.conc)
        fwd = find(rows, FORWARDER, row.docs, row.conc)
        added = direct is not None and row.label != DIRECT
        add50 = m.p50 - direct.measured.p50 if added and direct and direct.measured else None
        add99 = m.p99 - direct.measured.p99 if added and direct and direct.measured else None
        ratio = m.rps / fwd.measured.rps if fwd and fwd.measured and fwd.measured.rps and row.label != DIRECT else None
        lines.append(
            f"{row.label:<32} {row.docs:>5} {row.conc:>4} {m.rps:>8.0f} {m.p50:>8.2f} {m.p99:>8.2f} {m.p999:>9.2f} "
            f"{_ms(add50):>8} {_ms(add99):>8} {_ms(ratio):>7} {_ms(row.cpu_us, 0):>7} {_ms(row.rss_mb, 1):>7} "
            f"{m.errors:>6}" + (f"  {row.note}" if row.note else "")
        )
    return "\n".join(lines)


def _line(name: str, figure: str, ok: bool | None, why: str = "") -> str:
    mark = "n/a" if ok is None else ("MET" if ok else "NOT MET")
    return f"  {name:<60} {figure:>10}  {mark}{'  (' + why + ')' if why else ''}"


def targets(rows: Sequence[Row]) -> list[str]:
    """The issue's targets, each with its measured figure and MET / NOT MET (or why it is unknown)."""
    out: list[str] = []
    gw64, fwd64 = find(rows, GATEWAY, 20, 64), find(rows, FORWARDER, 20, 64)
    if gw64 and fwd64 and gw64.measured and fwd64.measured:
        share = gw64.measured.rps / fwd64.measured.rps
        out.append(_line("c=64, 20 docs: gateway >= 65% of forwarder req/s", f"{share:.0%}", share >= 0.65))
        if gw64.cpu_us and fwd64.cpu_us:
            cpu = fwd64.cpu_us / gw64.cpu_us
            why = "forwarder CPU per request / gateway's: the req/s ratio if each had a core to itself"
            out.append(_line("c=64, 20 docs: same, from CPU time per request", f"{cpu:.0%}", cpu >= 0.65, why))
    gw1, d1 = find(rows, GATEWAY, 20, 1), find(rows, DIRECT, 20, 1)
    if gw1 and d1 and gw1.measured and d1.measured:
        add50, add99 = gw1.measured.p50 - d1.measured.p50, gw1.measured.p99 - d1.measured.p99
        fwd1 = find(rows, FORWARDER, 20, 1)
        floor = ""
        if fwd1 and fwd1.measured:
            f50, f99 = fwd1.measured.p50 - d1.measured.p50, fwd1.measured.p99 - d1.measured.p99
            floor = f"the bare forwarder adds {f50:.2f} ms p50, {f99:.2f} ms p99"
        out.append(_line("c=1, 20 docs: added p50 <= 0.4 ms", f"{add50:.2f} ms", add50 <= 0.4, floor))
        out.append(_line("c=1, 20 docs: added p99 <= 2 ms", f"{add99:.2f} ms", add99 <= 2.0))
    out.extend(_linear(rows))
    for docs in sorted({r.docs for r in rows}):
        rss = [r.rss_mb for r in rows if r.rss_mb is not None and r.label != FORWARDER and r.docs == docs]
        if rss:
            name = f"peak RSS per gateway process < 100 MB, {docs}-doc cells"
            out.append(_line(name, f"{max(rss):.1f} MB", max(rss) < 100))
    for label, limit in ((FAILOVER, 2.0), (BREAKER, 0.2)):
        name = f"{label}: adds < {limit:g} ms over gateway (c=1 p50)"
        row = find(rows, label, 20, 1)
        if row is None or row.measured is None or gw1 is None or gw1.measured is None:
            skipped = next((r for r in rows if r.label == label and r.measured is None), None)
            out.append(_line(name, "-", None, skipped.note if skipped else "not run"))
            continue
        extra = row.measured.p50 - gw1.measured.p50
        out.append(_line(name, f"{extra:.2f} ms", extra < limit))
    return out


def _linear(rows: Sequence[Row]) -> list[str]:
    """No worse than linear: from 200 to 1,000 documents (x5) the added p50 at c=1 grows at most x6."""
    added = {}
    for docs in (20, 200, 1000):
        gw, d = find(rows, GATEWAY, docs, 1), find(rows, DIRECT, docs, 1)
        if gw and d and gw.measured and d.measured:
            added[docs] = gw.measured.p50 - d.measured.p50
    if 200 not in added or 1000 not in added or added[200] <= 0:
        return []
    growth = added[1000] / added[200]
    per_doc = ", ".join(f"{n} docs {a / n * 1000:.1f} us/doc" for n, a in sorted(added.items()))
    return [
        _line("1,000 docs no worse than linear: added p50 200->1000 docs <= x6", f"x{growth:.2f}", growth <= 6, per_doc)
    ]
