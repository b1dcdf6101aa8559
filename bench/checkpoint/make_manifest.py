#!/usr/bin/env python3
"""Writes the manifest.json of a large checkpoint for trellis-bench-manifest: GPT-2 of LAYERS
blocks and HIDDEN channels (vocabulary 50257, padded 50304; 1024 positions), every parameter and
both AdamW moments, each tensor cut as TENSOR boxes (tensor parallelism, rows) of DATA ranges
(zero = 1) -- the shard count of a run of that layout. Only the manifest is written: loading it
reads no shard.

usage: make_manifest.py OUT [--layers 48] [--hidden 1600] [--tensor 8] [--data 8]
"""
import argparse
import json


def parameters(layers, hidden, padded_vocab):
    c = hidden
    yield "wte", [padded_vocab, c]
    yield "wpe", [1024, c]
    for i in range(layers):
        p = f"h.{i}."
        yield p + "ln_1.weight", [c]
        yield p + "ln_1.bias", [c]
        yield p + "attn.qkv.weight", [3 * c, c]
        yield p + "attn.qkv.bias", [3 * c]
        yield p + "attn.proj.weight", [c, c]
        yield p + "attn.proj.bias", [c]
        yield p + "ln_2.weight", [c]
        yield p + "ln_2.bias", [c]
        yield p + "mlp.fc.weight", [4 * c, c]
        yield p + "mlp.fc.bias", [4 * c]
        yield p + "mlp.proj.weight", [c, 4 * c]
        yield p + "mlp.proj.bias", [c]
    yield "lnf.weight", [c]
    yield "lnf.bias", [c]


def shards(shape, tensor, data, rank_offset):
    rows = shape[0]
    boxes = tensor if rows % tensor == 0 else 1
    out = []
    for b in range(boxes):
        box_shape = [rows // boxes] + shape[1:]
        offset = [b * (rows // boxes)] + [0] * (len(shape) - 1)
        numel = 1
        for d in box_shape:
            numel *= d
        for r in range(data):
            begin, end = numel * r // data, numel * (r + 1) // data
            out.append({"file": f"rank-{(b + r * tensor) % 512:05d}.bin", "offset": offset,
                        "shape": box_shape, "range": [begin, end],
                        "byte_offset": rank_offset + 4 * begin, "crc32": "%08x" % ((begin * 2654435761) & 0xFFFFFFFF)})
    return out


def main():
    a = argparse.ArgumentParser()
    a.add_argument("out")
    a.add_argument("--layers", type=int, default=48)
    a.add_argument("--hidden", type=int, default=1600)
    a.add_argument("--tensor", type=int, default=8)
    a.add_argument("--data", type=int, default=8)
    args = a.parse_args()
    tensors = []
    for name, shape in parameters(args.layers, args.hidden, 50304):
        for prefix in ("", "adamw.m/", "adamw.v/"):
            tensors.append({"name": prefix + name, "dtype": "f32", "shape": shape,
                            "shards": shards(shape, args.tensor, args.data, 4096 * len(tensors))})
    manifest = {
        "format": "trellis-checkpoint", "version": 1, "step": 1000,
        "optimizer": {"name": "adamw", "steps": 1000},
        "data": {"next_step": 1001, "global_batch": 512, "seq_len": 1024, "shuffle": False, "seed": 1},
        "model": {"vocab_size": 50257, "padded_vocab": 50304, "seq_len": 1024, "max_seq_len": 1024,
                  "layers": args.layers, "heads": 25, "hidden": args.hidden},
        "layout": {"world": args.tensor * args.data, "tensor": args.tensor, "pipeline": 1,
                   "data": args.data, "virtual_stages": 1, "tensor_mode": "1d", "zero": 1},
        "tensors": tensors,
    }
    with open(args.out, "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"{args.out}: {len(tensors)} tensors, {sum(len(t['shards']) for t in tensors)} shards")


if __name__ == "__main__":
    main()
