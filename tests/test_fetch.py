"""`c2c fetch-data`: the export lands in the destination only when its sha256 is right."""

from __future__ import annotations

import functools
import http.server
import os
import threading

import pytest

import analysis.config
from analysis.config import load_config
from analysis.intake.files import file_sha256
from tests.clirun import run_cli
from tests.synthetic import make_users, write_csv

UNREACHABLE = "http://127.0.0.1:9/users.csv.zip"  # discard port: connection refused


@pytest.fixture
def mirror(tmp_path):
    """A folder holding a small zipped export; returns (folder, file name, sha256)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    path = write_csv(make_users(120, seed=3), folder / "users.csv.zip", zipped=True)
    return folder, path.name, file_sha256(path)


@pytest.fixture
def use_config(monkeypatch):
    """Make the CLI see a config whose [data] section is overridden by the given keys."""
    def apply(**data):
        config = load_config().updated({"data": data})
        monkeypatch.setattr(analysis.config, "load_config", lambda path=None: config)
        return config
    monkeypatch.delenv("C2C_DATA_MIRROR", raising=False)
    return apply


@pytest.fixture
def server(mirror):
    """A local HTTP server serving the mirror folder; yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=mirror[0])
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def files_in(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_copies_from_the_mirror_and_verifies(tmp_path, mirror, use_config, monkeypatch):
    folder, name, sha = mirror
    use_config(filename=name, sha256=sha, url=UNREACHABLE, mirrors=[])
    monkeypatch.setenv("C2C_DATA_MIRROR", str(folder))
    dest = tmp_path / "data" / "raw"
    status, text = run_cli("fetch-data", "--dest", dest)
    assert status == 0, text
    assert "copied from" in text and "sha256 verified" in text
    assert files_in(dest) == [name] and file_sha256(dest / name) == sha
    status, text = run_cli("fetch-data", "--dest", dest)
    assert status == 0 and "already present" in text


def test_config_mirrors_are_relative_to_the_project(tmp_path, mirror, use_config):
    folder, name, sha = mirror
    relative = os.path.relpath(folder, analysis.config.PROJECT_ROOT)
    use_config(filename=name, sha256=sha, url=UNREACHABLE, mirrors=[str(relative)])
    status, text = run_cli("fetch-data", "--dest", tmp_path / "dest")
    assert status == 0, text
    assert file_sha256(tmp_path / "dest" / name) == sha


def test_a_stale_copy_is_replaced(tmp_path, mirror, use_config):
    folder, name, sha = mirror
    use_config(filename=name, sha256=sha, url=UNREACHABLE, mirrors=[str(folder)])
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / name).write_bytes(b"half a download")
    status, text = run_cli("fetch-data", "--dest", dest)
    assert status == 0 and "replaced a copy with the wrong sha256" in text
    assert file_sha256(dest / name) == sha


def test_wrong_checksum_exits_2_and_leaves_nothing(tmp_path, mirror, use_config):
    folder, name, _ = mirror
    use_config(filename=name, sha256="0" * 64, url=UNREACHABLE, mirrors=[str(folder)])
    dest = tmp_path / "dest"
    status, text = run_cli("fetch-data", "--dest", dest)
    assert status == 2
    assert "sha256" in text and "0" * 64 in text and "nothing was written" in text
    assert files_in(dest) == []


def test_no_mirror_and_no_network_exits_2(tmp_path, use_config):
    use_config(filename="absent.csv.zip", sha256="0" * 64, url=UNREACHABLE, mirrors=[])
    dest = tmp_path / "dest"
    status, text = run_cli("fetch-data", "--dest", dest)
    assert status == 2
    assert "no local mirror has it" in text and UNREACHABLE in text
    assert files_in(dest) == []


def test_downloads_with_pooch_and_verifies(tmp_path, mirror, server, use_config):
    _, name, sha = mirror
    use_config(filename=name, sha256=sha, url=f"{server}/{name}", mirrors=[])
    dest = tmp_path / "dest"
    status, text = run_cli("fetch-data", "--dest", dest)
    assert status == 0, text
    assert "downloaded from" in text
    assert files_in(dest) == [name] and file_sha256(dest / name) == sha


def test_a_download_with_the_wrong_checksum_leaves_nothing(tmp_path, mirror, server, use_config):
    _, name, _ = mirror
    use_config(filename=name, sha256="1" * 64, url=f"{server}/{name}", mirrors=[])
    dest = tmp_path / "dest"
    status, text = run_cli("fetch-data", "--dest", dest)
    assert status == 2 and "sha256 does not match" in text
    assert files_in(dest) == []


@pytest.mark.realdata
def test_real_export_from_the_shared_mirror(tmp_path, real_data, monkeypatch):
    monkeypatch.delenv("C2C_DATA_MIRROR", raising=False)
    dest = tmp_path / "raw"
    status, text = run_cli("fetch-data", "--dest", dest)
    assert status == 0, text
    assert files_in(dest) == [real_data.name]
    assert file_sha256(dest / real_data.name) == load_config().data.sha256
