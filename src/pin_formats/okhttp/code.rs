//! OkHttp pins in Kotlin or Java code: the `add(host, pins...)` calls of a pinner, the string
//! constants they name, `sha256/` strings outside any call, and the trailing comments that
//! label them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use super::super::{
    default_name, entry, label_of, line_col, Domain, ForeignSet, Problems, SetsByName,
};
use super::parse_pin;
use super::tokens::Token;
use crate::error::Error;
use crate::pins::Pin;

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

/// The code without its comments (comments are only labels; calls and assignments are read
/// without them), and the string constants it defines.
struct Code<'a> {
    text: &'a str,
    tokens: Vec<&'a Token<'a>>,
    constants: HashMap<&'a str, usize>,
    /// the byte offset where each line after the first starts: a pin's line is looked up, not
    /// counted from the start of the text (which took time quadratic in the pins)
    line_starts: Vec<usize>,
}

impl<'a> Code<'a> {
    fn new(text: &'a str, tokens: &'a [Token<'a>]) -> Self {
        let mut code = Code {
            text,
            tokens: tokens
                .iter()
                .filter(|t| !matches!(t, Token::Comment { .. }))
                .collect(),
            constants: HashMap::new(),
            line_starts: text.match_indices('\n').map(|(i, _)| i + 1).collect(),
        };
        code.constants = code.constants();
        code
    }

    /// `NAME = "..."`, `val NAME: String = "..."`: constants a call may name.
    fn constants(&self) -> HashMap<&'a str, usize> {
        let code = &self.tokens;
        let mut constants = HashMap::new();
        for i in 2..code.len() {
            if self.value(i).is_none() || !code[i - 1].is_punct('=') {
                continue;
            }
            let typed = i >= 4 && code[i - 3].is_punct(':') && self.ident(i - 2).is_some();
            if let Some(name) = if typed {
                self.ident(i - 4)
            } else {
                self.ident(i - 2)
            } {
                constants.insert(name, i);
            }
        }
        constants
    }

    fn ident(&self, j: usize) -> Option<&'a str> {
        match self.tokens.get(j) {
            Some(Token::Ident { name, .. }) => Some(*name),
            _ => None,
        }
    }

    fn value(&self, j: usize) -> Option<&'a str> {
        match self.tokens.get(j) {
            Some(Token::Str { value, .. }) => Some(value.as_str()),
            _ => None,
        }
    }

    /// The string an argument stands for: a literal, or a constant of this file.
    fn resolve(&self, arg: &Range<usize>) -> Option<usize> {
        if arg.len() != 1 {
            return None;
        }
        match self.tokens[arg.start] {
            Token::Str { .. } => Some(arg.start),
            Token::Ident { name, .. } => self.constants.get(name).copied(),
            _ => None,
        }
    }

    fn shown(&self, arg: &Range<usize>) -> String {
        self.tokens[arg.clone()].iter().map(|t| t.shown()).collect()
    }

    /// The 1-based line of a byte offset, as `line_col` gives it.
    fn line(&self, at: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= at) + 1
    }
}

/// Reads the pins of Kotlin or Java code, as the module says.
pub(super) fn read(text: &str, tokens: &[Token<'_>], file: &str) -> Result<Vec<ForeignSet>, Error> {
    let code = Code::new(text, tokens);
    let mut problems = Problems::new(file);
    let (mut found, used) = pinner_calls(&code, &mut problems);
    found.extend(loose_pins(&code, &used));
    found.sort_by_key(|f| f.token);

    let label = trailing_labels(&code, tokens);
    let default = default_name(file);
    let mut sets = SetsByName::default();
    for f in found {
        match f.pin {
            Ok((pin, at)) => {
                let label = label(code.line(at));
                let set = sets.set(f.set.as_deref().unwrap_or(&default));
                if let Some(host) = f.set.as_deref() {
                    // the pattern is where the pins apply; one OkHttp cannot read is not a host
                    if set.details.domains.is_empty() {
                        set.details.domains.extend(Domain::parse(host).ok());
                    }
                }
                set.pins.push(entry(pin, label));
            }
            Err((at, message)) => {
                let (l, column) = line_col(text, at);
                problems.add(l, format!("column {column}: {message}"));
            }
        }
    }
    problems.finish(sets.into_sets())
}

/// The pins of every pinner `add` call, and the string tokens they used; a call whose host is
/// not a string is a problem.
fn pinner_calls(code: &Code<'_>, problems: &mut Problems) -> (Vec<Found>, HashSet<usize>) {
    let chained = builder_chain_adds(&code.tokens);
    let mut found: Vec<Found> = Vec::new();
    let mut used: HashSet<usize> = HashSet::new();
    for i in 0..code.tokens.len() {
        if code.ident(i) != Some("add") || !code.tokens.get(i + 1).is_some_and(|t| t.is_punct('('))
        {
            continue;
        }
        let args = call_arguments(&code.tokens, i + 2);
        let pins_claimed = args.iter().skip(1).any(|arg| {
            code.resolve(arg)
                .and_then(|s| code.value(s))
                .is_some_and(looks_like_pin)
        });
        if args.len() < 2 || !(pins_claimed || chained.contains(&i)) {
            continue;
        }
        let host = match code
            .resolve(&args[0])
            .and_then(|s| code.value(s))
            .map(str::trim)
        {
            Some(host) if !host.is_empty() => host.to_string(),
            _ => {
                let at = code.tokens[args[0].start].at();
                problems.add(
                    code.line(at),
                    format!(
                        "column {}: the host of add() is `{}`, which is not a string or a string constant of this file: write the host pattern as \"example.com\"",
                        line_col(code.text, at).1,
                        code.shown(&args[0])
                    ),
                );
                continue;
            }
        };
        for (n, arg) in args.iter().enumerate().skip(1) {
            found.push(Found {
                token: i,
                set: Some(host.clone()),
                pin: call_pin(code, i, &host, n, arg, &mut used),
            });
        }
    }
    (found, used)
}

/// Argument `n` of the `add` call at token `call`: a pin, or why it is none.
fn call_pin(
    code: &Code<'_>,
    call: usize,
    host: &str,
    n: usize,
    arg: &Range<usize>,
    used: &mut HashSet<usize>,
) -> Result<(Pin, usize), (usize, String)> {
    match code.resolve(arg) {
        Some(s) => {
            used.insert(s);
            let at = code.tokens[s].at();
            parse_pin(code.value(s).unwrap_or_default())
                .map(|pin| (pin, at))
                .map_err(|m| (at, m))
        }
        None => Err((
            code.tokens
                .get(arg.start)
                .map_or(code.tokens[call].at(), |t| t.at()),
            format!(
                "argument {} of add(\"{host}\", ...) is `{}`, not a pin: pinprobe reads sha256/ pins written as strings or string constants of this file",
                n + 1,
                code.shown(arg)
            ),
        )),
    }
}

/// Pin strings outside any call: a list of constants, a pins file pasted into code.
fn loose_pins(code: &Code<'_>, used: &HashSet<usize>) -> Vec<Found> {
    let mut found = Vec::new();
    for (i, token) in code.tokens.iter().enumerate() {
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
    found
}

/// The label of the pin on a line: a trailing comment labels the one pin string of its line.
fn trailing_labels<'c>(
    code: &'c Code<'_>,
    tokens: &'c [Token<'_>],
) -> impl Fn(usize) -> Option<String> + 'c {
    let mut pins_per_line: BTreeMap<usize, usize> = BTreeMap::new();
    for token in tokens {
        if let Token::Str { value, at } = token {
            if looks_like_pin(value) {
                *pins_per_line.entry(code.line(*at)).or_default() += 1;
            }
        }
    }
    let mut trailing: BTreeMap<usize, &str> = BTreeMap::new();
    for pair in tokens.windows(2) {
        if let [before, Token::Comment { text: comment, at }] = pair {
            if code.line(before.at()) == code.line(*at) {
                trailing.insert(code.line(*at), comment);
            }
        }
    }
    move |l| {
        trailing
            .get(&l)
            .filter(|_| pins_per_line.get(&l) == Some(&1))
            .and_then(|c| label_of(c))
    }
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
