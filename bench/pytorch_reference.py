"""The same decoder-only model as rooflaw's trainer (backend/train/src/model.rs), trained the same way,
in PyTorch: the reference for the throughput comparison in bench/compare-pytorch.sh.

Reads a prepared rooflaw data folder (manifest.json, train.tokens), trains STEPS optimizer steps of
BATCH x SEQ tokens with AdamW (0.9, 0.95, eps 1e-8, weight decay 0.1) and global-norm clipping at 1.0, and
prints one JSON line: the median tokens/s over the steps after the first five.
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


class RMSNorm(torch.nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, theta=10000.0):
    # x: [b, h, t, hd]; rotates the two halves of each head (Llama's rotate_half), as rooflaw's model does.
    b, h, t, hd = x.shape
    freqs = theta ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    ang = torch.arange(t, dtype=torch.float32)[:, None] * freqs[None, :]
    ang = torch.cat((ang, ang), -1)
    x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
    return x * ang.cos() + torch.cat((-x2, x1), -1) * ang.sin()


class Block(torch.nn.Module):
    def __init__(self, a):
        super().__init__()
        d, hd = a["d_model"], a["head_dim"]
        self.h, self.kv, self.hd = a["heads"], a["kv_heads"], hd
        self.n1, self.n2 = RMSNorm(d), RMSNorm(d)
        self.q = torch.nn.Linear(d, self.h * hd, bias=False)
        self.k = torch.nn.Linear(d, self.kv * hd, bias=False)
        self.v = torch.nn.Linear(d, self.kv * hd, bias=False)
        self.o = torch.nn.Linear(self.h * hd, d, bias=False)
        i = a["intermediate_size"]
        self.gate = torch.nn.Linear(d, i, bias=False)
        self.up = torch.nn.Linear(d, i, bias=False)
        self.down = torch.nn.Linear(i, d, bias=False)

    def forward(self, x):
        b, t, _ = x.shape
        z = self.n1(x)
        q = rope(self.q(z).view(b, t, self.h, self.hd).transpose(1, 2))
        k = rope(self.k(z).view(b, t, self.kv, self.hd).transpose(1, 2))
        v = self.v(z).view(b, t, self.kv, self.hd).transpose(1, 2)
        g = self.h // self.kv
        if g > 1:
            k, v = k.repeat_interleave(g, 1), v.repeat_interleave(g, 1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o(y.transpose(1, 2).reshape(b, t, self.h * self.hd))
        z = self.n2(x)
        return x + self.down(F.silu(self.gate(z)) * self.up(z))


class Model(torch.nn.Module):
    def __init__(self, a):
        super().__init__()
        self.embed = torch.nn.Embedding(a["vocab_size"], a["d_model"])
        self.blocks = torch.nn.ModuleList(Block(a) for _ in range(a["layers"]))
        self.norm = RMSNorm(a["d_model"])
        for p in self.parameters():
            if p.dim() == 2:
                torch.nn.init.normal_(p, 0.0, 0.02)

    def forward(self, tokens):
        x = self.embed(tokens)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x) @ self.embed.weight.T  # tied head


def main():
    data, arch_file, steps, batch, seq, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    manifest = json.load(open(f"{data}/manifest.json"))
    tokens = np.fromfile(f"{data}/train.tokens", dtype=np.uint16 if manifest["dtype"] == "u16" else np.uint32).astype(np.int64)
    a = json.load(open(arch_file))
    model = Model(a)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    rng = np.random.default_rng(0)
    rates = []
    for step in range(steps):
        t0 = time.perf_counter()
        starts = rng.integers(0, len(tokens) - seq - 1, size=batch)
        x = torch.from_numpy(np.stack([tokens[s : s + seq + 1] for s in starts]))
        logits = model(x[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        rates.append(batch * seq / (time.perf_counter() - t0))
    rates = sorted(rates[5:])
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"tokens_per_sec": rates[len(rates) // 2], "params": params, "final_loss": float(loss.detach()), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
