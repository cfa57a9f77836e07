//! Writing text: the prompt once through the model (its keys and values cached), then one token at a time, each
//! chosen greedily or sampled (temperature, top-k, top-p, from a seeded generator), until an end-of-turn id or the
//! token limit. Without the cache (`use_cache: false`) every step recomputes the whole sequence: the same tokens,
//! kept to measure what the cache saves.

use burn::tensor::Device;

use super::cache::KvCache;
use super::model::AutoModelForCausalLM;
use crate::error::Error;
use crate::readback::read_floats;
use crate::rng::Rng;

/// How the next token is chosen (transformers' `generate` arguments of the same names).
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    pub max_new_tokens: usize,
    /// 0: greedy (the most likely token); above 0: sampled from softmax(logits / temperature).
    pub temperature: f64,
    /// Only the k most likely tokens are drawn from.
    pub top_k: Option<usize>,
    /// Only the most likely tokens whose probabilities add up to `top_p` are drawn from.
    pub top_p: Option<f64>,
    pub seed: u64,
    pub use_cache: bool,
}

impl Sampling {
    pub fn greedy(max_new_tokens: usize) -> Self {
        Self { max_new_tokens, temperature: 0.0, top_k: None, top_p: None, seed: 0, use_cache: true }
    }
}

/// A generation in progress: what the model has seen, its cache, the new tokens so far. `generate` runs one to its
/// end; the page's lab advances one a token at a time (`train::causal::lab`).
pub struct Generation {
    pub sampling: Sampling,
    rng: Rng,
    cache: Option<KvCache>,
    seen: Vec<u32>,
    /// What the next pass reads: the prompt first, then each new token (everything seen, without a cache).
    next_input: Vec<u32>,
    pub new: Vec<u32>,
}

impl Generation {
    pub fn new(model: &AutoModelForCausalLM, prompt: &[u32], sampling: Sampling) -> Self {
        Self {
            rng: Rng::new(sampling.seed),
            cache: sampling.use_cache.then(|| KvCache::new(model.num_layers())),
            seen: prompt.to_vec(),
            next_input: prompt.to_vec(),
            new: Vec::new(),
            sampling,
        }
    }

    /// Whether the token limit is reached (or there was nothing to continue).
    pub fn at_limit(&self) -> bool {
        self.new.len() >= self.sampling.max_new_tokens || self.seen.is_empty()
    }

    /// One pass of `model`: the next token, chosen as `sampling` says.
    pub async fn next_token(&mut self, model: &AutoModelForCausalLM, device: &Device) -> Result<u32, Error> {
        let input = if self.cache.is_some() { &self.next_input } else { &self.seen };
        let real = vec![vec![true; self.seen.len()]];
        let hidden = model.hidden(&[input.clone()], &real, self.cache.as_mut(), device);
        let [_, s, h] = hidden.dims();
        let last = hidden.slice([0..1, s - 1..s, 0..h]).reshape([1, h]);
        let logits = read_floats(model.logits_at(last)).await?;
        let token = choose(&logits, &self.sampling, &mut self.rng);
        self.seen.push(token);
        self.new.push(token);
        self.next_input = vec![token];
        Ok(token)
    }
}

/// The new tokens after `prompt` (the stop token included when it stopped on one of `stop`). `on_token` sees each
/// as it comes and returns false to stop early.
pub async fn generate(
    model: &AutoModelForCausalLM,
    prompt: &[u32],
    stop: &[u32],
    sampling: &Sampling,
    device: &Device,
    mut on_token: impl FnMut(u32) -> bool,
) -> Result<Vec<u32>, Error> {
    let mut g = Generation::new(model, prompt, sampling.clone());
    while !g.at_limit() {
        let token = g.next_token(model, device).await?;
        if !on_token(token) || stop.contains(&token) {
            break;
        }
    }
    Ok(g.new)
}

/// The next token from `logits` as `sampling` says.
pub fn choose(logits: &[f32], sampling: &Sampling, rng: &mut Rng) -> u32 {
    if sampling.temperature <= 0.0 {
        // The first of equal maxima, as torch's argmax.
        return logits
            .iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best })
            .0 as u32;
    }
    let mut order: Vec<(usize, f64)> =
        logits.iter().enumerate().map(|(i, &v)| (i, v as f64 / sampling.temperature)).collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    if let Some(k) = sampling.top_k {
        order.truncate(k.max(1));
    }
    let max = order[0].1;
    let weights: Vec<f64> = order.iter().map(|(_, v)| (v - max).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mut keep = order.len();
    if let Some(p) = sampling.top_p {
        // The smallest set of the most likely tokens whose probabilities reach p (at least one).
        let mut cum = 0.0;
        for (i, w) in weights.iter().enumerate() {
            cum += w / total;
            if cum >= p {
                keep = i + 1;
                break;
            }
        }
    }
    let kept: f64 = weights[..keep].iter().sum();
    let mut x = rng.uniform(0.0, kept);
    for (i, w) in weights[..keep].iter().enumerate() {
        if x < *w {
            return order[i].0 as u32;
        }
        x -= w;
    }
    order[keep - 1].0 as u32
}
