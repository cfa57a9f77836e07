//! One request for one file: the method, the allow-list, the validators, then tower-http's `ServeFile` for the
//! rest (streaming, `Range`, `Last-Modified` and `If-Modified-Since`, precompressed `.gz`/`.br`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeFile;

use super::{etag, routes};

/// The handler for every path (the router has no other route: the allow-list decides).
pub async fn serve(State(root): State<Arc<PathBuf>>, req: Request) -> Response {
    let mirror = routes::mirror_paths(req.uri().path()).is_some();
    let mut res = serve_file(&root, req).await;
    if mirror {
        // A page on another origin (a course's site with `hub=` naming this server) reads the files, and the
        // status of a refusal, only with this; the files are public and no credentials are ever involved.
        res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    res
}

async fn serve_file(root: &Path, mut req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")], "method not allowed\n")
            .into_response();
    }
    // A few syscalls (canonicalize, stat); cheap enough to run on the runtime's thread.
    let Some(file) = routes::resolve(root, req.uri().path()) else { return not_found() };
    let Ok(meta) = std::fs::metadata(&file) else { return not_found() };
    let tag = etag::etag(&meta);
    let modified = meta.modified().ok();

    let headers = req.headers_mut();
    if let Some(inm) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        if etag::none_match(inm, &tag) {
            return with_validators(StatusCode::NOT_MODIFIED.into_response(), &tag);
        }
        // RFC 9110 13.1.3: with an If-None-Match, If-Modified-Since is ignored (ServeFile would otherwise answer it).
        headers.remove(header::IF_MODIFIED_SINCE);
    }
    if let Some(if_range) = headers.remove(header::IF_RANGE)
        && !if_range.to_str().is_ok_and(|v| etag::range_still_valid(v, &tag, modified))
    {
        headers.remove(header::RANGE);
    }
    offer_only_usable_codings(headers, root, &file, modified);

    let kind = mime(&file);
    let served = ServeFile::new(&file).precompressed_br().precompressed_gzip().try_call(req).await;
    let mut res = match served {
        Ok(res) => res.map(Body::new),
        Err(_) => return not_found(),
    };
    if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED {
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
        res = with_validators(res, &tag);
    }
    res
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "not found\n").into_response()
}

/// The headers every file response carries: browsers revalidate each time (`no-cache`: a rebuilt wasm is seen at
/// once) and the ETag makes that revalidation a bodiless 304.
fn with_validators(mut res: Response, tag: &str) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    res
}

/// Rewrites `Accept-Encoding` so that ServeFile only picks a `.gz`/`.br` that may be sent: one at least as new as
/// the file (a stale one is an old build's bytes) and, once its symlinks are resolved, still inside the root.
fn offer_only_usable_codings(headers: &mut HeaderMap, root: &Path, file: &Path, modified: Option<SystemTime>) {
    let Some(accept) = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else { return };
    let usable = |ext: &str| {
        let mut name = file.as_os_str().to_owned();
        name.push(ext);
        let Ok(sibling) = Path::new(&name).canonicalize() else { return false };
        let fresh = std::fs::metadata(&sibling).ok().filter(|m| m.is_file()).and_then(|m| m.modified().ok());
        sibling.starts_with(root) && fresh.zip(modified).is_some_and(|(s, f)| s >= f)
    };
    let kept = filter_codings(accept, usable(".gz"), usable(".br"));
    match HeaderValue::from_str(&kept) {
        Ok(v) if !kept.is_empty() => headers.insert(header::ACCEPT_ENCODING, v),
        _ => headers.remove(header::ACCEPT_ENCODING),
    };
}

/// The `Accept-Encoding` list without gzip or br when that copy is not usable (q-values kept, so `gzip;q=0` still
/// refuses gzip), and without `*` (which would stand for them).
fn filter_codings(accept: &str, gzip_ok: bool, br_ok: bool) -> String {
    let keep = |coding: &&str| {
        let name = coding.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match name.as_str() {
            "gzip" | "x-gzip" => gzip_ok,
            "br" => br_ok,
            "*" => false,
            _ => true,
        }
    };
    accept.split(',').map(str::trim).filter(keep).collect::<Vec<_>>().join(", ")
}

/// The Content-Type by extension (browsers compile wasm only when it is `application/wasm`, and run module
/// scripts only with a JavaScript type).
fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_copies_are_not_offered() {
        assert_eq!(filter_codings("gzip, deflate, br, zstd", true, false), "gzip, deflate, zstd");
        assert_eq!(filter_codings("br;q=1.0, gzip;q=0.5", false, true), "br;q=1.0");
        assert_eq!(filter_codings("GZIP", false, false), "");
        assert_eq!(filter_codings("gzip;q=0, *", true, true), "gzip;q=0");
        assert_eq!(filter_codings("identity", true, true), "identity");
    }
}
