"""The sample manifest: local copies first, otherwise a download checked by sha256."""
import hashlib
import json

import pytest

from loaders import samples
from loaders.samples import SampleError, resolve_file, resolve_sample
from tests.conftest import SHARED_DATA


def _manifest(tmp_path, payload: bytes, sha: str | None = None) -> dict:
    source = tmp_path / "remote" / "feed.zip"
    source.parent.mkdir()
    source.write_bytes(payload)
    return {"files": {"city/feed.zip": {"file": "city/feed.zip", "bytes": len(payload),
                                        "sha256": sha or hashlib.sha256(payload).hexdigest(),
                                        "url": source.as_uri()}},
            "samples": {"city": {"gtfs": ["shared:city/feed.zip"]}}}


@pytest.fixture
def no_local_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(samples, "shared_data_dirs", lambda: [tmp_path / "nowhere"])
    monkeypatch.setenv("TRAJET_CACHE_DIR", str(tmp_path / "cache"))


def test_a_missing_shared_file_is_downloaded_once_into_the_cache(tmp_path, no_local_copy):
    manifest = _manifest(tmp_path, b"GTFS bytes")
    path = resolve_file("shared:city/feed.zip", manifest)
    assert path == tmp_path / "cache" / "city" / "feed.zip" and path.read_bytes() == b"GTFS bytes"
    (tmp_path / "remote" / "feed.zip").unlink()            # second time: from the cache
    assert resolve_file("shared:city/feed.zip", manifest) == path


def test_a_download_with_the_wrong_sha256_is_refused_and_not_kept(tmp_path, no_local_copy):
    manifest = _manifest(tmp_path, b"tampered", sha="0" * 64)
    with pytest.raises(SampleError, match="sha256"):
        resolve_file("shared:city/feed.zip", manifest)
    assert not (tmp_path / "cache" / "city" / "feed.zip").exists()


def test_unknown_samples_and_references_are_named():
    with pytest.raises(SampleError, match="unknown sample 'atlantis'; known: .*monaco"):
        resolve_sample("atlantis")
    with pytest.raises(SampleError, match="bad file reference"):
        resolve_file("ftp:somewhere")


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not beside the checkout")
def test_the_manifest_matches_the_shared_files_byte_for_byte():
    manifest = samples.load_manifest()
    for rel, entry in manifest["files"].items():
        path = SHARED_DATA / rel
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], rel
        assert entry["url"].startswith("https://raw.githubusercontent.com/")
    recipe = resolve_sample("monaco")
    assert recipe.osm.name == "monaco.osm.pbf" and recipe.parking_history.exists()
    assert json.loads(samples.MANIFEST_PATH.read_text())["default"] == "monaco"
