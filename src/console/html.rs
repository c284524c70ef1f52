//! The console's pages, rendered on the server from the `model` data: plain
//! HTML and inline CSS, no external resource, so it works offline; a few lines
//! of inline script for optional auto-refresh.

use super::escape::Html;
use super::model::{Broker, Clusters, Kv, Server, Shown, TopicPage, TopicRoute};
use super::pretty;

const STYLE: &str = "<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:22px;align-items:center}
header a{color:#cfd8ff;text-decoration:none}header b{color:#fff}
main{padding:14px 20px}
h2{font-size:17px;margin:18px 0 8px}h3{font-size:15px;margin:12px 0 6px}
table{border-collapse:collapse;background:#fff;margin-bottom:10px;font-size:13px}
th,td{border:1px solid #d9dde5;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eceff4}
.cluster{border-left:4px solid #4a6cf7;padding-left:10px;margin-bottom:14px}
.role-master{color:#0a7a32;font-weight:600}.role-slave{color:#555}.role-acting{color:#b36b00;font-weight:600}
.stale{color:#b00020;font-weight:600}
pre{background:#fff;border:1px solid #d9dde5;padding:8px;overflow:auto;font-size:12px}
.muted{color:#777;font-size:12px}
</style>";

const REFRESH: &str = "<script>
(function(){var k='nsConsoleRefresh',b=document.getElementById('refresh');
if(!b)return;b.checked=localStorage.getItem(k)==='1';
b.onchange=function(){localStorage.setItem(k,b.checked?'1':'0');if(b.checked)location.reload();};
if(b.checked)setTimeout(function(){location.reload();},5000);})();
</script>";

fn head(h: &mut Html, title: &str) {
    h.raw("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
        .text(title)
        .raw(" · RocketMQ NameServer</title>")
        .raw(STYLE)
        .raw("</head><body><header><b>RocketMQ NameServer</b>")
        .raw("<a href=\"/\">Overview</a><a href=\"/topics\">Topics</a><a href=\"/kv\">KV</a>")
        .raw("<a href=\"/api/server\">JSON</a><a href=\"/metrics\">Metrics</a>")
        .raw("<label class=\"muted\" style=\"color:#cfd8ff\"><input type=\"checkbox\" id=\"refresh\"> auto-refresh 5s</label>")
        .raw("</header><main>");
}

fn foot(h: &mut Html) {
    h.raw("</main>").raw(REFRESH).raw("</body></html>");
}

/// `/`: the server, then clusters → broker groups → brokers.
pub fn overview(server: &Server, clusters: &Clusters) -> String {
    let mut h = Html::new();
    head(&mut h, "Overview");
    h.raw("<h2>Server</h2><table id=\"server\"><tr><th>version</th><td>")
        .text(&server.version)
        .raw("</td><th>uptime</th><td>")
        .text(&duration_text(server.uptime_seconds * 1000))
        .raw("</td><th>ready</th><td>")
        .raw(if server.ready { "yes" } else { "no" })
        .raw("</td></tr><tr><th>clusters</th><td>")
        .num(server.clusters)
        .raw("</td><th>broker groups</th><td>")
        .num(server.broker_groups)
        .raw("</td><th>live brokers</th><td>")
        .num(server.live_brokers)
        .raw("</td></tr><tr><th>topics</th><td colspan=\"5\">")
        .num(server.topics)
        .raw("</td></tr></table>");
    h.raw("<h3>Shards</h3><table id=\"shards\"><tr><th>shard</th><th>connections</th><th>requests</th><th>requests/s</th></tr>");
    for s in &server.shards {
        h.raw("<tr><td>")
            .num(s.shard)
            .raw("</td><td>")
            .num(s.connections)
            .raw("</td><td>")
            .num(s.requests)
            .raw("</td><td>")
            .text(&format!("{:.1}", s.requests_per_second))
            .raw("</td></tr>");
    }
    h.raw("</table>");

    h.raw("<h2>Clusters</h2>");
    if clusters.clusters.is_empty() {
        h.raw("<p class=\"muted\">No broker has registered.</p>");
    }
    for c in &clusters.clusters {
        h.raw("<div class=\"cluster\"><h3>Cluster ")
            .text(&c.name)
            .raw("</h3>");
        h.raw("<table class=\"brokers\"><tr><th>broker group</th><th>zone</th><th>topics</th>")
            .raw("<th>id</th><th>role</th><th>address</th><th>data version</th>")
            .raw("<th>last heartbeat</th><th>timeout</th><th>connection peer</th></tr>");
        for g in &c.groups {
            for (i, b) in g.brokers.iter().enumerate() {
                h.raw("<tr>");
                if i == 0 {
                    let rows = g.brokers.len();
                    h.raw("<td rowspan=\"")
                        .num(rows)
                        .raw("\" class=\"group\">")
                        .text(&g.name)
                        .raw("</td><td rowspan=\"")
                        .num(rows)
                        .raw("\">")
                        .text(g.zone.as_deref().unwrap_or("—"))
                        .raw("</td><td rowspan=\"")
                        .num(rows)
                        .raw("\">")
                        .num(g.topics)
                        .raw("</td>");
                }
                broker_cells(&mut h, b);
                h.raw("</tr>");
            }
        }
        h.raw("</table></div>");
    }
    h.raw("<h2>Configuration</h2>");
    match &server.config {
        Shown::Data(config) => {
            h.raw("<table id=\"config\"><tr><th>key</th><th>value</th></tr>");
            for s in config {
                h.raw("<tr><td>")
                    .text(&s.key)
                    .raw("</td><td>")
                    .text(&s.value)
                    .raw("</td></tr>");
            }
            h.raw("</table>");
        }
        Shown::Hidden(_) => {
            h.raw("<p class=\"muted\" id=\"config-hidden\">")
                .raw(HIDDEN_CONFIG)
                .raw("</p>");
        }
    }
    foot(&mut h);
    h.finish()
}

fn broker_cells(h: &mut Html, b: &Broker) {
    h.raw("<td class=\"id\">")
        .num(b.id)
        .raw("</td><td class=\"role-");
    h.raw(b.role)
        .raw("\">")
        .raw(b.role)
        .raw("</td><td class=\"addr\">");
    h.text(&b.addr).raw("</td><td>");
    match &b.data_version {
        Some(v) => {
            h.num(v.counter)
                .raw(" / state ")
                .num(v.state_version)
                .raw(" / ")
                .num(v.timestamp);
        }
        None => {
            h.raw("—");
        }
    }
    h.raw("</td>");
    match (b.last_update_ms_ago, b.heartbeat_timeout_ms) {
        (Some(ago), Some(timeout)) => {
            h.raw(if ago > timeout / 2 {
                "<td class=\"stale\">"
            } else {
                "<td>"
            })
            .text(&duration_text(ago))
            .raw(" ago</td><td>")
            .text(&duration_text(timeout))
            .raw("</td>");
        }
        _ => {
            h.raw("<td>not live</td><td>—</td>");
        }
    }
    h.raw("<td class=\"peer\">")
        .text(b.peer.as_deref().unwrap_or("—"))
        .raw("</td>");
}

/// `1h 2m 3s`, `4.5s`, `120ms`.
fn duration_text(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    if s < 60 {
        return format!("{}.{}s", s, (ms % 1000) / 100);
    }
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}h {m}m {s}s")
    } else {
        format!("{m}m {s}s")
    }
}

/// `/topics`: the search form, one page of topics and the pager.
pub fn topics(page: &TopicPage) -> String {
    let mut h = Html::new();
    head(&mut h, "Topics");
    h.raw("<h2>Topics</h2><form method=\"get\" action=\"/topics\">")
        .raw("<input name=\"q\" placeholder=\"name contains…\" value=\"")
        .text(&page.query)
        .raw("\"> <button>Search</button></form><p class=\"muted\" id=\"count\">")
        .num(page.total)
        .raw(" topics, page ")
        .num(page.page)
        .raw(" of ")
        .num(page.pages)
        .raw("</p><table id=\"topics\"><tr><th>topic</th><th>broker groups</th>")
        .raw("<th>read queues</th><th>write queues</th></tr>");
    for t in &page.topics {
        h.raw("<tr><td><a href=\"/topic/")
            .url_part(&t.name)
            .raw("\">")
            .text(&t.name)
            .raw("</a></td><td>");
        for (i, g) in t.broker_groups.iter().enumerate() {
            if i > 0 {
                h.raw(", ");
            }
            h.text(g);
        }
        h.raw("</td><td>")
            .num(t.read_queues)
            .raw("</td><td>")
            .num(t.write_queues)
            .raw("</td></tr>");
    }
    h.raw("</table><p>");
    if page.page > 1 {
        pager_link(&mut h, &page.query, page.page - 1, "← previous");
    }
    if page.page < page.pages {
        pager_link(&mut h, &page.query, page.page + 1, "next →");
    }
    h.raw("</p>");
    foot(&mut h);
    h.finish()
}

fn pager_link(h: &mut Html, query: &str, page: usize, label: &'static str) {
    h.raw("<a href=\"/topics?q=")
        .url_part(query)
        .raw("&amp;page=")
        .num(page)
        .raw("\">")
        .raw(label)
        .raw("</a> ");
}

/// `/topic/<name>`: the route's queue data, then the body as a lookup answers it.
pub fn topic(name: &str, route: Option<&TopicRoute>) -> String {
    let mut h = Html::new();
    head(&mut h, name);
    h.raw("<h2>Topic <span id=\"topic\">")
        .text(name)
        .raw("</span></h2>");
    let Some(route) = route else {
        h.raw("<p id=\"missing\">No route: a lookup answers TOPIC_NOT_EXIST (17).</p>");
        foot(&mut h);
        return h.finish();
    };
    h.raw("<h3>Queue data</h3><table id=\"queues\"><tr><th>brokerName</th><th>readQueueNums</th>")
        .raw("<th>writeQueueNums</th><th>perm</th><th>topicSysFlag</th></tr>");
    for q in &route.queue_datas {
        h.raw("<tr><td>")
            .text(&q.broker_name)
            .raw("</td><td>")
            .num(q.read_queue_nums)
            .raw("</td><td>")
            .num(q.write_queue_nums)
            .raw("</td><td>")
            .num(q.perm)
            .raw("</td><td>")
            .num(q.topic_sys_flag)
            .raw("</td></tr>");
    }
    h.raw("</table><h3>Route (GET_ROUTEINFO_BY_TOPIC, clients 4.9.4+), indented</h3><pre id=\"pretty\">")
        .text(&pretty::indent(&route.body))
        .raw("</pre><h3>Raw body, ")
        .num(route.body.len())
        .raw(" bytes</h3><pre id=\"raw\">")
        .text(&route.body)
        .raw("</pre><h3>Raw body for older clients (legacy dialect), ")
        .num(route.legacy_body.len())
        .raw(" bytes</h3><pre id=\"raw-legacy\">")
        .text(&route.legacy_body)
        .raw("</pre>");
    foot(&mut h);
    h.finish()
}

/// Why the overview has no configuration table with authentication on.
const HIDDEN_CONFIG: &str = "Not shown: with authenticationEnabled=true only admin accounts \
    may read the configuration (GET_NAMESRV_CONFIG), and this page has no accounts.";

/// `/kv` with authentication on: why there is nothing.
pub fn kv_hidden() -> String {
    let mut h = Html::new();
    head(&mut h, "KV");
    h.raw("<h2>KV namespaces</h2><p class=\"muted\" id=\"kv-hidden\">")
        .raw(
            "Not shown: with authenticationEnabled=true only admin accounts may read the KV \
            store (GET_KV_CONFIG, GET_KVLIST_BY_NAMESPACE), and this page has no accounts.",
        )
        .raw("</p>");
    foot(&mut h);
    h.finish()
}

/// `/kv`: every namespace and its entries.
pub fn kv(kv: &Kv) -> String {
    let mut h = Html::new();
    head(&mut h, "KV");
    h.raw("<h2>KV namespaces</h2>");
    if kv.namespaces.is_empty() {
        h.raw("<p class=\"muted\">The KV store is empty.</p>");
    }
    for ns in &kv.namespaces {
        h.raw("<h3>")
            .text(&ns.namespace)
            .raw("</h3><table class=\"kv\"><tr><th>key</th><th>value</th></tr>");
        for e in &ns.entries {
            h.raw("<tr><td>")
                .text(&e.key)
                .raw("</td><td>")
                .text(&e.value)
                .raw("</td></tr>");
        }
        h.raw("</table>");
    }
    foot(&mut h);
    h.finish()
}

/// Any page that does not exist.
pub fn not_found(path: &str) -> String {
    let mut h = Html::new();
    head(&mut h, "Not found");
    h.raw("<h2>Not found</h2><p>").text(path).raw("</p>");
    foot(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::duration_text;

    #[test]
    fn durations() {
        assert_eq!(duration_text(120), "120ms");
        assert_eq!(duration_text(4_560), "4.5s");
        assert_eq!(duration_text(120_000), "2m 0s");
        assert_eq!(duration_text(3_723_000), "1h 2m 3s");
    }
}
