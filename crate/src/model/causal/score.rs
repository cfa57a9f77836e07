//! What a language model says of a text: the log-probability of each token after the ones before it, and the
//! training loss, the mean cross entropy over the tokens that have a label (completion-only loss: the prompt's
//! tokens are not labelled). Both run the output head only on the positions they read, in chunks, so a 262k-word
//! vocabulary never makes `[batch, seq, vocab]` logits.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::model::{AutoModelForCausalLM, real_positions};
use super::packed_head;
use crate::error::Error;
use crate::readback::read_floats;

/// Logits computed at once: 64 MiB (Gemma 3's 262,144-word vocabulary: 64 rows), half of WebGPU's default
/// 128 MiB storage binding, so the logits and their log-softmax fit in any tab.
const CHUNK_BYTES: usize = 64 << 20;

fn rows_per_chunk(vocab: usize) -> usize {
    (CHUNK_BYTES / 4 / vocab.max(1)).max(1)
}

/// `logprobs[i][j]` = log p(`texts[i][j + 1]` | `texts[i][..=j]`), one padded batch.
pub async fn logprobs(
    model: &AutoModelForCausalLM,
    texts: &[Vec<u32>],
    device: &Device,
) -> Result<Vec<Vec<f32>>, Error> {
    if let Some(id) = texts.iter().flatten().find(|&&id| id as usize >= model.vocab_size) {
        return Err(Error::invalid(
            "input",
            format!(
                "token id {id} is beyond the model's vocabulary of {} (a tokenizer from another model?)",
                model.vocab_size
            ),
        ));
    }
    let hidden = model.hidden(texts, &real_positions(texts), None, device);
    let [b, s, h] = hidden.dims();
    let flat = hidden.reshape([b * s, h]);
    // (row of `flat`, target id) for every position that predicts a token.
    let wanted: Vec<(usize, u32)> = texts
        .iter()
        .enumerate()
        .flat_map(|(i, t)| (0..t.len().saturating_sub(1)).map(move |j| (i * s + j, t[j + 1])))
        .collect();
    let values = read_floats(token_logprobs(model, flat, &wanted, device)).await?;
    let mut out = Vec::with_capacity(texts.len());
    let mut at = 0;
    for t in texts {
        let n = t.len().saturating_sub(1);
        out.push(values[at..at + n].to_vec());
        at += n;
    }
    Ok(out)
}

/// log p(target) at each `(row, target)` of `hidden` `[rows, hidden]`, as one `[n]` tensor (differentiable).
pub fn token_logprobs(
    model: &AutoModelForCausalLM,
    hidden: Tensor<2>,
    wanted: &[(usize, u32)],
    device: &Device,
) -> Tensor<1> {
    if let Some(head) = model.packed_head() {
        if wanted.is_empty() {
            return Tensor::zeros([0], device);
        }
        let rows: Vec<i64> = wanted.iter().map(|&(r, _)| r as i64).collect();
        let targets: Vec<usize> = wanted.iter().map(|&(_, t)| t as usize).collect();
        let rows = Tensor::<1, Int>::from_data(TensorData::new(rows, [wanted.len()]), device);
        return packed_head::token_logprobs(hidden.select(0, rows), head, &targets);
    }
    let chunk = rows_per_chunk(model.vocab_size);
    let parts: Vec<Tensor<1>> = wanted
        .chunks(chunk)
        .map(|part| {
            let rows: Vec<i64> = part.iter().map(|&(r, _)| r as i64).collect();
            let targets: Vec<i64> = part.iter().map(|&(_, t)| t as i64).collect();
            let n = part.len();
            let rows = Tensor::<1, Int>::from_data(TensorData::new(rows, [n]), device);
            let targets = Tensor::<2, Int>::from_data(TensorData::new(targets, [n, 1]), device);
            let lp = log_softmax(model.logits_at(hidden.clone().select(0, rows)), 1);
            lp.gather(1, targets).reshape([n])
        })
        .collect();
    if parts.is_empty() { Tensor::zeros([0], device) } else { Tensor::cat(parts, 0) }
}

/// The mean cross entropy of a right-padded batch over its labelled tokens: `labels[i][j]` is the token expected
/// at position j (predicted from positions before it) or None where the loss does not look (prompt, padding), as
/// transformers' `labels` with -100. A scalar `[1]`; zero when nothing is labelled.
pub fn causal_lm_loss(
    model: &AutoModelForCausalLM,
    texts: &[Vec<u32>],
    labels: &[Vec<Option<u32>>],
    device: &Device,
) -> Tensor<1> {
    let hidden = model.hidden(texts, &real_positions(texts), None, device);
    let [b, s, h] = hidden.dims();
    let wanted: Vec<(usize, u32)> = labels
        .iter()
        .enumerate()
        .flat_map(|(i, l)| (1..l.len().min(s)).filter_map(move |j| l[j].map(|t| (i * s + j - 1, t))))
        .collect();
    if wanted.is_empty() {
        return Tensor::zeros([1], device);
    }
    let n = wanted.len();
    token_logprobs(model, hidden.reshape([b * s, h]), &wanted, device).sum().neg().div_scalar(n as f64).reshape([1])
}
