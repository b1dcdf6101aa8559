"""How far tiny_moe.golden's routing is from a tie: for each of the five training steps (and so
the first batch), the smallest gap between neighbouring probabilities among a token's top_k + 1
largest, over every MoE block and token, dropless and with capacity. A gap within rounding would
let float32 choose other experts (or another order of a token's choices, which capacity takes in
turn) than PyTorch in float64; Trellis's tests compare routing counts exactly because the gaps
are far above it. Run with the Python that sees torch: /usr/bin/python3 moe_routing_margins.py
(reads the committed token file; writes nothing)."""

import os

import numpy as np
import torch

import make_golden as mg


def margins(tokens, capacity_factor):
    gen = torch.Generator().manual_seed(20241206)
    model = mg.TinyMoe(capacity_factor)
    model.init_weights(gen)
    model = model.to(mg.F64)
    found = []

    def record(module, inputs, _output):
        x = inputs[0].reshape(-1, inputs[0].shape[-1])
        p = torch.softmax(x @ module.router.t(), dim=-1)
        s, _ = torch.sort(p, dim=-1, descending=True)
        k = module.top_k
        found.append(float((s[:, :k] - s[:, 1:k + 1]).min()))

    for mlp in model.moe.values():
        mlp.register_forward_hook(record)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": mg.WEIGHT_DECAY},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=mg.LR, betas=mg.BETAS, eps=mg.EPS)
    for step in range(mg.STEPS):
        x, y = mg.batch(tokens, step)
        _, loss, _, _ = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), mg.GRAD_CLIP)
        opt.step()
    return found


def main():
    torch.set_default_dtype(torch.float32)
    with open(os.path.join(mg.DATA, "tiny_tokens.bin"), "rb") as f:
        tokens = np.frombuffer(f.read()[1024:], dtype="<u2").astype(np.int64)
    for name, capacity_factor in (("dropless", 0.0), ("capacity", 1.0)):
        gaps = margins(tokens, capacity_factor)
        print(f"{name}: smallest gap per step and block: " + " ".join(f"{g:.2e}" for g in gaps))


if __name__ == "__main__":
    main()
