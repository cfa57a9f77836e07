//! Module paths as PyTorch's `named_modules()` spells them (`bert.encoder.layer.0.attention.self.query`). Its own
//! file because both the architectures and PEFT's injection rules ask it, and neither should import the other.

/// `name` is `path` or a descendant of it (on a dot boundary: `classifier.dense` is within `classifier`,
/// `pre_classifier` is not).
pub fn within(name: &str, path: &str) -> bool {
    name == path || (name.starts_with(path) && name.as_bytes().get(path.len()) == Some(&b'.'))
}
