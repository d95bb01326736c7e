//! GET /app and GET /app/{proxy+}: the web app, served by the HTTP API
//! itself so it runs wherever the API runs (AWS, LocalStack, the local
//! cloud) and calls the API on its own origin: no CORS, and no API address
//! to configure or hard-code.
//!
//! The files under `site/` are built into the binary (`rust-embed`; a debug
//! build reads them from disk, so an edit shows on reload). Each answer
//! carries its content hash as `ETag` and `Cache-Control: no-cache`, so a
//! browser revalidates and gets 304 without the body until the app changes.
//! The content security policy allows only the app's own scripts, styles and
//! API: no inline script, no third-party origin.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "site/"]
struct Site;

const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                      connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; \
                      frame-ancestors 'none'";

/// The answer to a GET of the app or one of its files.
pub fn handle(req: &Request) -> Response<Body> {
    let path = req.uri().path();
    if path == "/app" {
        let mut res = plain(StatusCode::PERMANENT_REDIRECT, "");
        res.headers_mut().insert(
            header::LOCATION,
            HeaderValue::from_static("/app/index.html"),
        );
        return res;
    }
    let file = req
        .path_parameters_ref()
        .and_then(|p| p.first("proxy"))
        .unwrap_or("");
    let file = if file.is_empty() || file.ends_with('/') {
        format!("{file}index.html")
    } else {
        file.to_owned()
    };
    let Some(found) = Site::get(&file) else {
        return plain(StatusCode::NOT_FOUND, "Not Found");
    };
    let etag = format!("\"{}\"", hex(&found.metadata.sha256_hash()[..16]));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let (status, body) = if fresh {
        (StatusCode::NOT_MODIFIED, Body::Empty)
    } else {
        (StatusCode::OK, Body::Binary(found.data.into_owned()))
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, found.metadata.mimetype())
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, "no-cache")
        .body(body)
        .map(secure)
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"))
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut res = Response::new(Body::Text(text.to_owned()));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    secure(res)
}

fn secure(mut res: Response<Body>) -> Response<Body> {
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::testing::{edit, request, with_path_param};

    const FIXTURE: &str = include_str!("../../../events/web-app/get-index.json");

    fn get(file: &str) -> Response<Body> {
        handle(&with_path_param(FIXTURE, "proxy", file))
    }

    #[test]
    fn the_root_is_the_app_page_with_its_security_policy() {
        let res = get("");
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/html");
        assert!(
            res.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
        let Body::Binary(html) = res.body() else {
            panic!("a binary body")
        };
        assert!(String::from_utf8_lossy(html).contains("<main id=\"main\""));
    }

    #[test]
    fn every_module_the_page_loads_is_served_as_javascript() {
        let res = get("js/app.js");
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/javascript");
    }

    #[test]
    fn a_file_the_browser_holds_is_not_sent_again() {
        let first = get("app.css");
        let etag = first.headers()[header::ETAG].clone();
        let mut req = with_path_param(FIXTURE, "proxy", "app.css");
        req.headers_mut().insert(header::IF_NONE_MATCH, etag);
        let again = handle(&req);
        assert_eq!(again.status(), 304);
        assert!(matches!(again.body(), Body::Empty));
    }

    #[test]
    fn the_app_without_its_slash_redirects_to_it() {
        let fixture = edit(FIXTURE, |e| {
            e["rawPath"] = "/app".into();
            e["pathParameters"] = serde_json::json!({});
        });
        let res = handle(&request(&fixture));
        assert_eq!(res.status(), 308);
        assert_eq!(res.headers()[header::LOCATION], "/app/index.html");
    }

    #[test]
    fn an_unknown_file_is_404_and_a_climb_out_of_the_site_finds_nothing() {
        assert_eq!(get("nope.js").status(), 404);
        assert_eq!(get("../Cargo.toml").status(), 404);
        assert_eq!(get("../../template.yaml").status(), 404);
    }
}
