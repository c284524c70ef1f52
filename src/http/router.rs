//! Which page a request gets: the probes and `/metrics` here, every other path
//! from the console. Refused: methods other than GET and HEAD (405) and requests
//! with a body (413); the listener is read-only.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body;
use hyper::header::{HeaderValue, ACCEPT, ALLOW, CONNECTION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};

use super::console::{self, ConsoleCtx, Page};
use super::metrics::expose;

const TEXT: &str = "text/plain; charset=utf-8";

/// Answers one request.
pub fn route<B: Body>(req: &Request<B>, ctx: &std::sync::Arc<ConsoleCtx>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    if req.body().size_hint().lower() > 0 || !req.body().is_end_stream() {
        // Not read: close the connection rather than skip the body.
        let mut r = text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request bodies are refused\n",
        );
        r.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        return r;
    }
    let path = req.uri().path();
    match path {
        "/metrics" => {
            let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
            let (body, ty) = expose::render(ctx, expose::wants_openmetrics(accept));
            page(Page {
                status: 200,
                content_type: ty,
                body: body.into_bytes(),
            })
        }
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/readyz" => {
            if ctx.ready.is_ready() {
                text(StatusCode::OK, "ready\n")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
            }
        }
        _ => match console::respond(path, req.uri().query(), ctx) {
            Some(p) => page(p),
            None => text(StatusCode::NOT_FOUND, "not found\n"),
        },
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT));
    r
}

fn page(p: Page) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(p.body)));
    *r.status_mut() = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(p.content_type));
    // Defence in depth: every runtime string is escaped already.
    h.insert(
        hyper::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        hyper::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
        ),
    );
    r
}
