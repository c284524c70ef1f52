//! Re-indents JSON for reading without re-parsing it, so keys keep the exact
//! order (and the exact number and string spelling) of the bytes a lookup answers.

/// `json` indented by two spaces per level; strings are copied verbatim.
pub fn indent(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth: usize = 0;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // An empty object or array stays on its line.
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::indent;

    #[test]
    fn keeps_order_and_strings() {
        let json = r#"{"b":[1,{"x":"a,{:}\"q"}],"a":{},"c":[]}"#;
        assert_eq!(
            indent(json),
            "{\n  \"b\": [\n    1,\n    {\n      \"x\": \"a,{:}\\\"q\"\n    }\n  ],\n  \"a\": {},\n  \"c\": []\n}"
        );
    }

    #[test]
    fn legacy_integer_keys() {
        assert_eq!(indent(r#"{0:"a:1"}"#), "{\n  0: \"a:1\"\n}");
    }
}
