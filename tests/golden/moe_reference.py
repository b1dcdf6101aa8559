"""A mixture-of-experts GPT-2 in PyTorch: the reference Trellis's MoE layers are held to.

The definitions (the contract for Trellis's layers, in the words of its config keys):

- [model] experts = E, top_k = k, moe_every = n: block i has an MoE MLP when i % n == 0 (block 0
  always, as Megatron-LM's moe_layer_freq counts), the dense MLP otherwise.
- Router: logits = x W_r^T with W_r [E, C] (no bias), probabilities p = softmax(logits) over the
  E experts, the k largest chosen (torch.topk's order: highest first), gates = the chosen
  probabilities renormalised to sum to 1 over the k.
- Experts are the block's MLP (fc [4C, C] + bias, GELU tanh, proj [C, 4C] + bias), one per
  expert; the MoE MLP's output for a token is sum over its kept choices of gate x expert(x).
- capacity_factor = 0: dropless. Otherwise each expert takes at most
  capacity = ceil(capacity_factor x N x k / E) token choices of a microbatch's N tokens; choices
  are taken in token order (token 0's choices first, a token's first choice before its second)
  and a choice past its expert's capacity is dropped: that expert contributes nothing to that
  token (its other gates are not renormalised again). Dropped choices are counted.
- Load-balancing loss (Switch / GShard, Megatron-LM's aux_loss): per MoE block and microbatch,
  aux = moe_aux_loss_coeff x E x sum_i f_i P_i, with f_i = (choices routed to expert i, before
  dropping) / (N x k) and P_i = the mean over the N tokens of p_i. The training loss is the
  mean cross-entropy plus the sum of the MoE blocks' aux (with several microbatches a step,
  the mean over them of each microbatch's aux sum).
- Parameter names: h.<i>.moe.router.weight [E, C]; h.<i>.moe.experts.fc.weight [E, 4C, C],
  .fc.bias [E, 4C], .proj.weight [E, C, 4C], .proj.bias [E, C] (experts stacked on the first
  dimension, the unit expert parallelism splits); a dense block keeps GPT-2's h.<i>.mlp.*.
- Weight decay: the router's and the experts' weights decay; the experts' biases do not, like
  every bias, although stacking makes them 2-D.
"""

import math

import torch
import torch.nn.functional as F


class MoeMlp(torch.nn.Module):
    def __init__(self, hidden, experts, top_k, capacity_factor):
        super().__init__()
        self.experts, self.top_k, self.capacity_factor = experts, top_k, capacity_factor
        C, H = hidden, 4 * hidden
        self.router = torch.nn.Parameter(torch.empty(experts, C))
        self.fc_weight = torch.nn.Parameter(torch.empty(experts, H, C))
        self.fc_bias = torch.nn.Parameter(torch.empty(experts, H))
        self.proj_weight = torch.nn.Parameter(torch.empty(experts, C, H))
        self.proj_bias = torch.nn.Parameter(torch.empty(experts, C))

    def capacity(self, tokens):
        if self.capacity_factor == 0:
            return None
        return math.ceil(self.capacity_factor * tokens * self.top_k / self.experts)

    def forward(self, x):
        """x [B, T, C] -> (out [B, T, C], aux without its coefficient, statistics)."""
        B, T, C = x.shape
        N, E, k = B * T, self.experts, self.top_k
        flat = x.reshape(N, C)
        probs = torch.softmax(flat @ self.router.t(), dim=-1)  # [N, E]
        top, chosen = torch.topk(probs, k, dim=-1)  # [N, k], highest first
        gates = top / top.sum(dim=-1, keepdim=True)

        routed = torch.zeros(E, dtype=torch.int64)
        for e in chosen.reshape(-1).tolist():
            routed[e] += 1
        # Token order, first choice before second: what each expert keeps under its capacity.
        capacity = self.capacity(N)
        taken = torch.zeros(E, dtype=torch.int64)
        kept = torch.ones(N, k, dtype=torch.bool)
        for n in range(N):
            for j in range(k):
                e = int(chosen[n, j])
                if capacity is not None and taken[e] >= capacity:
                    kept[n, j] = False
                else:
                    taken[e] += 1

        out = torch.zeros_like(flat)
        for e in range(E):
            rows, slots = torch.nonzero((chosen == e) & kept, as_tuple=True)
            if rows.numel() == 0:
                continue
            h = F.gelu(flat[rows] @ self.fc_weight[e].t() + self.fc_bias[e], approximate="tanh")
            y = h @ self.proj_weight[e].t() + self.proj_bias[e]
            out = out.index_add(0, rows, gates[rows, slots].unsqueeze(1) * y)

        f = routed.to(probs.dtype) / (N * k)
        P = probs.mean(dim=0)
        aux = E * torch.sum(f * P)
        stats = {"routed": routed, "kept": taken, "dropped": int((~kept).sum())}
        return out.reshape(B, T, C), aux, stats


def init_moe(mlp, gen, randn, residual_std):
    """GPT-2's initialisation carried over: router and fc N(0, 0.02), proj N(0, residual_std),
    biases zero; drawn in float32 from `gen`."""
    with torch.no_grad():
        mlp.router.copy_(randn(gen, *mlp.router.shape, scale=0.02))
        mlp.fc_weight.copy_(randn(gen, *mlp.fc_weight.shape, scale=0.02))
        mlp.fc_bias.zero_()
        mlp.proj_weight.copy_(randn(gen, *mlp.proj_weight.shape, scale=residual_std))
        mlp.proj_bias.zero_()


def named_moe(prefix, mlp):
    """(Trellis name, parameter, Trellis's shape) of an MoE MLP's parameters."""
    E, H, C = mlp.fc_weight.shape
    yield prefix + "moe.router.weight", mlp.router, (E, C)
    yield prefix + "moe.experts.fc.weight", mlp.fc_weight, (E, H, C)
    yield prefix + "moe.experts.fc.bias", mlp.fc_bias, (E, H)
    yield prefix + "moe.experts.proj.weight", mlp.proj_weight, (E, C, H)
    yield prefix + "moe.experts.proj.bias", mlp.proj_bias, (E, C)
