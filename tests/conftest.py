"""Shared fixtures: the real data beside the checkout and sample bundles built once per run."""
from __future__ import annotations

from pathlib import Path

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SAMPLES = ROOT / "data_samples"


def build_sample_bundle(name: str, base: Path) -> Path:
    """Build sample ``name`` under ``base`` unless an earlier worker already did (file lock)."""
    from loaders.build import build_sample

    out = base / f"bundle-{name}"
    with FileLock(str(base / f"bundle-{name}.lock")):
        if not (out / "manifest.json").exists():
            build_sample(name, out)
    return out


@pytest.fixture(scope="session")
def bundles_dir(tmp_path_factory, worker_id) -> Path:
    # One folder shared by every xdist worker of this run, so each sample is built once.
    base = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        base = base.parent
    path = base / "sample-bundles"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def tiny_town_bundle(bundles_dir) -> Path:
    return build_sample_bundle("tiny_town", bundles_dir)


@pytest.fixture(scope="session")
def monaco_bundle(bundles_dir) -> Path:
    if not (SHARED_DATA / "monaco").exists():
        pytest.skip("../shared/data/monaco is not beside the checkout")
    return build_sample_bundle("monaco", bundles_dir)


@pytest.fixture(scope="session")
def montpellier_bundle(bundles_dir) -> Path:
    if not (SHARED_DATA / "montpellier").exists():
        pytest.skip("../shared/data/montpellier is not beside the checkout")
    return build_sample_bundle("montpellier", bundles_dir)


@pytest.fixture(scope="module")
def town(tiny_town_bundle):
    """The tiny town's network, loaded from its bundle (a module may define its own ``town``)."""
    from loaders.bundle import load_bundle

    return load_bundle(tiny_town_bundle)


@pytest.fixture(scope="module")
def monaco(monaco_bundle):
    """Monaco's network, loaded from its bundle (a module may define its own ``monaco``)."""
    from loaders.bundle import load_bundle

    return load_bundle(monaco_bundle)
