#!/usr/bin/env python3
"""Writes namesrv-dashboard.json (the Grafana dashboard of the RocketMQ name server).

    python3 deploy/grafana/generate.py > deploy/grafana/namesrv-dashboard.json

Edit the panels here, not in the JSON: tests/deploy checks that the committed JSON is
exactly what this prints, and that every query reads only series namesrv exports.
"""
import json

# Every query goes to the data source picked in the dashboard's "Data source" variable
# and reads the name servers picked in its "Name server" variable.
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'instance=~"$instance"'

# Panels are laid out left to right on Grafana's 24-column grid, a new line when a
# panel does not fit or newline() is called; row() starts a titled section.
panels = []
pid = [0]
y = [0]
def nid():
    pid[0] += 1
    return pid[0]
def row(title):
    panels.append({"type": "row", "title": title, "id": nid(), "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y[0]}, "panels": []})
    y[0] += 1
x = [0]
def place(w, h):
    if x[0] + w > 24:
        x[0] = 0
        y[0] += h
    g = {"h": h, "w": w, "x": x[0], "y": y[0]}
    x[0] += w
    return g
def newline(h):
    if x[0] != 0:
        x[0] = 0
        y[0] += h
def target(expr, legend, ref):
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref, "range": True}
def ts(title, desc, targets, unit="short", w=8, h=8, stack=False, mn=0):
    p = {"type": "timeseries", "title": title, "description": desc, "id": nid(), "datasource": DS,
         "gridPos": place(w, h),
         "targets": [target(e, l, chr(65 + i)) for i, (e, l) in enumerate(targets)],
         "fieldConfig": {"defaults": {"unit": unit, "min": mn,
                                       "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
                                                  "showPoints": "never",
                                                  "stacking": {"mode": "normal" if stack else "none", "group": "A"}}},
                         "overrides": []},
         "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                     "tooltip": {"mode": "multi", "sort": "desc"}}}
    if mn is None:
        del p["fieldConfig"]["defaults"]["min"]
    panels.append(p)
def stat(title, desc, expr, legend="{{instance}}", unit="short", w=3, h=4, thresholds=None, mappings=None):
    p = {"type": "stat", "title": title, "description": desc, "id": nid(), "datasource": DS,
         "gridPos": place(w, h), "targets": [target(expr, legend, "A")],
         "fieldConfig": {"defaults": {"unit": unit,
                                       "thresholds": thresholds or {"mode": "absolute", "steps": [{"color": "blue", "value": None}]},
                                       "mappings": mappings or []}, "overrides": []},
         "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                     "colorMode": "value", "graphMode": "area", "textMode": "auto", "justifyMode": "auto",
                     "orientation": "auto"}}
    if legend is None:
        p["options"]["textMode"] = "name"
    panels.append(p)

# Per-second rate of counter m, summed by `by`; extra adds label matchers.
def rate(m, extra="", by="instance"):
    sel = SEL + ("," + extra if extra else "")
    return f'sum by ({by}) (rate({m}{{{sel}}}[$__rate_interval]))'
# Quantile quant of histogram m, per `by`.
def q(quant, m, extra="", by="instance"):
    sel = SEL + ("," + extra if extra else "")
    return f'histogram_quantile({quant}, sum by ({by}, le) (rate({m}_bucket{{{sel}}}[$__rate_interval])))'

row("Overview")
stat("Ready", "rocketmq_namesrv_ready: 1 when /readyz answers 200 (routes are served), 0 during needWaitForService and shutdown.",
     f'rocketmq_namesrv_ready{{{SEL}}}',
     thresholds={"mode": "absolute", "steps": [{"color": "red", "value": None}, {"color": "green", "value": 1}]},
     mappings=[{"type": "value", "options": {"0": {"text": "NOT READY", "color": "red"}, "1": {"text": "READY", "color": "green"}}}])
stat("Live brokers", "Live broker addresses in the current routing snapshot.", f'rocketmq_namesrv_brokers{{{SEL}}}')
stat("Broker groups", "Broker names (master + slaves share one).", f'rocketmq_namesrv_broker_groups{{{SEL}}}')
stat("Clusters", "Clusters in the current snapshot.", f'rocketmq_namesrv_clusters{{{SEL}}}')
stat("Topics", "Topics in the current snapshot.", f'rocketmq_namesrv_topics{{{SEL}}}')
stat("Connections", "Open remoting connections (brokers, clients, admin tools).", f'rocketmq_namesrv_connections{{{SEL}}}')
stat("Uptime", "Time since the process started.", f'time() - process_start_time_seconds{{{SEL}}}', unit="s")
stat("Version", "rocketmq_namesrv_build_info", f'rocketmq_namesrv_build_info{{{SEL}}}', legend="{{instance}}: {{version}}", w=3)
newline(4)

row("Route lookups")
ts("Route lookups per second", "GET_ROUTEINFO_BY_TOPIC (request code 105) by response code: 0 = success, 17 = TOPIC_NOT_EXIST.",
   [(f'sum by (instance, response_code) (rate(rocketmq_namesrv_requests_total{{{SEL},code="105"}}[$__rate_interval]))', "{{instance}} code={{response_code}}")],
   unit="reqps", w=8)
ts("Route lookup latency", "From the frame decoded to the reply written.",
   [(q(0.5, "rocketmq_namesrv_request_duration_seconds", 'class="route"'), "{{instance}} p50"),
    (q(0.99, "rocketmq_namesrv_request_duration_seconds", 'class="route"'), "{{instance}} p99"),
    (q(0.999, "rocketmq_namesrv_request_duration_seconds", 'class="route"'), "{{instance}} p99.9")],
   unit="s", w=8)
ts("Requests per second by shard", "Requests answered by each listener shard (one per core); a lopsided spread means SO_REUSEPORT hashed a few heavy clients onto one core.",
   [(rate("rocketmq_namesrv_shard_requests_total", by="instance, shard"), "{{instance}} shard {{shard}}")],
   unit="reqps", w=8, stack=True)
newline(8)

row("Requests by class")
ts("Requests per second by class", "route = topic routes; broker = registrations, heartbeats, unregistrations; admin = cluster info, topic lists, config; kv = KV config.",
   [(rate("rocketmq_namesrv_request_duration_seconds_count", by="instance, class"), "{{instance}} {{class}}")],
   unit="reqps", w=8, stack=True)
ts("p99 latency by class", "Writes (broker, part of admin and kv) include the wait for their snapshot publish.",
   [(q(0.99, "rocketmq_namesrv_request_duration_seconds", by="instance, class"), "{{instance}} {{class}}")],
   unit="s", w=8)
ts("Requests per second by code", "Every request answered, by request code and response code (oneway requests: response_code=none).",
   [(f'sum by (code, response_code) (rate(rocketmq_namesrv_requests_total{{{SEL}}}[$__rate_interval]))', "code={{code}} rc={{response_code}}")],
   unit="reqps", w=8)
newline(8)

row("Brokers")
ts("Live brokers", "Live broker addresses, broker groups and clusters over time; a drop is a broker that unregistered, closed its connection or expired.",
   [(f'rocketmq_namesrv_brokers{{{SEL}}}', "{{instance}} brokers"),
    (f'rocketmq_namesrv_broker_groups{{{SEL}}}', "{{instance}} groups"),
    (f'rocketmq_namesrv_clusters{{{SEL}}}', "{{instance}} clusters")], w=8)
ts("Registrations per second", "Broker registrations by result: changed (new data, a snapshot is published), unchanged (a heartbeat), rejected.",
   [(rate("rocketmq_namesrv_broker_registrations_total", by="instance, result"), "{{instance}} {{result}}")],
   unit="reqps", w=8)
ts("Unregistrations and expiries", "Brokers removed per interval: on request (shutdown), when their connection closed, or expired (no heartbeat within their timeout).",
   [(f'sum by (instance, reason) (increase(rocketmq_namesrv_broker_unregistrations_total{{{SEL}}}[$__rate_interval]))', "{{instance}} {{reason}}")],
   w=8)
newline(8)

row("Connections")
ts("Open connections", "", [(f'rocketmq_namesrv_connections{{{SEL}}}', "{{instance}}")], w=8)
ts("Connections accepted per second", "", [(rate("rocketmq_namesrv_connections_accepted_total"), "{{instance}}")], unit="cps", w=8)
ts("Connections closed per second", "By reason: peer, idle, bad_frame, expired_broker, limit, shutdown.",
   [(rate("rocketmq_namesrv_connections_closed_total", by="instance, reason"), "{{instance}} {{reason}}")], unit="cps", w=8)
newline(8)

row("Writer and snapshot")
ts("Snapshot publishes per second", "Each write batch publishes one new snapshot that lookups then read.",
   [(rate("rocketmq_namesrv_snapshot_publishes_total"), "{{instance}}")], unit="ops", w=6)
ts("Snapshot publish time", "",
   [(q(0.5, "rocketmq_namesrv_snapshot_publish_duration_seconds"), "{{instance}} p50"),
    (q(0.99, "rocketmq_namesrv_snapshot_publish_duration_seconds"), "{{instance}} p99")], unit="s", w=6)
ts("Writes per batch", "How many writes the writer applied per publish.",
   [(q(0.5, "rocketmq_namesrv_writer_batch_writes"), "{{instance}} p50"),
    (q(0.99, "rocketmq_namesrv_writer_batch_writes"), "{{instance}} p99")], w=6)
ts("Write queue depth", "Writes waiting for the writer.",
   [(f'rocketmq_namesrv_write_queue_depth{{{SEL}}}', "{{instance}}")], w=6)
newline(8)
ts("KV persist time", "Writing the KV config file after a KV change.",
   [(q(0.99, "rocketmq_namesrv_kv_persist_duration_seconds"), "{{instance}} p99")], unit="s", w=8)
ts("KV entries", "", [(f'rocketmq_namesrv_kv_entries{{{SEL}}}', "{{instance}}")], w=8)
ts("Topics", "", [(f'rocketmq_namesrv_topics{{{SEL}}}', "{{instance}}")], w=8)
newline(8)

row("Rejections")
ts("Frames rejected per second", "Frames refused before they reached a handler, by reason; each closes its connection.",
   [(rate("rocketmq_namesrv_frames_rejected_total", by="instance, reason"), "{{instance}} {{reason}}")], unit="cps", w=8)
ts("Registrations rejected per second", "",
   [(rate("rocketmq_namesrv_broker_registrations_total", 'result="rejected"'), "{{instance}}")], unit="reqps", w=8)
ts("Connections refused at the limit", "",
   [(rate("rocketmq_namesrv_connections_closed_total", 'reason="limit"'), "{{instance}}")], unit="cps", w=8)
newline(8)

row("Process")
ts("Resident memory", "", [(f'process_resident_memory_bytes{{{SEL}}}', "{{instance}}")], unit="bytes", w=8)
ts("CPU", "CPU time used per second (1 = one core).", [(f'rate(process_cpu_seconds_total{{{SEL}}}[$__rate_interval])', "{{instance}}")], unit="percentunit", w=8)
ts("Open file descriptors", "", [(f'process_open_fds{{{SEL}}}', "{{instance}}")], w=8)
newline(8)

dash = {
    "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.0.0"},
                   {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
                   {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
                   {"type": "panel", "id": "stat", "name": "Stat", "version": ""}],
    "title": "RocketMQ name server",
    "uid": "rocketmq-namesrv",
    "description": "The RocketMQ name server (namesrv): routes, brokers, connections, writer, rejections, process. Metrics from /metrics on httpPort.",
    "tags": ["rocketmq", "namesrv"],
    "editable": True,
    "graphTooltip": 1,
    "refresh": "30s",
    "schemaVersion": 39,
    "version": 1,
    "time": {"from": "now-3h", "to": "now"},
    "timepicker": {},
    "timezone": "",
    "annotations": {"list": []},
    "links": [],
    "templating": {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "refresh": 1, "options": [], "regex": ""},
        {"name": "instance", "label": "Name server", "type": "query", "datasource": DS,
         "definition": "label_values(rocketmq_namesrv_build_info, instance)",
         "query": {"query": "label_values(rocketmq_namesrv_build_info, instance)", "refId": "instance"},
         "refresh": 2, "multi": True, "includeAll": True, "allValue": ".+", "current": {}, "hide": 0,
         "options": [], "regex": "", "sort": 1},
    ]},
    "panels": panels,
}
print(json.dumps(dash, indent=2))
