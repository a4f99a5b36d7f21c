//! The quoted words and heredocs of a shell script, unquoted as the shell would: the macOS
//! onboarding script writes the blob inside a property list with `cat <<EOM > "$DESTFILE"`, and
//! hand-made variants pass it in quotes (`defaults write ... OnboardingInfo '{"body": ...}'`).
//!
//! One pass over the script. A word is the text between blanks and operators, its quoted parts
//! unquoted: `'...'` as written, `"..."` with `\"`, `\\`, `\$` and `` \` `` undone, `$'...'`
//! with its C escapes. A heredoc's body is taken as written when its delimiter is quoted
//! (`<<'EOM'`), else with `\$`, `` \` ``, `\\` and backslash-newline undone; `<<-` drops
//! leading tabs. Expansions (`$VAR`, `$(...)`) are not performed: the package has none in its
//! blob. `#` at the start of a word begins a comment.

use super::shapes::{Lines, Literal};

/// The quoted words and the heredoc bodies of `source`, in order, unquoted.
pub(super) fn literals(source: &str) -> Vec<Literal> {
    let mut scan = Scanner {
        s: source,
        b: source.as_bytes(),
        i: 0,
        out: Vec::new(),
        lines: Lines::default(),
        word: None,
        pending: Vec::new(),
    };
    scan.run();
    scan.out
}

/// A word being read.
struct Word {
    text: String,
    line: usize,
    /// a part of it was quoted: only such words can carry the blob
    quoted: bool,
    /// where the value starts in `NAME=value` or `--flag=value`: after the first `=` that is
    /// not quoted and comes before any quoted part
    value_at: Option<usize>,
}

/// A heredoc whose body starts on the next line.
struct Heredoc {
    delimiter: String,
    /// the delimiter was quoted: the body is taken as written
    quoted: bool,
    /// `<<-`: leading tabs are dropped
    strip_tabs: bool,
}

struct Scanner<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    out: Vec<Literal>,
    lines: Lines,
    word: Option<Word>,
    pending: Vec<Heredoc>,
}

impl Scanner<'_> {
    fn run(&mut self) {
        while self.i < self.b.len() {
            let c = self.b[self.i];
            let next = self.b.get(self.i + 1).copied();
            match c {
                b'\n' => {
                    self.end_word();
                    self.i += 1;
                    self.heredoc_bodies();
                }
                b' ' | b'\t' | b'\r' | b';' | b'&' | b'|' | b'(' | b')' | b'>' => {
                    self.end_word();
                    self.i += 1;
                }
                b'<' if next == Some(b'<') && self.b.get(self.i + 2) != Some(&b'<') => {
                    self.end_word();
                    self.heredoc_operator();
                }
                b'<' => {
                    self.end_word();
                    self.i += if next == Some(b'<') { 3 } else { 1 };
                }
                b'#' if self.word.is_none() => {
                    let rest = &self.b[self.i..];
                    self.i += rest.iter().position(|c| *c == b'\n').unwrap_or(rest.len());
                }
                b'\\' if next == Some(b'\n') => self.i += 2,
                b'\\' => {
                    self.i += 1;
                    self.take_char();
                }
                b'\'' => self.single_quoted(),
                b'"' => self.double_quoted(),
                b'$' if next == Some(b'\'') => self.ansi_c_quoted(),
                _ => self.take_char(),
            }
        }
        self.end_word();
    }

    /// The word being read, started at the current byte if none is.
    fn word(&mut self) -> &mut Word {
        let (b, i) = (self.b, self.i);
        let lines = &mut self.lines;
        self.word.get_or_insert_with(|| Word {
            text: String::new(),
            line: lines.at(b, i),
            quoted: false,
            value_at: None,
        })
    }

    /// The character at the current byte, added to the word.
    fn take_char(&mut self) {
        let Some(c) = self.s.get(self.i..).and_then(|rest| rest.chars().next()) else {
            self.i += 1;
            return;
        };
        let word = self.word();
        word.text.push(c);
        if c == '=' && !word.quoted && word.value_at.is_none() {
            word.value_at = Some(word.text.len());
        }
        self.i += c.len_utf8();
    }

    /// Ends the word being read; one with a quoted part is kept, the value alone of an
    /// assignment or `--flag=value`.
    fn end_word(&mut self) {
        if let Some(word) = self.word.take() {
            if word.quoted {
                let text = match word.value_at {
                    Some(at) => word.text[at..].to_string(),
                    None => word.text,
                };
                self.out.push(Literal {
                    text,
                    line: word.line,
                });
            }
        }
    }

    /// Adds a quoted part to the word.
    fn quoted_part(&mut self, text: &str) {
        let word = self.word();
        word.text.push_str(text);
        word.quoted = true;
    }

    /// `'...'`: everything up to the next `'`, as written.
    fn single_quoted(&mut self) {
        let start = self.i + 1;
        let end = find(self.b, start, b'\'');
        let s = self.s;
        self.quoted_part(&s[start..end]);
        self.i = end + 1;
    }

    /// `"..."`: a backslash quotes only `$`, `` ` ``, `"`, `\` and a line break.
    fn double_quoted(&mut self) {
        let mut text = String::new();
        let mut j = self.i + 1;
        while j < self.b.len() && self.b[j] != b'"' {
            match (self.b[j], self.b.get(j + 1)) {
                (b'\\', Some(b'\n')) => j += 2,
                (b'\\', Some(&c)) if matches!(c, b'$' | b'`' | b'"' | b'\\') => {
                    text.push(char::from(c));
                    j += 2;
                }
                _ => {
                    let Some(c) = self.s.get(j..).and_then(|rest| rest.chars().next()) else {
                        break;
                    };
                    text.push(c);
                    j += c.len_utf8();
                }
            }
        }
        self.quoted_part(&text);
        self.i = j + 1;
    }

    /// `$'...'`: C escapes.
    fn ansi_c_quoted(&mut self) {
        let start = self.i + 2;
        let mut j = start;
        while j < self.b.len() && self.b[j] != b'\'' {
            j += if self.b[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(self.b.len());
        let text = ansi_c(&self.s[start..end]);
        self.quoted_part(&text);
        self.i = end + 1;
    }

    /// `<<DELIM`, `<<-DELIM`, `<< 'DELIM'`: the body is read after the end of this line.
    fn heredoc_operator(&mut self) {
        let mut j = self.i + 2;
        let strip_tabs = self.b.get(j) == Some(&b'-');
        if strip_tabs {
            j += 1;
        }
        while matches!(self.b.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        let (mut delimiter, mut quoted) = (String::new(), false);
        while let Some(&c) = self.b.get(j) {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>' => {
                    break
                }
                b'\'' | b'"' => {
                    let end = find(self.b, j + 1, c);
                    delimiter.push_str(&self.s[j + 1..end]);
                    quoted = true;
                    j = end + 1;
                }
                _ => {
                    quoted |= c == b'\\';
                    let at = if c == b'\\' { j + 1 } else { j };
                    let Some(ch) = self.s.get(at..).and_then(|rest| rest.chars().next()) else {
                        j = at;
                        break;
                    };
                    delimiter.push(ch);
                    j = at + ch.len_utf8();
                }
            }
        }
        if !delimiter.is_empty() {
            self.pending.push(Heredoc {
                delimiter,
                quoted,
                strip_tabs,
            });
        }
        self.i = j;
    }

    /// The bodies of the heredocs opened on the line that just ended, each up to the line
    /// that is its delimiter (or the end of the script).
    fn heredoc_bodies(&mut self) {
        for doc in std::mem::take(&mut self.pending) {
            let line = self.lines.at(self.b, self.i.min(self.b.len()));
            let mut body = String::new();
            while self.i < self.b.len() {
                let end = find(self.b, self.i, b'\n');
                let text = &self.s[self.i..end];
                self.i = end + 1;
                let text = if doc.strip_tabs {
                    text.trim_start_matches('\t')
                } else {
                    text
                };
                if text.strip_suffix('\r').unwrap_or(text) == doc.delimiter {
                    break;
                }
                body.push_str(text);
                body.push('\n');
            }
            let text = if doc.quoted {
                body
            } else {
                unescape_heredoc(&body)
            };
            self.out.push(Literal { text, line });
        }
    }
}

/// The position of the next `c` from `from`, or the end.
fn find(b: &[u8], from: usize, c: u8) -> usize {
    let from = from.min(b.len());
    b[from..]
        .iter()
        .position(|x| *x == c)
        .map_or(b.len(), |n| from + n)
}

/// The body of a heredoc with an unquoted delimiter: `\$`, `` \` `` and `\\` stand for the
/// character, a backslash before a line break joins the lines, any other backslash stays.
fn unescape_heredoc(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('$' | '`' | '\\') => out.extend(chars.next()),
            Some('\n') => {
                chars.next();
            }
            _ => out.push('\\'),
        }
    }
    out
}

/// The value of `$'...'`: `\n`, `\t`, `\r`, `\\`, `\'`, `\"`, octal `\nnn` and hex `\xHH`,
/// `\uHHHH`, `\UHHHHHHHH`; any other backslash stays.
fn ansi_c(content: &str) -> String {
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
        let (radix, most) = match e {
            'n' | 't' | 'r' | '\\' | '\'' | '"' => {
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                });
                continue;
            }
            '0'..='7' => (8, 2),
            'x' => (16, 2),
            'u' => (16, 4),
            'U' => (16, 8),
            _ => {
                out.push('\\');
                out.push(e);
                continue;
            }
        };
        let mut digits = if radix == 8 {
            e.to_string()
        } else {
            String::new()
        };
        while digits.len() < most + usize::from(radix == 8) {
            match chars.next_if(|d| d.is_digit(radix)) {
                Some(d) => digits.push(d),
                None => break,
            }
        }
        match u32::from_str_radix(&digits, radix)
            .ok()
            .and_then(char::from_u32)
        {
            Some(value) => out.push(value),
            None => {
                out.push('\\');
                out.push(e);
                out.push_str(digits.trim_start_matches(e));
            }
        }
    }
    out
}
