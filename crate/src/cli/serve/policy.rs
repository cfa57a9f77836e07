//! The router and what every response carries: the security headers, a body limit and a request timeout.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use super::files;

/// What the pages need and no more: same-origin scripts, modules and the trainer's Web Worker; wasm compiled by
/// `WebAssembly.instantiateStreaming` (`'wasm-unsafe-eval'`, which allows no JS eval); inline `style=` attributes;
/// `blob:`/`data:` for download links and images; fetches of same-origin files, and of models by Hub id from any
/// https hub (huggingface.co redirects weights to its CDNs, and `hub=` may name a course's own mirror) or from a
/// mirror on this machine (`http://127.0.0.1:*`, `http://localhost:*`). No inline `<script>` is allowed.
/// `frame-ancestors *`: course sites embed the pages in iframes (so no `X-Frame-Options` either).
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; \
                       style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' blob: data: https: http://127.0.0.1:* http://localhost:*; \
                       object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors *";

/// A GET has no body worth reading; anything bigger is refused before it is buffered.
const MAX_BODY_BYTES: usize = 1024;
/// Time to answer a request once its headers are in (the body is then streamed without this deadline: a 90 MB
/// model on a busy classroom Wi-Fi may take minutes; a stalled or endless one is cut by the bounds in `mod.rs`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn app(root: Arc<PathBuf>) -> Router {
    Router::new()
        .fallback(files::serve)
        .with_state(root)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        // Browsers must not guess a type (a text file run as a script), on every response, errors included.
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
}
