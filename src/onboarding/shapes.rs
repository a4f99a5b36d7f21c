//! Which kind of file a package is, and where in it the blob is.
//!
//! The file's start decides first: `{` is the Linux JSON and `<` a property list, read as
//! nothing else; `#!` names the interpreter of a script. Then come a `REG add ... /v
//! OnboardingInfo` line and the file's extension, and then the scripts' readings in turn, so
//! that a package renamed or saved under another name is still read. The first
//! reading that finds a blob wins; when none does, the problem of the first one that found a
//! broken blob is reported, else that no blob was found. A file with a `REG add ... /v
//! OnboardingInfo` line is a Windows script whatever else it holds: its problem is reported
//! at once, and its blob is not looked for again in what passes for a script's string.

use std::path::Path;

use super::blob::{self, Body};
use super::{json, not_found, plist, python, shell, unpadded, Problem, Shape};

/// Text of a script that may carry the blob: a string literal or heredoc, unquoted, and the
/// line it starts on.
pub(super) struct Literal {
    pub(super) text: String,
    pub(super) line: usize,
}

/// The line of a byte, counted as a scan moves forward only, so counting stays linear.
#[derive(Default)]
pub(super) struct Lines {
    at: usize,
    line: usize,
}

impl Lines {
    /// The 1-based line of byte `pos`, which is not before the last one asked for.
    pub(super) fn at(&mut self, b: &[u8], pos: usize) -> usize {
        let pos = pos.clamp(self.at, b.len());
        self.line += b[self.at..pos].iter().filter(|c| **c == b'\n').count();
        self.at = pos;
        self.line + 1
    }
}

/// The body of a package's blob, the kind of file it was read from, and the line the blob is
/// on when the file has lines of its own around it.
pub(super) struct Found {
    pub(super) shape: Shape,
    pub(super) body: Body,
    pub(super) line: Option<usize>,
}

/// What a reading of one kind of file found.
type Reading = Result<Option<(Body, Option<usize>)>, Problem>;

/// The blob of the package `text`, named `file`.
pub(super) fn find(text: &str, file: &str) -> Result<Found, Problem> {
    let mut first = None;
    for shape in order(text, file) {
        match read_as(shape, text) {
            Ok(Some((body, line))) => return Ok(Found { shape, body, line }),
            Ok(None) => {}
            Err(problem) if shape == Shape::WindowsScript => return Err(problem),
            Err(problem) => {
                first.get_or_insert(problem);
            }
        }
    }
    Err(first.unwrap_or_else(not_found))
}

/// The kinds of file to try, most likely first.
fn order(text: &str, file: &str) -> Vec<Shape> {
    // JSON and XML are what they look like: a broken one is reported as such, not read again
    // as a script whose quotes happen to enclose its blob
    let start = unpadded(text);
    if start.starts_with('{') {
        return vec![Shape::LinuxJson];
    }
    if start.starts_with('<') {
        return vec![Shape::MdmPlist];
    }
    let mut order = Vec::with_capacity(8);
    if let Some(shebang) = text.strip_prefix("#!") {
        let interpreter = shebang.lines().next().unwrap_or_default();
        order.push(if interpreter.contains("python") {
            Shape::LinuxScript
        } else {
            Shape::MacScript
        });
    }
    // `/v OnboardingInfo ... /d "..."` is read only from a command line that says so, which
    // no other kind of file has; its value would otherwise pass for a string literal
    order.push(Shape::WindowsScript);
    order.extend(by_extension(file));
    order.extend([Shape::LinuxScript, Shape::MacScript]);
    let mut seen = Vec::with_capacity(order.len());
    order.retain(|shape| {
        let new = !seen.contains(shape);
        seen.push(*shape);
        new
    });
    order
}

/// The kind of file its extension names.
fn by_extension(file: &str) -> Option<Shape> {
    let extension = Path::new(file).extension()?.to_str()?.to_ascii_lowercase();
    match extension.as_str() {
        "json" => Some(Shape::LinuxJson),
        "py" => Some(Shape::LinuxScript),
        "sh" | "command" | "zsh" | "bash" => Some(Shape::MacScript),
        "xml" | "plist" | "mobileconfig" => Some(Shape::MdmPlist),
        "cmd" | "bat" => Some(Shape::WindowsScript),
        _ => None,
    }
}

/// The blob of `text` read as a file of kind `shape`.
fn read_as(shape: Shape, text: &str) -> Reading {
    match shape {
        Shape::LinuxJson => json_file(text),
        Shape::MdmPlist if unpadded(text).starts_with('<') => {
            match plist::onboarding_info(text, 1)? {
                Some((info, line)) => required(&info, line),
                None => Ok(None),
            }
        }
        Shape::MdmPlist => Ok(None),
        Shape::WindowsScript => match reg_add_value(text)? {
            Some((value, line)) => required(&value, line),
            None => Ok(None),
        },
        Shape::LinuxScript => in_literals(python::literals(text)),
        Shape::MacScript => in_literals(shell::literals(text)),
    }
}

/// The body of text that must be the blob, found at `line`.
fn required(text: &str, line: usize) -> Reading {
    let body = blob::required(text).map_err(|p| p.or_at(line))?;
    Ok(Some((body, Some(line))))
}

/// `mdatp_onboard.json`: the whole file is the outer JSON, or the blob itself.
fn json_file(text: &str) -> Reading {
    if !text.trim_start().starts_with('{') {
        return Ok(None);
    }
    match json::parse(text) {
        Ok(value) => match blob::descend(value)? {
            Some(body) => Ok(Some((body, None))),
            None => Err(Problem::file(
                "the JSON has neither onboardingInfo nor body: expected the onboarding package \
                 as downloaded from the Defender portal",
            )),
        },
        Err(e) if e.is_data() => Err(Problem::at(e.line(), blob::twice("the JSON", &e))),
        Err(e) if e.is_eof() => Err(Problem::at(
            e.line(),
            "the JSON ends early: the package is cut short; download it again from the \
             Defender portal",
        )),
        Err(e) => Err(Problem::at(
            e.line(),
            format!(
                "column {}: not valid JSON ({}): expected the onboarding package as downloaded \
                 from the Defender portal",
                e.column(),
                blob::reason(&e)
            ),
        )),
    }
}

/// The first literal of a script that holds the blob. A literal that holds a broken blob is
/// reported only when no other one holds a good one.
fn in_literals(literals: Vec<Literal>) -> Reading {
    let mut first = None;
    for literal in literals {
        match blob::candidate(&literal.text, literal.line) {
            Ok(Some((body, line))) => return Ok(Some((body, Some(line)))),
            Ok(None) => {}
            Err(problem) => {
                first.get_or_insert(problem);
            }
        }
    }
    first.map_or(Ok(None), Err)
}

/// The `/d` value of the line `REG add ... /v OnboardingInfo /t REG_SZ /f /d "..."`, and its
/// line. Only `add` sets the value: comment lines (`REM`, `::`) and other commands of `reg`
/// (`query`, `delete`) are skipped. A second line that sets it is refused, as `cmd` would run
/// both and keep the last.
fn reg_add_value(text: &str) -> Result<Option<(String, usize)>, Problem> {
    let mut found: Option<(String, usize)> = None;
    for (n, line) in text.lines().enumerate() {
        if !line.to_ascii_lowercase().contains("onboardinginfo") {
            continue;
        }
        let args = command_args(line);
        let named = args.windows(2).any(|w| {
            w[0].text.eq_ignore_ascii_case("/v") && w[1].text.eq_ignore_ascii_case("OnboardingInfo")
        });
        let adds = args.iter().any(|a| a.text.eq_ignore_ascii_case("add"));
        if !named || !adds || is_comment(&args) {
            continue;
        }
        if let Some((_, first)) = found {
            return Err(Problem::at(
                n + 1,
                format!(
                    "a second line sets OnboardingInfo (the first is line {first}): expected one \
                     REG add ... /v OnboardingInfo line, as the Defender portal writes it"
                ),
            ));
        }
        let mut values = args
            .windows(2)
            .filter(|w| w[0].text.eq_ignore_ascii_case("/d"))
            .map(|w| &w[1]);
        let value =
            match (values.next(), values.next()) {
                (None, _) => return Err(Problem::at(
                    n + 1,
                    "/v OnboardingInfo has no /d value: expected the onboarding blob in quotes \
                     after /d, as the Defender portal writes it",
                )),
                (Some(_), Some(_)) => {
                    return Err(Problem::at(
                        n + 1,
                        "/v OnboardingInfo has two /d values: expected one onboarding blob in \
                     quotes after /d, as the Defender portal writes it",
                    ))
                }
                (Some(arg), None) if !arg.closed => return Err(Problem::at(
                    n + 1,
                    "the /d value of OnboardingInfo has no closing quote: the Windows script is \
                     cut short; download the package again from the Defender portal",
                )),
                (Some(arg), None) => arg.text.clone(),
            };
        found = Some((value, n + 1));
    }
    Ok(found)
}

/// True for a comment line of a batch file: `REM ...` or `:: ...`, with or without `@`.
fn is_comment(args: &[Arg]) -> bool {
    args.first().is_some_and(|first| {
        let word = first.text.strip_prefix('@').unwrap_or(&first.text);
        word.eq_ignore_ascii_case("rem") || word.starts_with("::")
    })
}

/// One argument of a command line.
pub(super) struct Arg {
    pub(super) text: String,
    /// false when the line ended inside quotes
    pub(super) closed: bool,
}

/// The arguments of a Windows command line as a program such as `reg.exe` receives them (the C
/// runtime's rules): blanks separate arguments outside quotes; `"` opens and closes quotes;
/// backslashes are literal unless they precede a `"`, where each pair stands for one
/// backslash and an odd one left over makes the `"` literal.
pub(super) fn command_args(line: &str) -> Vec<Arg> {
    let mut args = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| matches!(c, ' ' | '\t' | '\r')).is_some() {}
        if chars.peek().is_none() {
            return args;
        }
        let (mut text, mut quoted) = (String::new(), false);
        while let Some(&c) = chars.peek() {
            match c {
                ' ' | '\t' | '\r' if !quoted => break,
                '\\' => {
                    let mut n = 0;
                    while chars.next_if_eq(&'\\').is_some() {
                        n += 1;
                    }
                    let before_quote = chars.peek() == Some(&'"');
                    let kept = if before_quote { n / 2 } else { n };
                    text.extend(std::iter::repeat_n('\\', kept));
                    if before_quote && n % 2 == 1 {
                        text.push('"');
                        chars.next();
                    }
                }
                '"' => {
                    chars.next();
                    if quoted && chars.next_if_eq(&'"').is_some() {
                        text.push('"');
                    } else {
                        quoted = !quoted;
                    }
                }
                _ => {
                    text.push(c);
                    chars.next();
                }
            }
        }
        args.push(Arg {
            text,
            closed: !quoted,
        });
    }
}
