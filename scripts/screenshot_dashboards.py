"""Full-page PNG screenshots of the dashboards, for the README (docs/img/ by default).

    python scripts/screenshot_dashboards.py                       # data/published/dashboards
    python scripts/screenshot_dashboards.py --warehouse data/warehouse/pocmon.duckdb
    python scripts/screenshot_dashboards.py --dashboards DIR --out docs/img --width 1280

With ``--warehouse`` the dashboards are first built from that warehouse (opened read-only) into
a temporary folder; otherwise the pages already in ``--dashboards`` are used. Needs playwright
and the system Chromium (``apt-get install -y chromium``); nothing is fetched from the network.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dashboards.browser import browser, open_page  # noqa: E402


def screenshot(pages: list[Path], out: Path, width: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with browser(width=width) as context:
        for path in pages:
            page, visit = open_page(context, path)
            problems = visit.console_errors + visit.page_errors + [
                url for url in visit.requests if not url.startswith("file://")]
            if problems:
                print(f"warning: {path.name}: {problems}", file=sys.stderr)
            target = out / f"{path.stem}.png"
            page.screenshot(path=str(target), full_page=True)
            page.close()
            written.append(target)
            print(f"{target} ({target.stat().st_size // 1024} KiB)")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dashboards", type=Path,
                        default=REPO / "data" / "published" / "dashboards",
                        help="folder of built dashboards (default: %(default)s)")
    parser.add_argument("--warehouse", type=Path,
                        help="build the dashboards from this DuckDB warehouse first")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img",
                        help="where to write the PNG files (default: %(default)s)")
    parser.add_argument("--width", type=int, default=1280, help="viewport width in pixels")
    parser.add_argument("--only", nargs="*", default=None,
                        help="page stems to shoot, e.g. leadership_MINUSCA (default: all)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pocmon-dashboards-") as tmp:
        folder = args.dashboards
        if args.warehouse:
            import duckdb

            from dashboards.build import build_dashboards

            folder = Path(tmp)
            con = duckdb.connect(str(args.warehouse), read_only=True)
            try:
                build_dashboards(con, folder)
            finally:
                con.close()
        pages = sorted(p for p in folder.glob("*.html") if p.name != "index.html")
        if args.only:
            pages = [p for p in pages if p.stem in set(args.only)]
        if not pages:
            print(f"no dashboards in {folder}: build them first (or pass --warehouse)",
                  file=sys.stderr)
            return 1
        screenshot(pages, args.out, args.width)
    print(f"{len(pages)} screenshot(s) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
