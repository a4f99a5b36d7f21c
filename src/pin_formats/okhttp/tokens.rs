//! A token reader for the Kotlin or Java code that builds an OkHttp pinner: strings,
//! identifiers, punctuation and line comments, enough to find `add(host, pins...)` calls, the
//! string constants they name and the comments that label pins.

/// A token of Kotlin or Java code; offsets are bytes into the text.
#[derive(Debug)]
pub(super) enum Token<'a> {
    Str { value: String, at: usize },
    Ident { name: &'a str, at: usize },
    Punct { c: char, at: usize },
    Comment { text: &'a str, at: usize },
}

impl Token<'_> {
    pub(super) fn at(&self) -> usize {
        match self {
            Token::Str { at, .. }
            | Token::Ident { at, .. }
            | Token::Punct { at, .. }
            | Token::Comment { at, .. } => *at,
        }
    }

    pub(super) fn is_punct(&self, want: char) -> bool {
        matches!(self, Token::Punct { c, .. } if *c == want)
    }

    pub(super) fn shown(&self) -> String {
        match self {
            Token::Str { value, .. } => format!("{value:?}"),
            Token::Ident { name, .. } => (*name).to_string(),
            Token::Punct { c, .. } => c.to_string(),
            Token::Comment { .. } => String::new(),
        }
    }
}

/// Splits code into strings, identifiers, punctuation and line comments (`//`, `#`); block
/// comments, numbers and character literals are skipped.
pub(super) fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let (token, next) = next_token(text, i);
        out.extend(token);
        i = next;
    }
    out
}

/// The token that starts at `i` (none for what is skipped), and the offset after it.
fn next_token(text: &str, i: usize) -> (Option<Token<'_>>, usize) {
    let bytes = text.as_bytes();
    match bytes[i] {
        b if b.is_ascii_whitespace() => (None, i + 1),
        b'/' if bytes.get(i + 1) == Some(&b'/') => line_comment(text, i, 2),
        b'/' if bytes.get(i + 1) == Some(&b'*') => {
            let end = text[i + 2..]
                .find("*/")
                .map_or(text.len(), |n| i + 2 + n + 2);
            (None, end)
        }
        // not Kotlin or Java, but the comment of pin lists
        b'#' => line_comment(text, i, 1),
        b'"' if text[i..].starts_with("\"\"\"") => raw_string(text, i),
        b'"' => {
            let (value, end) = string_literal(text, i + 1);
            (Some(Token::Str { value, at: i }), end)
        }
        b'\'' => (None, after_char_literal(text, i)),
        b if is_ident_byte(b) && !b.is_ascii_digit() => {
            let end = i + bytes[i..].iter().take_while(|b| is_ident_byte(**b)).count();
            let name = &text[i..end];
            (Some(Token::Ident { name, at: i }), end)
        }
        b if b.is_ascii_digit() => {
            let digits = bytes[i..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'.')
                .count();
            (None, i + digits)
        }
        _ => match text.get(i..).and_then(|rest| rest.chars().next()) {
            Some(c) => (Some(Token::Punct { c, at: i }), i + c.len_utf8()),
            None => (None, i + 1),
        },
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

fn line_end(text: &str, from: usize) -> usize {
    text[from..].find('\n').map_or(text.len(), |n| from + n)
}

/// A comment from `i` to the end of its line; its text starts after the `marker` bytes.
fn line_comment(text: &str, i: usize, marker: usize) -> (Option<Token<'_>>, usize) {
    let end = line_end(text, i);
    let comment = Token::Comment {
        text: &text[i + marker..end],
        at: i,
    };
    (Some(comment), end)
}

/// A Kotlin raw string, `"""..."""`, which has no escapes.
fn raw_string(text: &str, i: usize) -> (Option<Token<'_>>, usize) {
    let end = text[i + 3..]
        .find("\"\"\"")
        .map_or(text.len(), |n| i + 3 + n);
    let value = text[i + 3..end].to_string();
    (Some(Token::Str { value, at: i }), (end + 3).min(text.len()))
}

/// The offset after the character literal opening at `i`: its closing quote on the same line,
/// else the end of the line.
fn after_char_literal(text: &str, i: usize) -> usize {
    let end = line_end(text, i);
    let mut escaped = false;
    let close = text[i + 1..end].char_indices().find(|(_, c)| {
        let closes = *c == '\'' && !escaped;
        escaped = *c == '\\' && !escaped;
        closes
    });
    close.map_or(end, |(n, _)| i + 1 + n + 1)
}

/// The value of a `"..."` literal whose body starts at `start`, and the offset after it; an
/// unterminated literal ends at the end of its line.
fn string_literal(text: &str, start: usize) -> (String, usize) {
    let mut value = String::new();
    let mut chars = text[start..].char_indices();
    while let Some((n, c)) = chars.next() {
        match c {
            '"' => return (value, start + n + 1),
            '\n' => return (value, start + n),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, other)) => value.push(other),
                None => break,
            },
            c => value.push(c),
        }
    }
    (value, text.len())
}
