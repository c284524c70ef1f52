//! The built-in console: server-rendered pages at `/`, `/topics`, `/topic/<name>`
//! and `/kv`, and the same data as JSON under `/api/…`. With
//! `authenticationEnabled` the admin-only data (configuration, KV store) is left
//! out (`model::admin_data_hidden`).
//!
//! Pure functions from a [`ServerView`] (one snapshot, its live view, the
//! counters) to a page; the HTTP listener's thread calls [`respond`] and never
//! touches the shards or the writer.
//!
//! - `model`: the data each page shows (what `/api/…` serialises);
//! - `html`: the pages; `escape`: the one HTML escaper and the URL codec;
//! - `pretty`: order-keeping JSON indentation for the route page;
//! - `rates`: per-shard request rates from the counters.

mod escape;
mod html;
pub mod model;
mod pretty;
pub mod rates;

#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::http::console::Page;
pub use model::{sorted_topics, ServerView, ShardStat};

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";

/// The page at `path` (`query`: what follows `?`); `None` for a path the console
/// does not serve.
pub fn respond(path: &str, query: Option<&str>, view: &ServerView<'_>) -> Option<Page> {
    let page = match path {
        "/" | "/index.html" => html_page(
            200,
            html::overview(&model::server(view), &model::clusters(view)),
        ),
        "/topics" => {
            let (q, page) = paging(query);
            html_page(200, html::topics(&model::topics(view, &q, page)))
        }
        "/kv" if model::admin_data_hidden(view) => html_page(403, html::kv_hidden()),
        "/kv" => html_page(200, html::kv(&model::kv(view))),
        "/api/server" => json_page(200, &model::server(view)),
        "/api/clusters" => json_page(200, &model::clusters(view)),
        "/api/kv" if model::admin_data_hidden(view) => Page {
            status: 403,
            content_type: TEXT,
            body: format!(
                "{}: the KV store is for admin accounts only\n",
                model::HIDDEN_BY_AUTH
            )
            .into_bytes(),
        },
        "/api/kv" => json_page(200, &model::kv(view)),
        "/api/topics" => {
            let (q, page) = paging(query);
            json_page(200, &model::topics(view, &q, page))
        }
        _ => {
            if let Some(enc) = path.strip_prefix("/api/topic/") {
                let name = escape::decode_component(enc, false)?;
                match model::topic_route(view, &name) {
                    Some(route) => json_page(200, &route),
                    None => json_page(
                        404,
                        &NoRoute {
                            topic: name,
                            code: 17,
                        },
                    ),
                }
            } else if let Some(enc) = path.strip_prefix("/topic/") {
                let name = escape::decode_component(enc, false)?;
                let route = model::topic_route(view, &name);
                let status = if route.is_some() { 200 } else { 404 };
                html_page(status, html::topic(&name, route.as_ref()))
            } else if path.starts_with("/api/") {
                return None;
            } else {
                html_page(404, html::not_found(path))
            }
        }
    };
    Some(page)
}

/// A lookup of this topic answers TOPIC_NOT_EXIST.
#[derive(Serialize)]
struct NoRoute {
    topic: String,
    code: i32,
}

/// `q` (substring, default empty) and `page` (from 1, default 1).
fn paging(query: Option<&str>) -> (String, usize) {
    let q = escape::query_param(query, "q").unwrap_or_default();
    let page = escape::query_param(query, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    (q, page)
}

fn html_page(status: u16, body: String) -> Page {
    Page {
        status,
        content_type: HTML,
        body: body.into_bytes(),
    }
}

fn json_page(status: u16, value: &impl Serialize) -> Page {
    match serde_json::to_vec_pretty(value) {
        Ok(body) => Page {
            status,
            content_type: JSON,
            body,
        },
        Err(e) => {
            tracing::error!(error = %e, "console JSON encoding failed");
            Page {
                status: 500,
                content_type: TEXT,
                body: b"encoding failed\n".to_vec(),
            }
        }
    }
}
