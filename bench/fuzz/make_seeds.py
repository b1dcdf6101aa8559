#!/usr/bin/env python3
"""Seeds for the fuzzing harnesses of tests/fuzz, made from the repository's real files: the
shipped configs and the bad configs of the tests, the cluster descriptions, the tiny llm.c
checkpoint and token file of the golden tests (as their harnesses take them: the file's size,
then the header), the checkpoint fixture's manifest, the golden Hugging Face directories'
config.json files (GPT-2's and LLaMA's), the example CSV schedule, and a few conversations with
the TCP store. bench/fuzz/run.sh merges them into the committed corpora.

usage: make_seeds.py OUT_DIR      (writes OUT_DIR/<harness>/...)
"""
import glob
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write(out, harness, name, data):
    os.makedirs(os.path.join(out, harness), exist_ok=True)
    with open(os.path.join(out, harness, name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def config_seeds(out):
    files = sorted(glob.glob(os.path.join(ROOT, "configs", "**", "*.toml"), recursive=True))
    files += sorted(glob.glob(os.path.join(ROOT, "tests", "config", "**", "*.toml"),
                              recursive=True))
    for path in files:
        if os.sep + "clusters" + os.sep in path:
            continue
        write(out, "config", "seed-" + os.path.relpath(path, ROOT).replace(os.sep, "-"), read(path))
    # --set overrides after a NUL byte, one a line.
    quickstart = read("configs/quickstart.toml")
    write(out, "config", "seed-overrides",
          quickstart + b"\0parallel.tensor=2\nlaunch.nproc=4\nparallel.pipeline=2\n"
          b"parallel.schedule=1f1b\ntrain.micro_batch=2\noptim.lr=3e-4\nmodel.init=random")
    write(out, "config", "seed-override-table",
          b"[parallel]\ndata = -1\n\0comm.ucx.tls=\"shm\"\nparallel.tensor_mode=2d\n"
          b"parallel.tensor=4\nlaunch.nproc=8\nplugins.paths=[\"a\", \"b\"]")


def cluster_seeds(out):
    for path in sorted(glob.glob(os.path.join(ROOT, "configs", "clusters", "*.toml"))):
        write(out, "cluster_file", "seed-" + os.path.basename(path), read(path))


def header_seed(out, harness, path):
    data = read(path)
    write(out, harness, "seed-" + os.path.basename(path),
          struct.pack("<Q", len(data)) + data[:1024])


def manifest_seeds(out):
    write(out, "manifest", "seed-step-00000003",
          read("tests/checkpoint/data/step-00000003/manifest.json"))


def hf_config_seeds(out):
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "golden", "data", "*.hf*",
                                              "config.json"))):
        name = os.path.basename(os.path.dirname(path))
        write(out, "hf_config", "seed-" + name, read(path))


def schedule_seeds(out):
    for path in sorted(glob.glob(os.path.join(ROOT, "configs", "examples", "schedules", "*.csv"))):
        # 4 microbatches, 1 virtual stage.
        write(out, "schedule_csv", "seed-" + os.path.basename(path), b"\x03\x00" + read(path))
    write(out, "schedule_csv", "seed-interleaved",
          b"\x03\x01" + b"0F0,0F1,2F0,2F1,2B0,2B1,0B0,0B1\n1F0,1F1,3F0,3F1,3B0,3B1,1B0,1B1\n")
    write(out, "schedule_csv", "seed-split-backward",
          b"\x01\x00" + b"0F0,0F1,0I0,0W0,0I1,0W1\n1F0,1I0,1F1,1I1,1W0,1W1\n")


# The TCP store's frames (comm/store_protocol.h): a 4-byte length, then the body.
def u32(v):
    return struct.pack("<I", v)


def text(s):
    return u32(len(s)) + s


def frame(body):
    return u32(len(body)) + body


def chunks(connection, data):
    """The harness's input: chunks of at most 63 bytes, each after its control byte."""
    out = b""
    for i in range(0, len(data), 63):
        piece = data[i:i + 63]
        out += bytes([connection | (len(piece) << 2)]) + piece
    return out


def store_seeds(out):
    set_k = frame(b"\x01" + text(b"rank0/address") + text(b"tcp://10.0.0.1:4000"))
    get_k = frame(b"\x02" + struct.pack("<q", 30000) + text(b"rank0/address"))
    add_k = frame(b"\x03" + text(b"barrier/0") + struct.pack("<q", 1))
    wait_k = frame(b"\x04" + struct.pack("<q", 30000) + u32(2) + text(b"barrier/0") +
                   text(b"nccl-id"))
    check_k = frame(b"\x05" + u32(1) + text(b"nccl-id"))
    write(out, "store_protocol", "seed-rendezvous",
          chunks(1, get_k) + chunks(2, wait_k) + chunks(0, set_k) + chunks(0, add_k) +
          chunks(0, frame(b"\x01" + text(b"nccl-id") + text(b"\x00" * 128))) + chunks(2, check_k))
    write(out, "store_protocol", "seed-timeout",
          chunks(1, wait_k) + bytes([3]) + chunks(1, get_k) + bytes([3]))
    write(out, "store_protocol", "seed-add-not-integer",
          chunks(0, set_k) +
          chunks(0, frame(b"\x03" + text(b"rank0/address") + struct.pack("<q", 1))))
    write(out, "store_protocol", "seed-unknown-op", chunks(0, frame(b"\x09")))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    config_seeds(out)
    cluster_seeds(out)
    header_seed(out, "llmc_checkpoint_header", "tests/golden/data/tiny_gpt2.llmc.bin")
    header_seed(out, "token_file_header", "tests/golden/data/tiny_tokens.bin")
    manifest_seeds(out)
    hf_config_seeds(out)
    schedule_seeds(out)
    store_seeds(out)


if __name__ == "__main__":
    main()
