//! Validators: a weak ETag from a file's size and modification time, and the checks of `If-None-Match` and
//! `If-Range` against it. tower-http's ServeDir sends `Last-Modified` and answers `If-Modified-Since`, but sends no
//! ETag and ignores `If-Range`, so these are the project's own.

use std::fs::Metadata;
use std::time::{SystemTime, UNIX_EPOCH};

/// `W/"<size>-<mtime>"` in hex (mtime to the nanosecond, so a rebuild within the same second still changes it).
/// Weak: the same tag covers the file and its fresh `.gz`/`.br`, which are the same content in another coding.
pub fn etag(meta: &Metadata) -> String {
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).unwrap_or_default();
    format!("W/\"{:x}-{:x}.{:x}\"", meta.len(), mtime.as_secs(), mtime.subsec_nanos())
}

/// Whether an `If-None-Match` value (`*`, or a list of tags) matches, by the weak comparison RFC 9110 asks for.
pub fn none_match(header: &str, etag: &str) -> bool {
    let ours = opaque(etag);
    header.split(',').map(str::trim).any(|tag| tag == "*" || opaque(tag) == ours)
}

/// Whether a `Range` may be honoured under this `If-Range` value: a tag equal to ours, or a date equal to the
/// file's `Last-Modified`. Otherwise the file changed since the client's partial copy, and the whole file is sent.
pub fn range_still_valid(if_range: &str, etag: &str, modified: Option<SystemTime>) -> bool {
    let value = if_range.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        return opaque(value) == opaque(etag);
    }
    // HTTP dates have whole seconds: compare the file's time as `Last-Modified` showed it.
    let shown = modified.map(httpdate::fmt_http_date);
    httpdate::parse_http_date(value).ok().map(httpdate::fmt_http_date).is_some_and(|d| Some(d) == shown)
}

/// The quoted part of a tag, without a `W/` prefix.
fn opaque(tag: &str) -> &str {
    tag.trim().trim_start_matches("W/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_compare_weakly_and_stars_match() {
        let tag = "W/\"5-1.0\"";
        assert!(none_match(tag, tag));
        assert!(none_match("\"x\", \"5-1.0\"", tag));
        assert!(none_match("*", tag));
        assert!(!none_match("W/\"6-1.0\"", tag));
        assert!(range_still_valid("W/\"5-1.0\"", tag, None));
        assert!(!range_still_valid("\"6-1.0\"", tag, None));
        let modified = httpdate::parse_http_date("Mon, 30 Nov 2026 12:00:00 GMT").ok();
        let later = modified.map(|m| m + std::time::Duration::from_millis(300));
        assert!(range_still_valid("Mon, 30 Nov 2026 12:00:00 GMT", tag, later));
        assert!(!range_still_valid("Sun, 29 Nov 2026 12:00:00 GMT", tag, modified));
        assert!(!range_still_valid("yesterday", tag, modified));
    }
}
