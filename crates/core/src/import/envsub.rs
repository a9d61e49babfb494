//! goose's `-- +goose ENVSUB ON` sections: goose replaces `${VAR}`, `$VAR` and
//! `${VAR:-default}` there with the environment's values as it runs the file. The import
//! makes such a file a template (`-- skein:template`) whose `{{ VAR }}` skein fills when it
//! runs, from the database's vars or else the environment: nothing is left raw.

/// One line of a section and whether an ENVSUB section holds it.
pub(super) type Line = (String, bool);

/// The section's text: when an ENVSUB line uses a variable, a template (every literal `{{`,
/// `{%` and `{#` kept as text, each variable a placeholder) and the variables' names;
/// else the lines as they are and no names.
pub(super) fn convert(lines: &[Line]) -> (String, Vec<String>) {
    let mut names = Vec::new();
    let mut converted = String::new();
    for (line, envsub) in lines {
        if *envsub {
            converted.push_str(&substitute(line, &mut names));
        } else {
            converted.push_str(&escape(line));
        }
        converted.push('\n');
    }
    if names.is_empty() {
        let plain: String = lines.iter().map(|(line, _)| format!("{line}\n")).collect();
        return (plain, names);
    }
    (converted, names)
}

/// Literal template syntax kept as text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '{'
            && let Some(&next) = chars.peek()
            && matches!(next, '{' | '%' | '#')
        {
            chars.next();
            out.push_str(&format!("{{{{ \"{{{next}\" }}}}"));
            continue;
        }
        out.push(c);
    }
    out
}

/// `${VAR}`, `$VAR`, `${VAR:-default}` as placeholders; `$$` is one `$`, as goose reads it.
fn substitute(line: &str, names: &mut Vec<String>) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(['$', '{']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix('{') {
            let taken = if after.starts_with(['{', '%', '#']) {
                2
            } else {
                1
            };
            out.push_str(&escape(&tail[..taken]));
            rest = &tail[taken..];
            continue;
        }
        if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
            continue;
        }
        let (name, default, used) = if let Some(braced) = tail.strip_prefix("${") {
            match braced.find('}') {
                Some(end) => {
                    let inner = &braced[..end];
                    let (name, default) = match inner.split_once(":-") {
                        Some((name, default)) => (name, Some(default)),
                        None => (inner, None),
                    };
                    (name, default, end + 3)
                }
                None => ("", None, 0),
            }
        } else {
            let name_len = tail[1..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len() - 1);
            (&tail[1..1 + name_len], None, 1 + name_len)
        };
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            out.push('$');
            rest = &tail[1..];
            continue;
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
        match default {
            Some(default) => out.push_str(&format!(
                "{{{{ {name} | default({}) }}}}",
                serde_json::Value::from(default)
            )),
            None => out.push_str(&format!("{{{{ {name} }}}}")),
        }
        rest = &tail[used..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[(&str, bool)]) -> Vec<Line> {
        text.iter().map(|(l, e)| ((*l).to_owned(), *e)).collect()
    }

    #[test]
    fn variables_in_envsub_lines_become_placeholders_and_the_rest_stays_text() {
        let (text, names) = convert(&lines(&[
            ("CREATE TABLE post (body ${TEXT_TYPE}, n $NUM_TYPE);", true),
            (
                "INSERT INTO post VALUES ('${NOT_SUBSTITUTED}', '{{x}}');",
                false,
            ),
            ("SELECT '${GREETING:-hello}', '$$', '{%';", true),
        ]));
        assert_eq!(names, ["TEXT_TYPE", "NUM_TYPE", "GREETING"]);
        assert_eq!(
            text,
            "CREATE TABLE post (body {{ TEXT_TYPE }}, n {{ NUM_TYPE }});\n\
             INSERT INTO post VALUES ('${NOT_SUBSTITUTED}', '{{ \"{{\" }}x}}');\n\
             SELECT '{{ GREETING | default(\"hello\") }}', '$', '{{ \"{%\" }}';\n"
        );
    }

    #[test]
    fn a_section_without_variables_is_left_as_written() {
        let section = lines(&[("SELECT '{{' || $1;", true), ("SELECT 2;", false)]);
        let (text, names) = convert(&section);
        assert!(names.is_empty());
        assert_eq!(text, "SELECT '{{' || $1;\nSELECT 2;\n");
    }
}
