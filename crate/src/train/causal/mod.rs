//! Fine-tuning language models (issue 25): rows as tokens with completion-only labels (`tokens`), the step-by-step
//! trainer with held-out loss and perplexity (`trainer`), and the adapter PEFT saves for `task_type: CAUSAL_LM`
//! (`adapter`).

pub mod adapter;
pub mod budget;
pub mod lab;
mod lab_export;
pub mod plan;
pub mod tokens;
pub mod trainer;
