//! QAPI doc markup (a subset of reStructuredText) → rustdoc Markdown.
//!
//! What changes:
//! * `@name` (a member reference) and ``` ``literal`` ``` → `` `name` ``;
//! * `.. qmp-example::`, `.. table::` and `::` literal blocks → fenced
//!   ```` ```text ```` blocks (never Rust: rustdoc would compile them);
//! * `.. note::`, `.. caution::`, `.. admonition:: Title` → a bold label and
//!   the dedented content;
//! * `[`, `]`, `<`, `>` outside code are escaped, so rustdoc sees neither
//!   links nor HTML;
//! * indentation of four spaces or more outside literal blocks is cut to
//!   three, so that no paragraph turns into an accidental code block.
//!
//! All functions here are pure; the table tests show the awkward inputs.

/// An `Example:` section of QEMU before 9.1 (QMP exchanges, maybe with
/// prose between them) as one ```` ```text ```` block, shown verbatim.
pub fn example_to_markdown(text: &str) -> String {
    let body: Vec<String> = text.lines().map(str::to_string).collect();
    let mut out = String::with_capacity(text.len() + 16);
    fenced(&mut out, &body);
    out.trim_end_matches('\n').to_string()
}

/// Converts one doc section's text to Markdown.
pub fn to_markdown(text: &str) -> String {
    let dedented = dedent_continuation(text);
    let lines: Vec<&str> = dedented.lines().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(".. ") {
            if let Some((name, arg)) = rest.split_once("::") {
                let indent = line.len() - trimmed.len();
                let (body, next) = indented_block(&lines, i + 1, indent);
                let body = strip_options(&body);
                match name.trim() {
                    "qmp-example" | "table" | "code-block" | "code" => {
                        let title = arg.trim();
                        if !title.is_empty() {
                            push_line(&mut out, &format!("{}:", inline(title)));
                            out.push('\n');
                        }
                        fenced(&mut out, &body);
                    }
                    other => {
                        let mut body = body;
                        let label = match (other, arg.trim()) {
                            ("admonition", t) if !t.is_empty() => t.to_string(),
                            (o, t) => {
                                // `.. note:: First line` starts the content.
                                if !t.is_empty() {
                                    body.insert(0, t.to_string());
                                }
                                capitalize(o)
                            }
                        };
                        push_line(&mut out, &format!("**{}:**", inline(&label)));
                        out.push('\n');
                        let inner = to_markdown(&body.join("\n"));
                        out.push_str(&inner);
                        if !inner.is_empty() && !inner.ends_with('\n') {
                            out.push('\n');
                        }
                    }
                }
                i = next;
                continue;
            }
        }
        if trimmed.ends_with("::") && !trimmed.starts_with("..") {
            // A literal block follows: `text::` → `text:`, lone `::` vanishes.
            let indent = line.len() - trimmed.len();
            let head = trimmed.trim_end_matches("::").trim_end();
            if !head.is_empty() {
                push_line(
                    &mut out,
                    &format!("{}{}:", cap_indent(indent), inline(head)),
                );
            }
            let (body, next) = indented_block(&lines, i + 1, indent);
            if !body.is_empty() {
                out.push('\n');
                fenced(&mut out, &body);
                i = next;
                continue;
            }
            i += 1;
            continue;
        }
        let indent = line.len() - trimmed.len();
        push_line(
            &mut out,
            &format!("{}{}", cap_indent(indent), inline(trimmed)),
        );
        i += 1;
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

/// Member descriptions continue on lines indented under their first
/// line (`@name: text` / `    more`): that common indentation goes.
fn dedent_continuation(text: &str) -> std::borrow::Cow<'_, str> {
    let mut lines = text.lines();
    let Some(first) = lines.next() else {
        return text.into();
    };
    let first_t = first.trim_start();
    if first.len() != first_t.len()
        || first_t.starts_with(['*', '-'])
        || is_numbered_item(first_t)
        || first_t.starts_with("..")
        || first_t.ends_with("::")
    {
        return text.into();
    }
    let min = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    if min == 0 {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    for (i, l) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(l.get(min..).unwrap_or("").trim_end());
        } else {
            out.push_str(l);
        }
    }
    out.into()
}

/// `1. text`, `12. text`.
fn is_numbered_item(line: &str) -> bool {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && line[digits..].starts_with(". ")
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line.trim_end());
    out.push('\n');
}

fn cap_indent(n: usize) -> &'static str {
    &"   "[..n.min(3)]
}

fn capitalize(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(c) => c.to_uppercase().chain(cs).collect(),
        None => String::new(),
    }
}

/// The lines after `start` indented deeper than `indent` (blank lines
/// included, trailing ones dropped), dedented; and the index after them.
fn indented_block(lines: &[&str], start: usize, indent: usize) -> (Vec<String>, usize) {
    let mut end = start;
    while end < lines.len() {
        let l = lines[end];
        let t = l.trim_start();
        if !t.is_empty() && l.len() - t.len() <= indent {
            break;
        }
        end += 1;
    }
    let block = &lines[start..end];
    let min = block
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut body: Vec<String> = block
        .iter()
        .map(|l| l.get(min..).unwrap_or("").trim_end().to_string())
        .collect();
    while body.first().is_some_and(|l| l.is_empty()) {
        body.remove(0);
    }
    while body.last().is_some_and(|l| l.is_empty()) {
        body.pop();
    }
    // Trailing blank lines belong to what follows.
    let mut next = end;
    while next > start && lines[next - 1].trim().is_empty() {
        next -= 1;
    }
    (body, next)
}

/// Drops a directive's leading `:option: value` lines.
fn strip_options(body: &[String]) -> Vec<String> {
    let mut skip = 0;
    while skip < body.len() && body[skip].starts_with(':') && body[skip][1..].contains(':') {
        skip += 1;
    }
    let mut rest: Vec<String> = body[skip..].to_vec();
    while rest.first().is_some_and(|l| l.is_empty()) {
        rest.remove(0);
    }
    rest
}

fn fenced(out: &mut String, body: &[String]) {
    out.push_str("```text\n");
    for l in body {
        push_line(out, l);
    }
    out.push_str("```\n");
}

/// Inline markup of one line: member references, literals, escapes.
pub fn inline(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let b = line.as_bytes();
    let mut i = 0;
    let mut prev_word = false;
    while i < b.len() {
        let c = b[i];
        if c == b'`' {
            // ``literal`` or `interpreted`: keep as a code span.
            let ticks = if line[i..].starts_with("``") { 2 } else { 1 };
            if let Some(end) = line[i + ticks..].find(&"``"[..ticks]) {
                let inner = &line[i + ticks..i + ticks + end];
                code_span(&mut out, inner);
                i += 2 * ticks + end;
                prev_word = false;
                continue;
            }
        }
        if c == b'@' && !prev_word {
            let name_len = line[i + 1..]
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
                .count();
            // A trailing dot ends the sentence, not the name.
            let name = line[i + 1..i + 1 + name_len].trim_end_matches('.');
            if !name.is_empty() {
                code_span(&mut out, name);
                i += 1 + name.len();
                prev_word = true;
                continue;
            }
        }
        match c {
            b'[' | b']' | b'<' | b'>' | b'\\' => {
                out.push('\\');
                out.push(c as char);
                i += 1;
            }
            _ => {
                let ch = line[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
        prev_word = c.is_ascii_alphanumeric();
    }
    out
}

fn code_span(out: &mut String, inner: &str) {
    if inner.contains('`') {
        out.push_str("`` ");
        out.push_str(inner);
        out.push_str(" ``");
    } else {
        out.push('`');
        out.push_str(inner);
        out.push('`');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_verbatim() {
        assert_eq!(
            example_to_markdown("-> { \"execute\": \"stop\" }\n<- { \"return\": {} }"),
            "```text\n-> { \"execute\": \"stop\" }\n<- { \"return\": {} }\n```"
        );
    }

    #[test]
    fn inline_table() {
        let cases = [
            (
                "uses @model and @migration-safe.",
                "uses `model` and `migration-safe`.",
            ),
            ("mail a@b", "mail a@b"),
            ("``-device help`` works", "`-device help` works"),
            ("a [list] <tag>", "a \\[list\\] \\<tag\\>"),
            ("*emphasis* stays", "*emphasis* stays"),
            ("back\\slash", "back\\\\slash"),
            ("unterminated ``x", "unterminated ``x"),
            ("üñí @x", "üñí `x`"),
        ];
        for (input, want) in cases {
            assert_eq!(inline(input), want, "{input}");
        }
    }

    #[test]
    fn blocks_table() {
        let cases = [
            ("plain\ntext", "plain\ntext"),
            (
                "Example::\n\n    -> { \"execute\": \"x\" }\n\nAfter.",
                "Example:\n\n```text\n-> { \"execute\": \"x\" }\n```\n\nAfter.",
            ),
            (
                ".. qmp-example::\n   :title: Title here\n\n   -> {}\n   <- {}",
                "```text\n-> {}\n<- {}\n```",
            ),
            (
                ".. note:: \n\n   Be careful\n   with @x.\n\nNext",
                "**Note:**\n\nBe careful\nwith `x`.\n\nNext",
            ),
            (
                ".. admonition:: Notes\n\n    1. one\n       more",
                "**Notes:**\n\n1. one\n   more",
            ),
            ("* item\n  continued", "* item\n  continued"),
            ("        deep", "   deep"),
            ("the name\n    continued here", "the name\ncontinued here"),
            (
                ".. note:: Static expansion\n   may drop features.",
                "**Note:**\n\nStatic expansion\nmay drop features.",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(to_markdown(input), want, "{input:?}");
        }
    }
}
