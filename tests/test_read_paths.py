"""The fast CSV reader (pyarrow) and the row-by-row reader give the same frame, file by file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.contracts import load_contract
from pipelines.ingest import read
from pipelines.ingest.read import FileRejected, read_file

CORPUS = Path(__file__).parent / "bad_input"


@pytest.fixture(scope="module")
def csv_files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Path]]:
    from pipelines.demo.generator import generate_demo

    inbox = tmp_path_factory.mktemp("read_paths")
    generate_demo(inbox, weeks=8, seed=5)
    files = [(p.parent.name, p) for p in sorted(inbox.rglob("*.csv"))]
    assert len(files) > 30
    return files + [(p.parent.name, p) for p in sorted(CORPUS.rglob("*.csv"))]


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells with every missing one as None (NaN and None mean the same: empty)."""
    return frame.astype(object).where(frame.notna(), None)


def _slow(path: Path, source: str, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as patch:
        patch.setattr(read, "_fast_csv", lambda *args: None)
        return read_file(path, load_contract(source))


def test_both_readers_agree_and_the_fast_one_takes_the_plain_files(
    csv_files: list[tuple[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    compared, fast_used = 0, set()
    for source, path in csv_files:
        contract = load_contract(source)
        try:
            slow = _slow(path, source, monkeypatch)
        except FileRejected:
            continue
        fast = read_file(path, contract)
        compared += 1
        text, notes = read._decode(path.read_bytes(), path.name)
        if read._fast_csv(text, contract, path.name, list(notes)) is not None:
            fast_used.add(path)
        assert fast.rows_read == slow.rows_read, path
        assert [p.__dict__ for p in fast.problems] == [p.__dict__ for p in slow.problems], path
        assert fast.ignored_columns == slow.ignored_columns, path
        pd.testing.assert_frame_equal(_cells(fast.frame), _cells(slow.frame),
                                      check_index_type=False, obj=str(path))
    demo_files = {path for _, path in csv_files if CORPUS not in path.parents}
    assert compared > len(demo_files) + 10
    assert fast_used >= demo_files  # every plain demo file; odd corpus files row by row


@pytest.mark.parametrize(("text", "needs_care"), [
    ('a;"b";c\n"d";e\n', False),         # quoted cells only
    ('a;"b ""x"" c";d\n', True),         # a doubled quote inside a quoted cell
    ('"a"b;c\n', True),                  # text after a closing quote
    ('a;b"c;d\n', True),                 # a quote inside an unquoted cell
    ('a;"b"c\n', True),
    ('a;"b\n', True),                    # a quote left open
    ('a;b\n"c";"d"\r\n"e";f', False),     # quotes opening lines, closing them (CRLF)
    ('a,"b",c\n', True),                 # in a ';' file, ',' is cell text: a quote inside
])
def test_quotes_needing_the_row_by_row_reader(text: str, needs_care: bool) -> None:
    assert read._quotes_need_care(text, ";") is needs_care
