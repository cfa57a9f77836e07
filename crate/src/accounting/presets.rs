//! The published `config.json` of each preset model, compiled in so the page and CLI work offline.

pub const PRESETS: [(&str, &str); 8] = [
    ("all-MiniLM-L6-v2", include_str!("../../presets/all-MiniLM-L6-v2.json")),
    ("bert-base-uncased", include_str!("../../presets/bert-base-uncased.json")),
    ("distilbert-base-uncased", include_str!("../../presets/distilbert-base-uncased.json")),
    ("roberta-base", include_str!("../../presets/roberta-base.json")),
    ("ModernBERT-base", include_str!("../../presets/ModernBERT-base.json")),
    ("gpt2", include_str!("../../presets/gpt2.json")),
    ("gemma-3-270m", include_str!("../../presets/gemma-3-270m.json")),
    ("Llama-2-7b", include_str!("../../presets/Llama-2-7b.json")),
];

/// The `config.json` text of a preset id.
pub fn preset_config(id: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(name, _)| *name == id).map(|(_, text)| *text)
}
