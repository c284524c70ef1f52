//! Which metric names and label names a PromQL expression reads, so the test can hold
//! every rule and panel to the names `namesrv` exports. A scanner, not a parser:
//! `promtool` (rules) and the real Prometheus (panels) prove the expressions parse; this
//! only has to find the selectors in expressions that do.

use std::collections::BTreeSet;

/// What one expression reads.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Names {
    pub metrics: BTreeSet<String>,
    pub labels: BTreeSet<String>,
}

/// PromQL words that look like identifiers but are not series.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
];

/// Aggregation operators, which may take their `by`/`without` before the parentheses.
const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
];

/// Keywords whose parenthesised list names labels, not expressions.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// The metrics and labels `expr` reads. Grafana's `$var` and `${var}` may appear where
/// PromQL allows a string or a duration.
pub fn names(expr: &str) -> Names {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Names::default();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(&chars, i);
        } else if c == '#' {
            // A comment runs to the end of the line.
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '{' {
            let end = find_close(&chars, i, '{', '}');
            matcher_labels(&chars[i + 1..end], &mut out.labels);
            i = end + 1;
        } else if c == '[' {
            i = find_close(&chars, i, '[', ']') + 1;
        } else if c == '$' {
            // A Grafana variable: `$name` or `${name}`.
            i += 1;
            if i < chars.len() && chars[i] == '{' {
                i = find_close(&chars, i, '{', '}') + 1;
            } else {
                while i < chars.len() && is_ident(chars[i]) {
                    i += 1;
                }
            }
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            // A number, exponent and all (`1e3`, `0x1f` never name a series).
            while i < chars.len() && (is_ident(chars[i]) || chars[i] == '.') {
                i += 1;
            }
        } else if is_ident_start(c) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            // `f(...)` is a call; `sum by (l) (...)` an aggregation with its grouping first.
            let rest: String = chars[next..].iter().take(8).collect();
            let grouped = AGGREGATIONS.contains(&word.as_str())
                && (rest.starts_with("by") || rest.starts_with("without"));
            let calls = (next < chars.len() && chars[next] == '(') || grouped;
            if LABEL_LISTS.contains(&word.as_str()) {
                if calls {
                    let end = find_close(&chars, next, '(', ')');
                    for label in chars[next + 1..end].iter().collect::<String>().split(',') {
                        let label = label.trim();
                        if !label.is_empty() {
                            out.labels.insert(label.to_string());
                        }
                    }
                    i = end + 1;
                }
            } else if !calls && !KEYWORDS.contains(&word.to_ascii_lowercase().as_str()) {
                out.metrics.insert(word);
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The index just past the string literal opening at `open`.
fn skip_string(chars: &[char], open: usize) -> usize {
    let quote = chars[open];
    let mut i = open + 1;
    while i < chars.len() && chars[i] != quote {
        if chars[i] == '\\' && quote != '`' {
            i += 1;
        }
        i += 1;
    }
    i + 1
}

/// The index of the bracket closing the one at `open` (strings skipped); the end of
/// the text when it is missing (promtool reports that, not this scanner).
fn find_close(chars: &[char], open: usize, left: char, right: char) -> usize {
    let mut depth = 0;
    let mut i = open;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(chars, i);
            continue;
        }
        if c == left {
            depth += 1;
        } else if c == right {
            depth -= 1;
            if depth == 0 {
                return i;
            }
        }
        i += 1;
    }
    chars.len()
}

/// Label names of a `{name="v", other=~"x"}` matcher list.
fn matcher_labels(inner: &[char], labels: &mut BTreeSet<String>) {
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(inner, i);
        } else if is_ident_start(c) {
            let start = i;
            while i < inner.len() && is_ident(inner[i]) {
                i += 1;
            }
            labels.insert(inner[start..i].iter().collect());
        } else {
            i += 1;
        }
    }
}

/// Grafana's `label_values(metric, label)` (a template variable, not PromQL).
pub fn label_values(query: &str) -> Option<(String, String)> {
    let args = query
        .trim()
        .strip_prefix("label_values(")?
        .strip_suffix(')')?;
    let (metric, label) = args.split_once(',')?;
    Some((metric.trim().to_string(), label.trim().to_string()))
}

/// The `expr:` values of a Prometheus rules file: plain one-line values and `|` / `>`
/// blocks (the two forms our rules use), unquoted.
pub fn rule_exprs(yaml: &str) -> Vec<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut exprs = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = line.len() - line.trim_start().len();
        i += 1;
        let Some(value) = line.trim_start().strip_prefix("expr:") else {
            continue;
        };
        let value = value.trim();
        if value.starts_with('|') || value.starts_with('>') {
            let mut block = String::new();
            while i < lines.len() {
                let l = lines[i];
                let l_indent = l.len() - l.trim_start().len();
                if !l.trim().is_empty() && l_indent <= indent {
                    break;
                }
                block.push_str(l.trim());
                block.push('\n');
                i += 1;
            }
            exprs.push(block);
        } else {
            let unquoted = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
                .unwrap_or(value);
            exprs.push(unquoted.to_string());
        }
    }
    exprs
}

/// Every PromQL expression of a Grafana dashboard: each panel's (and nested row
/// panel's) `targets[].expr`, and the template variables' queries.
pub fn dashboard_exprs(dashboard: &serde_json::Value) -> (Vec<String>, Vec<String>) {
    fn walk(panels: &serde_json::Value, out: &mut Vec<String>) {
        for panel in panels.as_array().into_iter().flatten() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    out.push(expr.to_string());
                }
            }
            walk(&panel["panels"], out);
        }
    }
    let mut exprs = Vec::new();
    walk(&dashboard["panels"], &mut exprs);
    let mut variables = Vec::new();
    for var in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if var["type"] == "query" {
            let query = var["query"]["query"].as_str().or(var["query"].as_str());
            if let Some(q) = query {
                variables.push(q.to_string());
            }
        }
    }
    (exprs, variables)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_selectors_and_labels_not_functions_or_variables() {
        let n = names(
            r#"histogram_quantile(0.99, sum by (instance, le) (rate(a_bucket{class="route",instance=~"$instance"}[$__rate_interval])))
               > 1e-3 and on (instance) b_total offset 5m unless ignoring(x) c{y!="a}b"} # d
               or time() - process_start_time_seconds"#,
        );
        assert_eq!(
            n.metrics,
            set(&["a_bucket", "b_total", "c", "process_start_time_seconds"])
        );
        assert_eq!(n.labels, set(&["class", "instance", "le", "x", "y"]));
    }

    #[test]
    fn reads_rule_blocks_and_lines() {
        let yaml = "groups:\n  - rules:\n      - alert: A\n        expr: |\n          x\n            > 1\n        for: 1m\n      - alert: B\n        expr: 'y == 0'\n";
        assert_eq!(
            rule_exprs(yaml),
            vec!["x\n> 1\n".to_string(), "y == 0".to_string()]
        );
        assert_eq!(
            label_values("label_values(m, instance)"),
            Some(("m".to_string(), "instance".to_string()))
        );
    }
}
