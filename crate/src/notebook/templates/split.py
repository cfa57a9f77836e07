# %% [markdown]
# ## The split the page made
# The page shuffles with SplitMix64 from the run's seed; these few lines are the same generator, so the rows held
# out here are the rows the page held out (Python's own `random` would pick others).

# %%
MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return (self.next() * n) >> 64

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def round_half_away(x):
    # Rust's f64::round (half away from zero), not Python's round (half to even).
    return math.floor(x + 0.5)
