"""Chance levels for the "Inside the adapter" figures (docs/MEASUREMENTS.md) (numpy, seed 0).

- The share of a random 384 x 384 matrix's energy (squared Frobenius norm) in its top 8 singular directions: what
  "full fine-tuning puts X% in its top 8 directions" is compared against.
- The LoRA paper's subspace similarity phi(i, j) = ||U_i^T V_j||_F^2 / min(i, j) between the top right-singular
  vectors of two random A matrices of r = 8 and r = 64 rows over 384 inputs, mean of 50 draws: what the r=8 vs
  r=64 similarities are compared against.

    python3 tests/reference/random_baselines.py
"""
import numpy as np

rng = np.random.default_rng(0)
s = np.linalg.svd(rng.standard_normal((384, 384)), compute_uv=False)
energy = np.cumsum(s**2) / np.sum(s**2)
print(f"random 384x384: energy in top 8 = {energy[7]:.4f}")

rng = np.random.default_rng(0)
draws = []
for _ in range(50):
    u = np.linalg.svd(rng.standard_normal((8, 384)))[2][:8].T
    v = np.linalg.svd(rng.standard_normal((64, 384)))[2][:64].T
    o = u.T @ v
    draws.append([(o[:1, :1] ** 2).sum(), (o[:1, :] ** 2).sum(), (o[:8, :8] ** 2).sum() / 8, (o[:8, :] ** 2).sum() / 8])
m = np.mean(draws, axis=0)
print(f"random r=8 vs r=64 subspaces: phi(1,1) = {m[0]:.4f}, phi(1,64) = {m[1]:.4f}, phi(8,8) = {m[2]:.4f}, phi(8,64) = {m[3]:.4f}")
