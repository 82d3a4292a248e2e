"""Path arguments: anything but a string or an os.PathLike is refused by name, before
``pathlib`` raises a TypeError that does not say which argument was wrong."""

from __future__ import annotations

import numpy as np
import pytest

from learnlds.datasets import IOData, read_fields, read_inputs, read_table
from learnlds.datasets.readers import open_npy, open_zarr
from learnlds.distributed import open_npy_stack, open_zarr_sequences, save_npy_stack
from learnlds.errors import ParameterError
from learnlds.modelfile import load, load_with_metadata, read_metadata

READERS = {
    "read_table": read_table,
    "read_fields": read_fields,
    "read_inputs": lambda p: read_inputs(p, 1),
    "open_npy": open_npy,
    "open_zarr": open_zarr,
    "IOData.from_file": IOData.from_file,
    "open_npy_stack": open_npy_stack,
    "open_zarr_sequences": open_zarr_sequences,
    "load": load,
    "read_metadata": read_metadata,
    "load_with_metadata": load_with_metadata,
}


@pytest.mark.parametrize("name", sorted(READERS))
@pytest.mark.parametrize("bad", [None, 3, 2.5, b"model.json", ""])
def test_readers_refuse_what_is_not_a_path(name, bad):
    with pytest.raises(ParameterError, match="path|folder"):
        READERS[name](bad)


def test_writers_refuse_what_is_not_a_path():
    u = np.zeros((2, 5))
    with pytest.raises(ParameterError, match="folder: expected a file path"):
        save_npy_stack(None, u, u)


def test_a_pathlike_still_reads(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("u,y\n1,2\n3,4\n5,7\n")
    header, data = read_table(path)
    assert header == ["u", "y"] and data.shape == (3, 2)
    assert read_table(str(path))[1].shape == (3, 2)


@pytest.mark.parametrize("kind", ["canonical", "state-space"])
def test_save_refuses_a_bad_path_and_metadata_json_cannot_hold(kind, tmp_path):
    from learnlds import CanonicalSystem
    from learnlds.statespace import StateSpaceSystem

    model = CanonicalSystem([-0.5], [1.0])
    if kind == "state-space":
        model = StateSpaceSystem.from_canonical(model)
    with pytest.raises(ParameterError, match="path: expected a file path"):
        model.save(None)
    with pytest.raises(ParameterError, match="metadata: must be JSON values"):
        model.save(tmp_path / "m.json", info=object())
    assert not (tmp_path / "m.json").exists()  # refused before anything was written
    assert read_metadata(model.save(tmp_path / "m.json", note="ok"))["note"] == "ok"


def test_load_with_metadata_reads_the_file_once(tmp_path, monkeypatch):
    """The CLI's predict and report got the model and its offsets from two reads (a file
    replaced in between gave a model and metadata of different fits)."""
    from learnlds import CanonicalSystem, modelfile
    from learnlds.errors import FileFormatError

    path = CanonicalSystem([-0.5], [1.0]).save(tmp_path / "m.json", input_offset=[2.0])
    reads = []
    real = modelfile.read_json_object
    monkeypatch.setattr(modelfile, "read_json_object", lambda p: reads.append(p) or real(p))
    model, meta = load_with_metadata(path)
    assert reads == [path] and meta == read_metadata(path) and model == load(path)
    path.write_text(path.read_text().replace('"metadata": {', '"metadata": 3, "x": {'))
    with pytest.raises(FileFormatError, match="'metadata' must be an object, got int"):
        load_with_metadata(path)
