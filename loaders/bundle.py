"""Save and load a :class:`engine.model.Network` as a bundle folder.

Layout of a bundle::

    manifest.json          format version, build info, input sha256, counts, warnings,
                           scalar fields, and the sha256 and shape of every array file
    street/indptr.npy ...  numeric arrays, one .npy each (allow_pickle=False, memory-mapped)
    timetable/stop_ids.json ...  string arrays (id maps) as JSON lists

A bundle is written to a temporary sibling folder and renamed into place, so a crash never leaves
half a bundle under the final name. Loading checks the format version and (by default) every
file's sha256; a missing, truncated or altered file raises :class:`BundleError` naming the file.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from engine import model

FORMAT_VERSION = 1
MANIFEST = "manifest.json"

# Nested dataclasses a bundle may hold, by the name written in the manifest.
_CLASSES = {cls.__name__: cls for cls in (
    model.Network, model.StreetGraph, model.Timetable, model.Parking, model.OccupancyHistory,
    model.OccupancyProfile, model.LocalProjection, model.StreetZones)}


class BundleError(Exception):
    """A bundle that cannot be loaded: missing, corrupted, truncated or of another format."""


def sha256_file(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def _is_string_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind in "UOS"


def _flatten(obj, prefix: str, out_dir: Path, files: dict) -> dict:
    """Write obj's array fields under out_dir/prefix; return its JSON description."""
    desc = {"__class__": type(obj).__name__, "fields": {}}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        rel = f"{prefix}{f.name}"
        if value is None:
            desc["fields"][f.name] = None
        elif dataclasses.is_dataclass(value):
            desc["fields"][f.name] = _flatten(value, f"{rel}/", out_dir, files)
        elif _is_string_array(value):
            path = out_dir / f"{rel}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps([str(s) for s in value.tolist()], ensure_ascii=False),
                            encoding="utf-8")
            files[f"{rel}.json"] = {"kind": "strings"}
            desc["fields"][f.name] = {"__file__": f"{rel}.json"}
        elif isinstance(value, np.ndarray):
            path = out_dir / f"{rel}.npy"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, np.ascontiguousarray(value), allow_pickle=False)
            files[f"{rel}.npy"] = {"kind": "array", "dtype": value.dtype.str,
                                   "shape": list(value.shape)}
            desc["fields"][f.name] = {"__file__": f"{rel}.npy"}
        elif isinstance(value, tuple):
            desc["fields"][f.name] = {"__tuple__": list(value)}
        else:
            json.dumps(value)  # fail early on anything not JSON-able
            desc["fields"][f.name] = value
    return desc


def save_bundle(network: model.Network, out_dir: str | Path, *, inputs: dict | None = None,
                report: dict | None = None, counts: dict | None = None) -> Path:
    """Write ``network`` as a bundle folder at ``out_dir``, atomically.

    ``inputs`` maps a role ("gtfs", "osm"...) to a list of {"path", "sha256"}; ``report`` is the
    build report's JSON; ``counts`` the figures ``trajet info`` prints. Returns the final path.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        files: dict = {}
        tree = _flatten(network, "", tmp, files)
        hierarchy = _save_street_hierarchy(network, tmp, files)
        for rel, info in files.items():
            info["sha256"] = sha256_file(tmp / rel)
            info["bytes"] = (tmp / rel).stat().st_size
        manifest = {
            "format": "trajet-bundle",
            "format_version": FORMAT_VERSION,
            "built_at_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "inputs": inputs or {},
            "counts": counts or {},
            "report": report or {},
            "files": files,
            "network": tree,
        }
        if hierarchy:
            manifest["street_hierarchy"] = hierarchy
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False),
                                    encoding="utf-8")
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def read_manifest(bundle_dir: str | Path) -> dict:
    """The manifest of a bundle, after checking it is a trajet bundle of this format version."""
    bundle_dir = Path(bundle_dir)
    path = bundle_dir / MANIFEST
    if not path.is_file():
        raise BundleError(f"{bundle_dir} is not a trajet bundle: {MANIFEST} is missing "
                          f"(build one with `trajet build ... --out {bundle_dir}`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path} is corrupted: {exc}; rebuild the bundle") from None
    if not isinstance(manifest, dict) or manifest.get("format") != "trajet-bundle":
        raise BundleError(f"{path} is not a trajet bundle manifest; rebuild the bundle")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(f"{bundle_dir} has bundle format {version}, this trajet reads format "
                          f"{FORMAT_VERSION}; rebuild it with `trajet build`")
    return manifest


def _load_file(bundle_dir: Path, rel: str, info: dict, verify: bool):
    path = bundle_dir / rel
    if not path.is_file():
        raise BundleError(f"{path} is missing from the bundle; rebuild it")
    if path.stat().st_size != info.get("bytes", path.stat().st_size):
        raise BundleError(f"{path} is truncated or altered ({path.stat().st_size} bytes, "
                          f"manifest says {info['bytes']}); rebuild the bundle")
    if verify and sha256_file(path) != info.get("sha256"):
        raise BundleError(f"{path} does not match its sha256 in the manifest; rebuild the bundle")
    try:
        if info["kind"] == "strings":
            return np.array(json.loads(path.read_text(encoding="utf-8")), dtype=str)
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path} cannot be read ({exc}); rebuild the bundle") from None
    if list(arr.shape) != info["shape"] or arr.dtype.str != info["dtype"]:
        raise BundleError(f"{path} has shape {arr.shape} {arr.dtype}, manifest says "
                          f"{info['shape']} {info['dtype']}; rebuild the bundle")
    # a plain read-only ndarray over the same mapped pages: np.memmap's Python-level
    # __getitem__ costs microseconds on every scalar read outside the kernels
    return np.asarray(arr)


def _unflatten(desc: dict, bundle_dir: Path, files: dict, verify: bool):
    cls = _CLASSES.get(desc.get("__class__"))
    if cls is None:
        raise BundleError(f"{bundle_dir}: unknown object {desc.get('__class__')!r} in manifest")
    kwargs = {}
    for name, value in desc["fields"].items():
        if isinstance(value, dict) and "__class__" in value:
            kwargs[name] = _unflatten(value, bundle_dir, files, verify)
        elif isinstance(value, dict) and "__file__" in value:
            rel = value["__file__"]
            if rel not in files:
                raise BundleError(f"{bundle_dir}: {rel} is not listed in the manifest")
            kwargs[name] = _load_file(bundle_dir, rel, files[rel], verify)
        elif isinstance(value, dict) and "__tuple__" in value:
            kwargs[name] = tuple(value["__tuple__"])
        else:
            kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise BundleError(f"{bundle_dir}: {cls.__name__} fields do not match this trajet "
                          f"({exc}); rebuild the bundle") from None


def load_bundle(bundle_dir: str | Path, *, verify: bool = True) -> model.Network:
    """Load a bundle as a Network whose arrays are read-only memory maps.

    ``verify`` checks every file's sha256 (a few hundred ms on a city bundle). Raises
    :class:`BundleError` naming the file for any missing, corrupted or mismatched part.
    """
    bundle_dir = Path(bundle_dir)
    manifest = read_manifest(bundle_dir)
    network = _unflatten(manifest["network"], bundle_dir, manifest.get("files", {}), verify)
    if not isinstance(network, model.Network):
        raise BundleError(f"{bundle_dir}: the manifest does not describe a Network")
    _load_street_hierarchy(network, manifest, bundle_dir, verify)
    return network


def load_parking(bundle_dir: str | Path, *, verify: bool = True) -> tuple[model.Parking, str]:
    """(the bundle's parking facilities, the network's timezone) without the rest of the network:
    what a process that only stores live readings (the live-feed pollers) needs.

    Raises :class:`BundleError` like :func:`load_bundle`.
    """
    bundle_dir = Path(bundle_dir)
    manifest = read_manifest(bundle_dir)
    fields = manifest["network"].get("fields", {})
    if not isinstance(fields.get("parking"), dict):
        raise BundleError(f"{bundle_dir}: the manifest describes no parking; rebuild the bundle")
    parking = _unflatten(fields["parking"], bundle_dir, manifest.get("files", {}), verify)
    if not isinstance(parking, model.Parking):
        raise BundleError(f"{bundle_dir}: the manifest's parking is not a Parking")
    return parking, str(fields.get("timezone", "UTC"))


# The street graph's contraction hierarchy (engine.street.ch), when the build made one: the
# metric-independent topology under street_hierarchy/topology/, the metric of each mode's stored
# costs under street_hierarchy/<MODE>/. Loading hands them (memory-mapped) to the graph.
_HIERARCHY_DIR = "street_hierarchy"


def _save_street_hierarchy(network: model.Network, out_dir: Path, files: dict) -> dict | None:
    from engine import street

    built = street.built_hierarchy(network.street) if network.street is not None else None
    if built is None:
        return None
    topology, metrics = built
    parts = {"topology": topology.arrays(), **{m.name: metric.arrays() for m, metric in metrics.items()}}
    for part, arrays in parts.items():
        for name, value in arrays.items():
            rel = f"{_HIERARCHY_DIR}/{part}/{name}.npy"
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            np.save(out_dir / rel, np.ascontiguousarray(value), allow_pickle=False)
            files[rel] = {"kind": "array", "dtype": value.dtype.str, "shape": list(value.shape)}
    return {"modes": [m.name for m in metrics]}


def _load_street_hierarchy(network: model.Network, manifest: dict, bundle_dir: Path, verify: bool):
    from engine import street

    desc = manifest.get("street_hierarchy")
    if not desc or network.street is None:
        return
    files = manifest.get("files", {})

    def arrays(part: str, cls) -> dict:
        out = {}
        for name in cls.__dataclass_fields__:
            rel = f"{_HIERARCHY_DIR}/{part}/{name}.npy"
            if rel not in files:
                raise BundleError(f"{bundle_dir}: {rel} is not listed in the manifest; rebuild the bundle")
            out[name] = _load_file(bundle_dir, rel, files[rel], verify)
        return out

    topology = street.CchTopology(**arrays("topology", street.CchTopology))
    metrics = {model.Mode[name]: street.CchMetric(**arrays(name, street.CchMetric))
               for name in desc.get("modes", [])}
    try:
        street.attach_hierarchy(network.street, topology, metrics)
    except ValueError as exc:
        raise BundleError(f"{bundle_dir}: {exc}; rebuild the bundle") from None
