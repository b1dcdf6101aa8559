"""Writer (and reader, for checking) of Trellis golden files: named tensors in one binary file.

Layout, all little-endian:
    8 bytes   magic "TRGOLDEN"
    uint32    version (1)
    uint32    count of tensors
    count times:
        uint32        name length in bytes, then the name (UTF-8)
        uint32        dtype: 0 = f32, 1 = i32, 2 = f64
        uint32        rank, then int64 dims[rank] (rank 0 is a scalar holding one element)
        raw data      prod(dims) elements, row-major

The C++ reader is tests/golden/golden_file.h.
"""

import struct

import numpy as np

MAGIC = b"TRGOLDEN"
VERSION = 1
_DTYPES = {np.dtype("<f4"): 0, np.dtype("<i4"): 1, np.dtype("<f8"): 2}
_CODES = {code: dtype for dtype, code in _DTYPES.items()}


def _as_array(value):
    """numpy array of one of the three stored types, from a tensor, array or Python number."""
    if hasattr(value, "detach"):  # a torch.Tensor; imported lazily so reading needs no torch
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind == "f":
        array = array.astype("<f8" if array.dtype.itemsize == 8 else "<f4")
    elif array.dtype.kind in "iub":
        if array.size and (array.min() < -(2**31) or array.max() >= 2**31):
            raise ValueError("integer tensor does not fit in int32")
        array = array.astype("<i4")
    else:
        raise TypeError(f"cannot store dtype {array.dtype}")
    return np.ascontiguousarray(array)


def write_golden(path, tensors):
    """Writes `tensors` (an ordered mapping name -> tensor/array/number) to `path`."""
    chunks = [MAGIC, struct.pack("<II", VERSION, len(tensors))]
    for name, value in tensors.items():
        array = _as_array(value)
        encoded = name.encode("utf-8")
        chunks.append(struct.pack("<I", len(encoded)))
        chunks.append(encoded)
        chunks.append(struct.pack("<II", _DTYPES[array.dtype], array.ndim))
        chunks.append(struct.pack(f"<{array.ndim}q", *array.shape))
        chunks.append(array.tobytes())
    with open(path, "wb") as f:
        f.write(b"".join(chunks))


def read_golden(path):
    """Reads a golden file back into a dict name -> numpy array."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] != MAGIC:
        raise ValueError(f"{path}: not a golden file (bad magic)")
    version, count = struct.unpack_from("<II", blob, 8)
    if version != VERSION:
        raise ValueError(f"{path}: version {version}, expected {VERSION}")
    offset = 16
    tensors = {}
    for _ in range(count):
        (length,) = struct.unpack_from("<I", blob, offset)
        offset += 4
        name = blob[offset : offset + length].decode("utf-8")
        offset += length
        code, rank = struct.unpack_from("<II", blob, offset)
        offset += 8
        dims = struct.unpack_from(f"<{rank}q", blob, offset)
        offset += 8 * rank
        dtype = _CODES[code]
        numel = int(np.prod(dims, dtype=np.int64))
        tensors[name] = np.frombuffer(blob, dtype, numel, offset).reshape(dims).copy()
        offset += numel * dtype.itemsize
    if offset != len(blob):
        raise ValueError(f"{path}: {len(blob) - offset} trailing bytes")
    return tensors
