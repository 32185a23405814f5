"""Security defaults: the Dagster UI listens on localhost only, and no secret is in the repo."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _listening(port: int) -> list[str]:
    """Local addresses of the sockets listening on ``port`` (IPv4 and IPv6), from /proc."""
    addresses = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            host, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                addresses.append(host)
    return addresses


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_dagster_ui_listens_on_localhost_only(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "dev", "--port", str(port)],
        env={**os.environ, "DAGSTER_HOME": str(home)}, cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _listening(port):
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the Dagster UI never started listening"
            time.sleep(0.5)
        addresses = _listening(port)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert addresses == ["0100007F"], addresses  # 127.0.0.1, and no 0.0.0.0 or [::]
    # nor does it tell the user to run `dg dev`, which pocmon does not install
    said = process.stdout.read()
    assert "Serving dagster-webserver" in said and "dg dev" not in said, said


SECRET_PATTERNS = [
    re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(rb"(?i)(password|passwd|secret|token|api_key)\s*[:=]\s*['\"]?[A-Za-z0-9/+]{16,}"),
    re.compile(rb"\b[0-9a-f]{64}\b"),  # a pseudonymisation key as pocmon writes them
]
CHECKSUM = re.compile(rb"(?i)sha-?256")  # a published checksum looks like a key


def test_no_secret_in_the_repository_or_dagster_yaml() -> None:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                             check=True).stdout.split(b"\0")
    files = [REPO / name.decode() for name in tracked if name]
    assert REPO / "dagster.yaml" in files
    hits = []
    for path in files:
        if not path.is_file() or path.suffix in {".png", ".json"}:
            continue
        data = path.read_bytes()
        for pattern in SECRET_PATTERNS:
            hits += [(path.name, match.group()[:20]) for match in pattern.finditer(data)
                     if not CHECKSUM.search(data[max(match.start() - 40, 0):match.start()])]
    assert hits == []
    assert not [f for f in files if f.suffix in {".key", ".duckdb", ".pem"}]
    ignored = subprocess.run(["git", "check-ignore", "data/secrets/pseudonym.key",
                              "data/warehouse/pocmon.duckdb"], cwd=REPO, capture_output=True,
                             text=True, check=False).stdout.split()
    assert ignored == ["data/secrets/pseudonym.key", "data/warehouse/pocmon.duckdb"]
    assert "key" not in (REPO / "dagster.yaml").read_text().lower().replace("# ", "")
