"""trajet routing core: pure numpy/scipy/numba, no file formats, no web."""
