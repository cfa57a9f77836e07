//! Rows of language-model data as token ids and labels, as TRL's SFT trainer makes them with completion-only loss:
//! a prompt and completion are tokenized together (the end-of-turn token appended to the completion, so the model
//! learns to stop) and only the completion's tokens are labelled; a conversation goes through the chat template and
//! only the assistant's turns are labelled; a plain text is labelled throughout.

use tokenizers::Tokenizer;

use crate::data::lm::{LmRow, Turn};
use crate::error::Error;
use crate::model::causal::chat::{Message, SpecialTokens, render};

/// One example: `labels[j]` is the token the loss expects at position j (predicted from the ones before it), None
/// where the loss does not look (the prompt, a user's turn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LmTokens {
    pub ids: Vec<u32>,
    pub labels: Vec<Option<u32>>,
    /// The row was cut at `max_len` tokens.
    pub truncated: bool,
}

impl LmTokens {
    pub fn labelled(&self) -> usize {
        self.labels.iter().skip(1).filter(|l| l.is_some()).count()
    }
}

/// What tokenizing needs of a model.
pub struct LmText<'a> {
    pub tokenizer: &'a Tokenizer,
    /// The chat template and where it came from (needed by conversations).
    pub chat_template: Option<&'a (String, String)>,
    pub special: &'a SpecialTokens,
    pub max_len: usize,
}

impl LmText<'_> {
    fn encode(&self, text: &str, special: bool) -> Result<Vec<u32>, String> {
        self.tokenizer
            .encode(text, special)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| format!("cannot be tokenized: {e}"))
    }

    fn chat(&self, turns: &[Turn], open: bool) -> Result<String, String> {
        let (template, source) =
            self.chat_template.ok_or("a conversation needs a chat template, and this model has none")?;
        let messages: Vec<Message> =
            turns.iter().map(|t| Message { role: t.role.clone(), content: t.content.clone() }).collect();
        render(template, source, &messages, open, self.special).map_err(|e: Error| e.message)
    }

    /// `row` as ids and labels; a message for a row that cannot be used (no chat template, nothing left to learn
    /// once cut at `max_len`).
    pub fn tokens(&self, row: &LmRow) -> Result<LmTokens, String> {
        let eos = self.special.eos_token.clone().unwrap_or_default();
        let (ids, learn): (Vec<u32>, Vec<bool>) = match row {
            LmRow::PromptCompletion { prompt, completion } => {
                let end = if completion.ends_with(&eos) { "" } else { eos.as_str() };
                let ids = self.encode(&format!("{prompt}{completion}{end}"), true)?;
                let p = self.encode(prompt, true)?.len().min(ids.len());
                let learn = (0..ids.len()).map(|j| j >= p).collect();
                (ids, learn)
            }
            LmRow::Text(text) => {
                let end = if text.ends_with(&eos) { "" } else { eos.as_str() };
                let ids = self.encode(&format!("{text}{end}"), true)?;
                let n = ids.len();
                (ids, vec![true; n])
            }
            LmRow::Messages(turns) => {
                let ids = self.encode(&self.chat(turns, false)?, false)?;
                let mut learn = vec![false; ids.len()];
                for (i, _) in turns.iter().enumerate().filter(|(_, t)| t.role == "assistant") {
                    // The assistant's turn: from the end of the prompt that opens it to the end of the turn.
                    let start = self.encode(&self.chat(&turns[..i], true)?, false)?.len();
                    let end = self.encode(&self.chat(&turns[..=i], false)?, false)?.len();
                    for l in learn.iter_mut().take(end.min(ids.len())).skip(start) {
                        *l = true;
                    }
                }
                (ids, learn)
            }
        };
        let truncated = ids.len() > self.max_len;
        let n = ids.len().min(self.max_len);
        let labels: Vec<Option<u32>> = (0..n).map(|j| learn[j].then_some(ids[j])).collect();
        let out = LmTokens { ids: ids[..n].to_vec(), labels, truncated };
        if out.labelled() == 0 {
            return Err(format!(
                "nothing to learn within the first {} tokens (raise the maximum length)",
                self.max_len
            ));
        }
        Ok(out)
    }
}
