//! The allow-list: which URL paths name a file of the app, and where that file is. Everything else is 404, so a
//! classroom network never sees `.git/`, the sources, `runs/` or anything a symlink points at outside the root.

use std::path::{Path, PathBuf};

/// The files at the top of the root that the app is made of; every other file it needs is under `DIRS`.
const TOP_FILES: [&str; 4] = ["index.html", "train.html", "lm.html", "sw.js"];
/// The folders served whole: the JS modules and built wasm, and the models the pages load.
const DIRS: [&str; 2] = ["web", "models"];
/// The rendered lessons (`lesson build`): their pages only, not the Markdown they are made from.
const LESSONS: &str = "lessons";

/// The file a URL path names, relative to the root with `/` separators, if the app has such a file.
///
/// Refused (None): anything not under the allow-list; an empty segment (`//`, a trailing `/`: no directory is ever
/// listed); a segment starting with `.` (`..`, `.`, `.git`, dotfiles); backslashes, NUL or other control bytes,
/// raw or percent-encoded; an encoded `/` (`%2f`, which would otherwise hide a `..` from the segment check); a
/// malformed escape or bytes that are not UTF-8. Checking decoded segments, not the decoded path, is what makes
/// `%2e%2e` and `%2f` harmless.
pub fn app_path(url_path: &str) -> Option<String> {
    let rest = url_path.strip_prefix('/')?;
    if rest.is_empty() {
        return Some("index.html".into());
    }
    if rest == "lessons/" {
        return Some("lessons/index.html".into());
    }
    let segments = rest.split('/').map(decode_segment).collect::<Option<Vec<_>>>()?;
    let allowed = match segments.as_slice() {
        [file] => TOP_FILES.contains(&file.as_str()),
        [dir, file] if dir == LESSONS => file.ends_with(".html"),
        [dir, _, ..] => DIRS.contains(&dir.as_str()),
        [] => false,
    };
    allowed.then(|| segments.join("/"))
}

/// One path segment, percent-decoded, or None if it is not a plain file or folder name.
fn decode_segment(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: u8| (b as char).to_digit(16);
            let (hi, lo) = (hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?);
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let name = String::from_utf8(out).ok()?;
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control);
    plain.then_some(name)
}

/// `serve` as a Hub mirror (`hub=` in a link, `--hub` in the CLI): `/{org}/{name}/resolve/main/{file}`, the
/// layout transformers.js and the Hub use, is the file in `models/{org}/{name}/` or else `models/{name}/` (so the
/// default model's folder answers `hf:sentence-transformers/all-MiniLM-L6-v2`); `/{name}/resolve/main/{file}` for
/// the Hub's older top-level ids. Only `main`: a folder has no other revisions. The candidates, in that order.
pub fn mirror_paths(url_path: &str) -> Option<Vec<String>> {
    let rest = url_path.strip_prefix('/')?;
    let segments = rest.split('/').map(decode_segment).collect::<Option<Vec<_>>>()?;
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    match seg.as_slice() {
        [org, name, "resolve", "main", file] => {
            Some(vec![format!("models/{org}/{name}/{file}"), format!("models/{name}/{file}")])
        }
        [name, "resolve", "main", file] => Some(vec![format!("models/{name}/{file}")]),
        _ => None,
    }
}

/// The file on disk for a URL path: allowed by `app_path`, existing, a regular file, and, once every symlink is
/// resolved, still an allowed path under the (canonical) root. The second check is what stops a symlink under
/// `web/` or `models/` that points at `/etc` or at the root's own `Cargo.toml`.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let candidates = mirror_paths(url_path).or_else(|| Some(vec![app_path(url_path)?]))?;
    candidates.iter().find_map(|rel| inside(root, rel))
}

fn inside(root: &Path, rel: &str) -> Option<PathBuf> {
    let file = root.join(rel).canonicalize().ok()?;
    let inside = file.strip_prefix(root).ok()?;
    let parts = inside.iter().map(|p| p.to_str()).collect::<Option<Vec<_>>>()?;
    app_path(&format!("/{}", parts.join("/")))?;
    file.is_file().then_some(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_app_s_files_are_named() {
        assert_eq!(app_path("/").as_deref(), Some("index.html"));
        assert_eq!(app_path("/train.html").as_deref(), Some("train.html"));
        assert_eq!(app_path("/web/pkg/a%20b.wasm").as_deref(), Some("web/pkg/a b.wasm"));
        assert_eq!(app_path("/models/tiny/config.json").as_deref(), Some("models/tiny/config.json"));
        assert_eq!(app_path("/lessons/").as_deref(), Some("lessons/index.html"));
        assert_eq!(app_path("/lessons/lora-basics.html").as_deref(), Some("lessons/lora-basics.html"));
        for bad in [
            "",
            "/web",
            "/web/",
            "/models/",
            "/Cargo.toml",
            "/.git/config",
            "/crate/src/lib.rs",
            "/runs/x",
            "/web/../Cargo.toml",
            "/web/%2e%2e/Cargo.toml",
            "/web/a%2f..%2f..%2fCargo.toml",
            "/web/a%5c..",
            "/web\\..\\Cargo.toml",
            "/web//app.js",
            "/web/a%00.js",
            "/web/.hidden",
            "/web/%zz",
            "/web/%ff",
            "//etc/passwd",
            "/index.html/",
            "/web/./app.js",
            "/web/a%0a",
            "/lessons/lora-basics.md",
            "/lessons/a/b.html",
            "/lessons",
        ] {
            assert_eq!(app_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_mirror_layout_names_model_folders() {
        let m = |p: &str| mirror_paths(p);
        assert_eq!(
            m("/sentence-transformers/all-MiniLM-L6-v2/resolve/main/config.json").unwrap(),
            ["models/sentence-transformers/all-MiniLM-L6-v2/config.json", "models/all-MiniLM-L6-v2/config.json"]
        );
        assert_eq!(m("/tiny/resolve/main/model.safetensors").unwrap(), ["models/tiny/model.safetensors"]);
        for bad in [
            "/a/b/resolve/v1/config.json",
            "/a/b/resolve/main/",
            "/a/../resolve/main/x",
            "/a/b/resolve/main/x/y",
            "/a/%2e%2e/resolve/main/x",
            "/a/b/raw/main/config.json",
            "/.git/b/resolve/main/config",
        ] {
            assert_eq!(m(bad), None, "{bad}");
        }
        let root = std::env::temp_dir().join(format!("lp-mirror-{}", std::process::id()));
        std::fs::create_dir_all(root.join("models/m")).unwrap();
        std::fs::write(root.join("models/m/config.json"), "{}").unwrap();
        let root = root.canonicalize().unwrap();
        assert_eq!(resolve(&root, "/any-org/m/resolve/main/config.json"), Some(root.join("models/m/config.json")));
        assert_eq!(resolve(&root, "/any-org/m/resolve/main/tokenizer.json"), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
