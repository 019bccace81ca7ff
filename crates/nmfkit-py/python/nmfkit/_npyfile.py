"""Which arrays are read from disk a batch at a time: all of a memory-mapped .npy.

``np.load(path, mmap_mode="r")`` maps the file; reading it through the
mapping would make every page it touches resident. For such an array the
core reads the file itself, a block of rows at a time with positioned
reads, so X is never held whole, and checks each batch as it goes.
"""
import numpy as np

# The dtypes the core's .npy reader decodes (little-endian).
_STREAMED = {"<f8", "<f4", "<i8", "<i4", "|u1"}


def npy_file(X):
    """The path of the .npy file that ``X`` maps whole, else None.

    X must be the file's own 2-D array: same shape, dtype and order, at the
    header's end (a slice or a transposed view is not; those are read in
    memory as any array is).
    """
    if not isinstance(X, np.memmap) or X.ndim != 2:
        return None
    path = getattr(X, "filename", None)
    if not path or not str(path).endswith(".npy"):
        return None
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                return None
            offset = f.tell()
    except (OSError, ValueError):
        return None
    same = (
        tuple(shape) == X.shape
        and dtype == X.dtype
        and dtype.str in _STREAMED
        and X.offset == offset
        and (X.flags.f_contiguous if fortran else X.flags.c_contiguous)
    )
    return str(path) if same else None
