"""Reference values for `lora-playground inspect`, from numpy on the bytes of the committed fixture folders.

The fixtures (crate/tests/fixtures/inspect/, made by tests/reference/inspect_fixtures.sh) are the tiny random
model, an r=4 and an r=8 LoRA adapter trained on it, and a full fine-tuning run of it. This script reads their
safetensors files itself (8-byte header length, JSON header, little-endian float32 data) and writes, for every
module the r=4 adapter adapts: the update `scaling * B @ A`'s Frobenius norm, the frozen weight's, the update's
singular values and cumulative energy shares; the singular values of the full run's `W_ft - W_0` and its energy in
the top r; and the LoRA paper's subspace similarity phi(i, j) = ||U_i^T V_j||_F^2 / min(i, j) between the two
adapters' A matrices (top right-singular vectors). Only quantities that do not depend on an SVD routine's sign or
order choices are recorded, so they compare exactly with any correct implementation.

    pip install numpy
    python tests/reference/inspect_reference.py crate/tests/fixtures/inspect > crate/tests/fixtures/inspect/expected.json
"""
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np


def read_safetensors(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", (name, entry["dtype"])
        start, end = entry["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + start : 8 + n + end], dtype="<f4").reshape(entry["shape"]).astype(np.float64)
    return out


def energy(s):
    e = np.cumsum(s**2)
    return (e / e[-1]).tolist() if e[-1] > 0 else [0.0] * len(s)


def adapter(folder):
    config = json.loads((folder / "adapter_config.json").read_text())
    r, alpha = config["r"], config["lora_alpha"]
    scaling = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
    weights = read_safetensors(folder / "adapter_model.safetensors")
    prefix = "base_model.model."
    mats = {}
    for key, value in weights.items():
        for m in ("lora_A", "lora_B"):
            if f".{m}." in key:
                module = key[len(prefix) :].split(f".{m}.")[0]
                mats.setdefault(module, {})[m] = value
    return r, scaling, mats


def main(root):
    root = Path(root)
    base = read_safetensors(root / "base" / "model.safetensors")
    full = read_safetensors(root / "full" / "model.safetensors")
    r, scaling, mats = adapter(root / "r4")
    r8, _, mats8 = adapter(root / "r8")
    shown = 32
    modules, spectra, similarity = [], [], []
    for module in sorted(mats):
        a, b = mats[module]["lora_A"], mats[module]["lora_B"]
        update = scaling * (b @ a)
        w0 = base[f"{module}.weight"]
        s = np.linalg.svd(update, compute_uv=False)
        modules.append({
            "module": module,
            "update_norm": float(np.linalg.norm(update)),
            "weight_norm": float(np.linalg.norm(w0)),
            "singular_values": s[:shown].tolist(),
            "rank": int((s > 1e-6 * s[0]).sum()),
            "energy": energy(s)[:shown],
        })
        d = np.linalg.svd(full[f"{module}.weight"] - w0, compute_uv=False)
        e = energy(d)
        spectra.append({"module": module, "singular_values": d[:shown].tolist(), "energy_in_top_r": e[r - 1]})
        if module in mats8:
            u = np.linalg.svd(a)[2].T  # [in, r]: right-singular vectors, largest first
            v = np.linalg.svd(mats8[module]["lora_A"])[2].T
            u, v = u[:, : a.shape[0]], v[:, : mats8[module]["lora_A"].shape[0]]
            overlap = u.T @ v
            phi = [[float((overlap[:i, :j] ** 2).sum() / min(i, j)) for j in range(1, v.shape[1] + 1)] for i in range(1, u.shape[1] + 1)]
            similarity.append({"module": module, "phi": phi})
    json.dump({"r": r, "scaling": scaling, "modules": modules, "full": spectra, "compare": similarity}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
