"""GGUF files for the reader's tests (issue 25), written by gguf-py (llama.cpp's own Python package) and
dequantized by it, the reference the Rust reader must match bit for bit.

`types.gguf`: one tensor of each type the reader takes (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K,
Q6_K), 2 rows of 512 values (two k-quant super-blocks a row). The quantized blocks are random bytes with their
float16 scales drawn as real small numbers (random bytes would make NaN and infinite scales), so every code, every
sub-block scale and every high bit is exercised, not only the ones a quantizer happens to produce. Beside it,
`types.expected.safetensors`: gguf-py's `dequantize` of each, float32, shape as torch orders it.

    python3 tests/reference/gguf_fixtures.py          (gguf, numpy, safetensors)
"""
import os

import numpy as np
from gguf import GGMLQuantizationType as T, GGUFWriter
from gguf.quants import dequantize
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "crate", "tests", "fixtures", "gguf")
ROWS, COLS = 2, 512

# (type, block size, block bytes, byte offsets of the float16 scales in a block)
LAYOUT = {
    T.Q4_0: (32, 18, [0]), T.Q4_1: (32, 20, [0, 2]), T.Q5_0: (32, 22, [0]), T.Q5_1: (32, 24, [0, 2]),
    T.Q8_0: (32, 34, [0]), T.Q4_K: (256, 144, [0, 2]), T.Q5_K: (256, 176, [0, 2]), T.Q6_K: (256, 210, [208]),
}


def main():
    rng = np.random.default_rng(25)
    w = GGUFWriter(os.path.join(OUT, "types.gguf"), "llama")
    w.add_string("general.name", "ggml types for the reader's tests")
    expected = {}
    values = rng.standard_normal((ROWS, COLS)).astype(np.float32)
    for name, dtype, arr in [("f32", T.F32, values), ("f16", T.F16, values.astype(np.float16))]:
        w.add_tensor(name, arr, raw_dtype=dtype)
        expected[name] = arr.astype(np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype(np.uint16)
    w.add_tensor("bf16", bf16.view(np.uint8).reshape(ROWS, COLS * 2), raw_dtype=T.BF16)
    expected["bf16"] = dequantize(bf16.view(np.uint8).reshape(ROWS, COLS * 2), T.BF16)
    for qtype, (block, nbytes, scales) in LAYOUT.items():
        n_blocks = ROWS * COLS // block
        raw = rng.integers(0, 256, size=(n_blocks, nbytes), dtype=np.uint8)
        for at in scales:
            raw[:, at:at + 2] = (rng.standard_normal(n_blocks) * 0.05).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
        raw = raw.reshape(ROWS, -1)
        name = qtype.name.lower()
        w.add_tensor(name, raw, raw_dtype=qtype)
        expected[name] = dequantize(raw, qtype).astype(np.float32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    save_file({k: np.ascontiguousarray(v) for k, v in expected.items()}, os.path.join(OUT, "types.expected.safetensors"))
    print({k: v.shape for k, v in expected.items()})


if __name__ == "__main__":
    main()
