//! The string literals of a Python script, decoded as Python would: the Linux onboarding
//! script holds the whole `mdatp_onboard.json` in one (`json.write('''{ "onboardingInfo": ...
//! }''')`), escaped for the literal's quotes.
//!
//! One pass over the script: comments are skipped, each literal is found by its quotes (single,
//! double or triple) and its prefix (`r`, `b`, `u`, `f` and their pairs), and decoded by the
//! escapes of that prefix. Literals side by side (`"a" "b"`, or on lines of one bracket) are
//! joined, as Python joins them.

use super::shapes::{Lines, Literal};

/// The literals of `source`, in order, decoded.
pub(super) fn literals(source: &str) -> Vec<Literal> {
    let b = source.as_bytes();
    let mut out: Vec<Literal> = Vec::new();
    let mut lines = Lines::default();
    let mut depth = 0usize;
    let mut last_end: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                i = b[i..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map_or(b.len(), |n| i + n)
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'\'' | b'"' => {
                let (start, prefix) = prefix_before(b, i);
                let (content, end) = scan(b, i);
                let text = decode(&source[content.0..content.1], prefix);
                let joined = last_end.is_some_and(|from| joins(&b[from..start], depth));
                match out.last_mut() {
                    Some(prev) if joined => prev.text.push_str(&text),
                    _ => out.push(Literal {
                        text,
                        line: lines.at(b, start),
                    }),
                }
                last_end = Some(end);
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// How a literal is decoded.
#[derive(Clone, Copy, Default)]
struct Prefix {
    /// `r`: backslashes are kept
    raw: bool,
    /// `b`: no `\u`, `\U` or `\N` escapes
    bytes: bool,
    /// `f`: `{{` and `}}` stand for one brace
    format: bool,
}

/// Where a literal whose quote is at `quote` starts, and its prefix. Letters before the quote
/// that are not a prefix belong to a name, and the literal is read as having none.
fn prefix_before(b: &[u8], quote: usize) -> (usize, Prefix) {
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut start = quote;
    while start > 0 && quote - start < 3 && ident(b[start - 1]) {
        start -= 1;
    }
    if (start > 0 && ident(b[start - 1])) || quote - start > 2 {
        return (quote, Prefix::default());
    }
    let letters = b[start..quote].to_ascii_lowercase();
    let valid = matches!(
        letters.as_slice(),
        b"" | b"r" | b"u" | b"b" | b"f" | b"br" | b"rb" | b"fr" | b"rf"
    );
    if !valid {
        return (quote, Prefix::default());
    }
    let has = |c: u8| letters.contains(&c);
    let prefix = Prefix {
        raw: has(b'r'),
        bytes: has(b'b'),
        format: has(b'f'),
    };
    (start, prefix)
}

/// The content of the literal whose opening quote is at `quote` (its byte range) and the byte
/// after its closing quote. A backslash always takes the next character with it, in raw
/// literals too (`r"\""` is two characters). A literal without its closing quote ends at the
/// end of its line (one quote) or of the script (three).
fn scan(b: &[u8], quote: usize) -> ((usize, usize), usize) {
    let q = b[quote];
    let triple = b.get(quote + 1) == Some(&q) && b.get(quote + 2) == Some(&q);
    let start = if triple { quote + 3 } else { quote + 1 };
    let mut j = start;
    while j < b.len() {
        match b[j] {
            b'\\' => {
                j += if b.get(j + 1) == Some(&b'\r') && b.get(j + 2) == Some(&b'\n') {
                    3
                } else {
                    2
                };
                continue;
            }
            c if triple && c == q && b.get(j + 1) == Some(&q) && b.get(j + 2) == Some(&q) => {
                return ((start, j), j + 3);
            }
            c if !triple && c == q => return ((start, j), j + 1),
            b'\n' if !triple => return ((start, j), j),
            _ => {}
        }
        j += 1;
    }
    ((start, b.len()), b.len())
}

/// True when the bytes between two literals join them: white space, a backslash before a line
/// break, and inside brackets also line breaks and comments.
fn joins(gap: &[u8], depth: usize) -> bool {
    let mut k = 0;
    while k < gap.len() {
        match (gap[k], gap.get(k + 1), gap.get(k + 2)) {
            (b' ' | b'\t' | b'\x0c' | b'\r', _, _) => k += 1,
            (b'\\', Some(b'\n'), _) => k += 2,
            (b'\\', Some(b'\r'), Some(b'\n')) => k += 3,
            (b'\n', _, _) if depth > 0 => k += 1,
            (b'#', _, _) if depth > 0 => {
                k += gap[k..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .unwrap_or(gap.len() - k);
            }
            _ => return false,
        }
    }
    true
}

/// The value of a literal's content under its prefix.
fn decode(content: &str, prefix: Prefix) -> String {
    let text = if prefix.raw {
        content.to_string()
    } else {
        unescape(content, prefix.bytes)
    };
    if prefix.format {
        text.replace("{{", "{").replace("}}", "}")
    } else {
        text
    }
}

/// Python's backslash escapes. An escape Python does not know keeps its backslash, as Python
/// does; `\N{...}` (a character by name) is kept as written.
fn unescape(content: &str, bytes: bool) -> String {
    let mut out = String::with_capacity(content.len());
    let mut chars = content.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            '\n' => {}
            '\r' => {
                chars.next_if_eq(&'\n');
            }
            '\\' | '\'' | '"' => out.push(e),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '0'..='7' => {
                let mut value = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            value = value * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(value).unwrap_or('\u{fffd}'));
            }
            'x' => hex_escape(&mut chars, 2, 'x', &mut out),
            'u' if !bytes => hex_escape(&mut chars, 4, 'u', &mut out),
            'U' if !bytes => hex_escape(&mut chars, 8, 'U', &mut out),
            _ => {
                out.push('\\');
                out.push(e);
            }
        }
    }
    out
}

/// `\xhh`, `\uhhhh`, `\Uhhhhhhhh`: exactly `digits` hex digits; a short escape, an error to
/// Python, is kept as written.
fn hex_escape(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    digits: usize,
    letter: char,
    out: &mut String,
) {
    let mut taken = String::new();
    while taken.len() < digits {
        match chars.next_if(char::is_ascii_hexdigit) {
            Some(d) => taken.push(d),
            None => break,
        }
    }
    match u32::from_str_radix(&taken, 16) {
        Ok(value) if taken.len() == digits => {
            out.push(char::from_u32(value).unwrap_or('\u{fffd}'));
        }
        _ => {
            out.push('\\');
            out.push(letter);
            out.push_str(&taken);
        }
    }
}
