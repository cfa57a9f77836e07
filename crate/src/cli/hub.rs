//! `--model hf:ORG/NAME[@REVISION]`: a model by its Hugging Face Hub id, fetched the way transformers(.js) fetch
//! one, from `{hub}/{id}/resolve/{revision}/{file}`. The hub is `--hub`, else `$LP_HUB`, else huggingface.co, so a
//! course can point at its own mirror (`lora-playground serve` is one for its `models/` folders).
//!
//! Files are kept under `$LP_HUB_CACHE` (default `~/.cache/lp/hub`) by hub, id and revision, each written to a
//! `.part` file and renamed only once every byte the server promised is in: a cut download is never mistaken for a
//! model. `check` runs on each file as it lands, so a config naming an architecture we cannot train stops the run
//! before the weights (hundreds of MB) are fetched.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const DEFAULT_HUB: &str = "https://huggingface.co";

/// A Hub id and the revision (branch, tag or commit) to fetch.
#[derive(Debug, PartialEq)]
pub struct HubId {
    pub repo: String,
    pub revision: String,
}

impl HubId {
    /// `hf:ORG/NAME`, `hf:NAME` (the Hub's older top-level ids) or either with `@REVISION`; None when `model` is
    /// not an `hf:` id at all.
    pub fn parse(model: &str) -> Option<Result<Self, String>> {
        let id = model.strip_prefix("hf:")?;
        let (repo, revision) = id.split_once('@').unwrap_or((id, "main"));
        // Names as the Hub allows them; nothing that could leave the URL path or the cache folder.
        let plain = |s: &str| {
            !s.is_empty() && !s.starts_with('.') && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        let parts: Vec<&str> = repo.split('/').collect();
        if parts.len() > 2 || !parts.iter().all(|p| plain(p)) {
            return Some(Err(format!(
                "--model {model}: a Hub id is hf:ORG/NAME (letters, digits, '-', '_', '.'), optionally @REVISION"
            )));
        }
        if !plain(revision) {
            return Some(Err(format!(
                "--model {model}: the revision '{revision}' must be a branch, tag or commit without '/'"
            )));
        }
        Some(Ok(Self { repo: repo.to_string(), revision: revision.to_string() }))
    }

    pub fn url(&self, hub: &str, file: &str) -> String {
        format!("{hub}/{}/resolve/{}/{file}", self.repo, self.revision)
    }
}

/// The hub to use: `--hub`, else `$LP_HUB`, else the Hugging Face Hub; without a trailing `/`.
pub fn hub(flag: Option<&str>) -> Result<String, String> {
    let chosen =
        flag.map(str::to_string).or_else(|| std::env::var("LP_HUB").ok()).unwrap_or_else(|| DEFAULT_HUB.into());
    let trimmed = chosen.trim_end_matches('/').to_string();
    if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
        return Err(format!("--hub {chosen}: expected an http:// or https:// address (for example {DEFAULT_HUB})"));
    }
    Ok(trimmed)
}

/// Where the files of `id` from `hub` are kept.
fn cache_dir(hub: &str, id: &HubId) -> PathBuf {
    let root = std::env::var_os("LP_HUB_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").unwrap_or_else(|| ".".into())).join(".cache/lp/hub"));
    let host: String = hub
        .split("://")
        .nth(1)
        .unwrap_or(hub)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' })
        .collect();
    root.join(host).join(&id.repo).join(&id.revision)
}

/// Fetches `files` of `id` (each once: a kept file is not fetched again) and returns the folder holding them.
/// `check` runs on each file as it arrives (a kept file passed it when it came, and the caller reads it anyway).
pub fn fetch(
    id: &HubId,
    hub: &str,
    files: &[&str],
    check: impl Fn(&str, &Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let dir = cache_dir(hub, id);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        // A stalled connection (the network gone without a reset) fails after a minute instead of hanging.
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into();
    for file in files {
        let path = dir.join(file);
        if path.is_file() {
            continue;
        }
        download(&agent, id, hub, file, &path)?;
        if let Err(e) = check(file, &path) {
            // A file that fails its check (a mirror's half-written copy) is not kept to fail again.
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
    }
    Ok(dir)
}

fn download(agent: &ureq::Agent, id: &HubId, hub: &str, file: &str, path: &Path) -> Result<(), String> {
    let url = id.url(hub, file);
    let what = format!("hf:{} ({file} from {url})", id.repo);
    let mut res = agent.get(&url).call().map_err(|e| format!("{what}: cannot reach the hub: {e}"))?;
    let status = res.status().as_u16();
    if status != 200 {
        let code = res.headers().get("x-error-code").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        return Err(format!("{what}: {}", refusal(status, &code, &id.revision)));
    }
    let kind = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if kind.starts_with("text/html") {
        return Err(format!(
            "{what}: the server answered a web page, not the file: is {hub} a Hub or a mirror of one \
                            (files at HUB/ORG/NAME/resolve/REVISION/FILE)?"
        ));
    }
    let expected = res.body().content_length();
    let part = path.with_file_name(format!("{file}.part"));
    let written = copy(res.body_mut().as_reader(), &part, file, expected).map_err(|(got, e)| {
        let _ = std::fs::remove_file(&part);
        let of = expected.map(|n| format!(" of {n}")).unwrap_or_default();
        format!("{what}: the download broke off after {got}{of} bytes ({e}); nothing was kept, run the command again")
    })?;
    if let Some(n) = expected.filter(|&n| n != written) {
        let _ = std::fs::remove_file(&part);
        return Err(format!(
            "{what}: truncated: {written} of {n} bytes arrived; nothing was kept, run the command again"
        ));
    }
    std::fs::rename(&part, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// What a refusal means to the person who typed the id. The Hub answers 401 both for a gated or private model
/// and for one that does not exist (so as not to reveal private names); its `X-Error-Code` tells them apart.
fn refusal(status: u16, code: &str, revision: &str) -> String {
    match (status, code) {
        (_, "RepoNotFound") => format!("no such model ({status}): check the id's spelling, or it is private"),
        (_, "RevisionNotFound") => format!("no revision '{revision}' ({status})"),
        (_, "EntryNotFound") | (404, _) => {
            format!("not found ({status}): no such model, revision or file; check the id's spelling")
        }
        (_, "GatedRepo") | (401 | 403, _) => format!(
            "refused ({status}): a gated or private model (or no such model: the Hub answers 401 for both). \
             Accept its terms on huggingface.co and download it there, then pass the folder to --model"
        ),
        _ => format!("the server answered {status}"),
    }
}

/// Streams the body to `part`, printing progress on stderr; on failure, the bytes written so far and why.
fn copy(mut body: impl Read, part: &Path, file: &str, expected: Option<u64>) -> Result<u64, (u64, String)> {
    let mut out = std::fs::File::create(part).map_err(|e| (0, e.to_string()))?;
    let (mut written, mut buf, mut shown) = (0u64, vec![0u8; 1 << 16], Instant::now());
    loop {
        let n = body.read(&mut buf).map_err(|e| (written, e.to_string()))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(|e| (written, e.to_string()))?;
        written += n as u64;
        if shown.elapsed() > Duration::from_millis(500) {
            let of = expected.map(|t| format!(" of {:.1} MB", t as f64 / 1e6)).unwrap_or_default();
            eprintln!("downloading {file}: {:.1} MB{of}", written as f64 / 1e6);
            shown = Instant::now();
        }
    }
    out.sync_all().map_err(|e| (written, e.to_string()))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_the_hub_names_them() {
        let id = |s: &str| HubId::parse(s).unwrap().unwrap();
        assert_eq!(
            id("hf:google-bert/bert-base-uncased"),
            HubId { repo: "google-bert/bert-base-uncased".into(), revision: "main".into() }
        );
        assert_eq!(id("hf:bert-base-uncased@v1.0").revision, "v1.0");
        assert_eq!(id("hf:org/m").url("http://h", "config.json"), "http://h/org/m/resolve/main/config.json");
        assert!(HubId::parse("models/x").is_none());
        for bad in ["hf:", "hf:a/b/c", "hf:../x", "hf:a/.git", "hf:a/b@", "hf:a/b@refs/pr/1", "hf:a b/c", "hf:a/b?x=1"]
        {
            assert!(HubId::parse(bad).unwrap().is_err(), "{bad}");
        }
    }

    #[test]
    fn refusals_say_what_to_do() {
        assert!(refusal(401, "", "main").contains("gated or private"));
        assert!(refusal(401, "RepoNotFound", "main").contains("no such model"));
        assert!(refusal(404, "RevisionNotFound", "v9").contains("'v9'"));
        assert!(refusal(404, "", "main").contains("not found (404)"));
        assert!(refusal(500, "", "main").contains("500"));
    }
}
