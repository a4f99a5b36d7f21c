//! OkHttp's `CertificatePinner` pins: plain `sha256/<base64>` lines, or the Kotlin or Java code
//! that builds a pinner (`.add("example.com", "sha256/...")`), as mobile teams hand them over.
//!
//! A file with a string literal in it is read as code: every `add(host, pins...)` call whose
//! arguments include a `sha…/` string becomes pins of the set named after its host, string
//! constants of the same file are followed (`.add(HOST, PIN_LEAF)`), and a `sha256/` string
//! outside any call joins the set named after the file. Other code is not pins and is skipped;
//! anything inside a pinner call that is not a readable pin is an error. A trailing `//`
//! comment on a pin's line is its label.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use super::{
    default_name, entry, label_of, line_col, one_line, pin_from_base64, ForeignSet, Problems,
    SetsByName,
};
use crate::error::Error;
use crate::pins::Pin;

/// Reads OkHttp pins: Kotlin/Java code when the text holds a string literal (outside
/// comments), plain lines otherwise.
pub(super) fn read(text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    let tokens = tokens(text);
    if tokens.iter().any(|t| matches!(t, Token::Str { .. })) {
        read_code(text, &tokens, file)
    } else {
        read_lines(text, file)
    }
}

/// Parses one OkHttp pin, `sha256/<base64>`; the error names the text and what is expected.
fn parse_pin(text: &str) -> Result<Pin, String> {
    if let Some(rest) = text.strip_prefix("sha256/") {
        match pin_from_base64(rest) {
            Ok(pin) => Ok(pin),
            // a digest may itself start with '/', so curl's form is named only when it reads
            Err(_) if rest.strip_prefix('/').is_some_and(|r| pin_from_base64(r).is_ok()) => Err(
                format!("{text:?} is curl's form (sha256//): OkHttp writes sha256/<base64>, with one slash"),
            ),
            Err(e) => Err(format!("{text:?} is not a valid pin: {e}")),
        }
    } else if text.starts_with("sha1/") {
        Err(format!(
            "{text:?} is a SHA-1 pin, which pinprobe does not compare: use the sha256/ pin of the same key"
        ))
    } else {
        Err(format!(
            "{text:?} is not an OkHttp pin: expected sha256/<base64> (44 base64 characters)"
        ))
    }
}

fn read_lines(text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    let mut problems = Problems::new(file);
    let mut set = ForeignSet {
        name: default_name(file),
        ..ForeignSet::default()
    };
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("//") {
            continue;
        }
        let column = raw.chars().take_while(|c| c.is_whitespace()).count() + 1;
        let (token, rest) = trimmed
            .split_once(char::is_whitespace)
            .unwrap_or((trimmed, ""));
        let rest = rest.trim();
        let label = if rest.is_empty() {
            None
        } else if let Some(comment) = rest.strip_prefix("//").or_else(|| rest.strip_prefix('#')) {
            label_of(comment)
        } else {
            let at = column + token.chars().count() + 1;
            problems.add(
                line,
                format!("column {at}: unexpected {rest:?} after the pin: write one sha256/<base64> per line, with an optional // comment"),
            );
            continue;
        };
        match parse_pin(token) {
            Ok(pin) => set.pins.push(entry(pin, label)),
            Err(message) => problems.add(line, format!("column {column}: {message}")),
        }
    }
    let sets = if set.pins.is_empty() {
        Vec::new()
    } else {
        vec![set]
    };
    problems.finish(sets)
}

/// A token of Kotlin or Java code; offsets are bytes into the text.
#[derive(Debug)]
enum Token<'a> {
    Str { value: String, at: usize },
    Ident { name: &'a str, at: usize },
    Punct { c: char, at: usize },
    Comment { text: &'a str, at: usize },
}

impl Token<'_> {
    fn at(&self) -> usize {
        match self {
            Token::Str { at, .. }
            | Token::Ident { at, .. }
            | Token::Punct { at, .. }
            | Token::Comment { at, .. } => *at,
        }
    }

    fn is_punct(&self, want: char) -> bool {
        matches!(self, Token::Punct { c, .. } if *c == want)
    }

    fn shown(&self) -> String {
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
fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let line_end = |from: usize| text[from..].find('\n').map_or(text.len(), |n| from + n);
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b if b.is_ascii_whitespace() => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = line_end(i);
                out.push(Token::Comment {
                    text: &text[i + 2..end],
                    at: i,
                });
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(text.len(), |n| i + 2 + n + 2);
            }
            // not Kotlin or Java, but the comment of pin lists
            b'#' => {
                let end = line_end(i);
                out.push(Token::Comment {
                    text: &text[i + 1..end],
                    at: i,
                });
                i = end;
            }
            b'"' if text[i..].starts_with("\"\"\"") => {
                let end = text[i + 3..]
                    .find("\"\"\"")
                    .map_or(text.len(), |n| i + 3 + n);
                out.push(Token::Str {
                    value: text[i + 3..end].to_string(),
                    at: i,
                });
                i = (end + 3).min(text.len());
            }
            b'"' => {
                let (value, end) = string_literal(text, i + 1);
                out.push(Token::Str { value, at: i });
                i = end;
            }
            b'\'' => {
                // a character literal: skip to its closing quote on the same line
                let end = line_end(i);
                let mut escaped = false;
                let close = text[i + 1..end].char_indices().find(|(_, c)| {
                    let closes = *c == '\'' && !escaped;
                    escaped = *c == '\\' && !escaped;
                    closes
                });
                i = close.map_or(end, |(n, _)| i + 1 + n + 1);
            }
            b if b.is_ascii_alphabetic() || b == b'_' || b == b'$' => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
                {
                    i += 1;
                }
                out.push(Token::Ident {
                    name: &text[start..i],
                    at: start,
                });
            }
            b if b.is_ascii_digit() => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                    i += 1;
                }
            }
            _ => match text.get(i..).and_then(|rest| rest.chars().next()) {
                Some(c) => {
                    out.push(Token::Punct { c, at: i });
                    i += c.len_utf8();
                }
                None => i += 1,
            },
        }
    }
    out
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

/// True for a string that claims to be a pin (`sha256/...`, `sha1/...`, `SHA256/...`).
fn looks_like_pin(value: &str) -> bool {
    value
        .split_once('/')
        .is_some_and(|(algo, _)| algo.to_ascii_lowercase().starts_with("sha"))
}

/// One pin (or problem) found in code, in token order.
struct Found {
    token: usize,
    set: Option<String>,
    pin: Result<(Pin, usize), (usize, String)>,
}

fn read_code(text: &str, tokens: &[Token<'_>], file: &str) -> Result<Vec<ForeignSet>, Error> {
    // comments are only labels; calls and assignments are read without them
    let code: Vec<&Token<'_>> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Comment { .. }))
        .collect();
    let line = |at: usize| line_col(text, at).0;
    let ident = |j: usize| match code.get(j) {
        Some(Token::Ident { name, .. }) => Some(*name),
        _ => None,
    };
    let value = |j: usize| match code.get(j) {
        Some(Token::Str { value, .. }) => Some(value.as_str()),
        _ => None,
    };

    // `NAME = "..."`, `val NAME: String = "..."`: constants a call may name
    let mut constants: HashMap<&str, usize> = HashMap::new();
    for i in 2..code.len() {
        if value(i).is_none() || !code[i - 1].is_punct('=') {
            continue;
        }
        let typed = i >= 4 && code[i - 3].is_punct(':') && ident(i - 2).is_some();
        if let Some(name) = if typed { ident(i - 4) } else { ident(i - 2) } {
            constants.insert(name, i);
        }
    }
    // the string an argument stands for: a literal, or a constant of this file
    let resolve = |arg: &Range<usize>| -> Option<usize> {
        if arg.len() != 1 {
            return None;
        }
        match code[arg.start] {
            Token::Str { .. } => Some(arg.start),
            Token::Ident { name, .. } => constants.get(name).copied(),
            _ => None,
        }
    };
    let shown =
        |arg: &Range<usize>| -> String { code[arg.clone()].iter().map(|t| t.shown()).collect() };
    let chained = builder_chain_adds(&code);

    let mut found: Vec<Found> = Vec::new();
    let mut used: HashSet<usize> = HashSet::new();
    let mut problems = Problems::new(file);
    for (i, token) in code.iter().enumerate() {
        if ident(i) != Some("add") || !code.get(i + 1).is_some_and(|t| t.is_punct('(')) {
            continue;
        }
        let args = call_arguments(&code, i + 2);
        let pins_claimed = args
            .iter()
            .skip(1)
            .any(|arg| resolve(arg).and_then(value).is_some_and(looks_like_pin));
        if args.len() < 2 || !(pins_claimed || chained.contains(&i)) {
            continue;
        }
        let host = match resolve(&args[0]).and_then(value).map(str::trim) {
            Some(host) if !host.is_empty() => host.to_string(),
            _ => {
                let at = code[args[0].start].at();
                problems.add(
                    line(at),
                    format!(
                        "column {}: the host of add() is `{}`, which is not a string or a string constant of this file: write the host pattern as \"example.com\"",
                        line_col(text, at).1,
                        shown(&args[0])
                    ),
                );
                continue;
            }
        };
        for (n, arg) in args.iter().enumerate().skip(1) {
            let pin = match resolve(arg) {
                Some(s) => {
                    used.insert(s);
                    let at = code[s].at();
                    parse_pin(value(s).unwrap_or_default())
                        .map(|pin| (pin, at))
                        .map_err(|m| (at, m))
                }
                None => Err((
                    code.get(arg.start).map_or(token.at(), |t| t.at()),
                    format!(
                        "argument {} of add(\"{host}\", ...) is `{}`, not a pin: pinprobe reads sha256/ pins written as strings or string constants of this file",
                        n + 1,
                        shown(arg)
                    ),
                )),
            };
            found.push(Found {
                token: i,
                set: Some(host.clone()),
                pin,
            });
        }
    }
    // pin strings outside any call: a list of constants, a pins file pasted into code
    for (i, token) in code.iter().enumerate() {
        if let Token::Str { value, at } = token {
            if looks_like_pin(value) && !used.contains(&i) {
                found.push(Found {
                    token: i,
                    set: None,
                    pin: parse_pin(value).map(|p| (p, *at)).map_err(|m| (*at, m)),
                });
            }
        }
    }
    found.sort_by_key(|f| f.token);

    // a trailing comment labels the one pin string of its line
    let mut pins_per_line: BTreeMap<usize, usize> = BTreeMap::new();
    for token in tokens {
        if let Token::Str { value, at } = token {
            if looks_like_pin(value) {
                *pins_per_line.entry(line(*at)).or_default() += 1;
            }
        }
    }
    let mut trailing: BTreeMap<usize, &str> = BTreeMap::new();
    for pair in tokens.windows(2) {
        if let [before, Token::Comment { text: comment, at }] = pair {
            if line(before.at()) == line(*at) {
                trailing.insert(line(*at), comment);
            }
        }
    }

    let default = default_name(file);
    let mut sets = SetsByName::default();
    for f in found {
        match f.pin {
            Ok((pin, at)) => {
                let l = line(at);
                let label = trailing
                    .get(&l)
                    .filter(|_| pins_per_line.get(&l) == Some(&1))
                    .and_then(|c| label_of(c));
                sets.set(f.set.as_deref().unwrap_or(&default))
                    .pins
                    .push(entry(pin, label));
            }
            Err((at, message)) => {
                let (l, column) = line_col(text, at);
                problems.add(l, format!("column {column}: {message}"));
            }
        }
    }
    problems.finish(sets.into_sets())
}

/// The arguments of the call whose `(` stands just before `start`: index ranges into `code`,
/// split at top-level commas (an empty argument list gives none).
fn call_arguments(code: &[&Token<'_>], start: usize) -> Vec<Range<usize>> {
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut from = start;
    for (i, token) in code.iter().enumerate().skip(start) {
        match token {
            Token::Punct {
                c: '(' | '[' | '{', ..
            } => depth += 1,
            Token::Punct {
                c: ')' | ']' | '}', ..
            } if depth > 0 => depth -= 1,
            Token::Punct { c: ')', .. } => {
                // Kotlin allows a trailing comma
                if i > from {
                    args.push(from..i);
                }
                return args;
            }
            Token::Punct { c: ',', .. } if depth == 0 => {
                args.push(from..i);
                from = i + 1;
            }
            _ => {}
        }
    }
    args
}

/// Where a call closes: the index after the `)` matching the `(` just before `start`.
fn after_call(code: &[&Token<'_>], start: usize) -> usize {
    let mut depth = 0usize;
    for (i, token) in code.iter().enumerate().skip(start) {
        match token {
            Token::Punct { c: '(', .. } => depth += 1,
            Token::Punct { c: ')', .. } if depth == 0 => return i + 1,
            Token::Punct { c: ')', .. } => depth -= 1,
            _ => {}
        }
    }
    code.len()
}

/// The `add` calls chained on `CertificatePinner.Builder()`: pinner calls even when none of
/// their arguments is a readable pin (so an unreadable one is reported, not skipped).
fn builder_chain_adds(code: &[&Token<'_>]) -> HashSet<usize> {
    let mut adds = HashSet::new();
    let is_ident = |i: usize, want: &str| matches!(code.get(i), Some(Token::Ident { name, .. }) if *name == want);
    let is_punct = |i: usize, want: char| code.get(i).is_some_and(|t| t.is_punct(want));
    for i in 0..code.len() {
        if !(is_ident(i, "CertificatePinner")
            && is_punct(i + 1, '.')
            && is_ident(i + 2, "Builder")
            && is_punct(i + 3, '('))
        {
            continue;
        }
        let mut at = after_call(code, i + 4);
        while is_punct(at, '.') && is_ident(at + 1, "add") && is_punct(at + 2, '(') {
            adds.insert(at + 1);
            at = after_call(code, at + 3);
        }
    }
    adds
}

/// One set: `sha256/...` lines (a label as a trailing `//` comment). Several: a
/// `CertificatePinner.Builder()` with one `.add("NAME", "sha256/...")` per pin, which is
/// OkHttp's own way to hold pins for several hosts.
pub(super) fn write(sets: &[ForeignSet]) -> String {
    let mut out = String::new();
    let label = |l: &Option<String>| {
        l.as_deref()
            .map(|l| format!("  // {}", one_line(l)))
            .unwrap_or_default()
    };
    if let [set] = sets {
        for p in &set.pins {
            out.push_str(&format!("{}{}\n", p.pin, label(&p.label)));
        }
        return out;
    }
    out.push_str("CertificatePinner.Builder()\n");
    for set in sets {
        let host = set.name.replace('\\', "\\\\").replace('"', "\\\"");
        for p in &set.pins {
            out.push_str(&format!(
                "    .add(\"{host}\", \"{}\"){}\n",
                p.pin,
                label(&p.label)
            ));
        }
    }
    out.push_str("    .build()\n");
    out
}
