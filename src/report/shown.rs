//! [`Shown`]: a string from the outside (a server, a proxy, a PAC file, an input file) made safe
//! for a terminal, and [`is_escaped`], the one list of characters that text output, the TOML
//! pinprobe writes and the JUnit report never let through raw.
//!
//! A certificate's common name can hold `\r\n\x1b[32m...[OK]`: printed raw it forges a green
//! line of the report, and `ESC ]` sequences in an issuer name set the window title or clear the
//! screen. Every text output prints such strings through `Shown`, which escapes them visibly in
//! Rust's notation for string literals: `\n`, `\r` and `\t`; `\x1b` for the other C0 controls
//! and DEL; `\u{9b}` for the C1 controls, the line and paragraph separators, the bidirectional
//! formatting characters and the two non-characters XML forbids. Everything else, backslashes included, is
//! shown as it is, so detail text that pinprobe already escaped is not escaped twice.

use std::fmt::{self, Display, Write as _};

/// A string from the outside, displayed with the characters of [`is_escaped`] escaped.
///
/// ```
/// use pinprobe::report::Shown;
/// let cn = "lab.test\r\n\x1b[32mTesting ... [OK]\u{202e}";
/// assert_eq!(
///     Shown(cn).to_string(),
///     r"lab.test\r\n\x1b[32mTesting ... [OK]\u{202e}"
/// );
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Shown<'a>(pub &'a str);

impl Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.width().is_some() {
            // a column of names (`{:<20}`) is padded after escaping, as the reader sees it
            return f.pad(&Shown(self.0).to_string());
        }
        let mut rest = self.0;
        while let Some(at) = rest.find(is_escaped) {
            f.write_str(&rest[..at])?;
            let Some(c) = rest[at..].chars().next() else {
                break;
            };
            escape(f, c)?;
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

/// Writes the visible escape of one character of [`is_escaped`].
fn escape(f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
    match c {
        '\n' => f.write_str("\\n"),
        '\r' => f.write_str("\\r"),
        '\t' => f.write_str("\\t"),
        c if c.is_ascii() => write!(f, "\\x{:02x}", u32::from(c)),
        c => {
            f.write_str("\\u{")?;
            write!(f, "{:x}", u32::from(c))?;
            f.write_char('}')
        }
    }
}

/// True for the characters no output of pinprobe passes on raw: the C0 controls (line breaks
/// and tab included), DEL, the C1 controls (U+0080 to U+009F, NEL among them), the line and
/// paragraph separators (U+2028, U+2029), the bidirectional formatting characters, and U+FFFE
/// and U+FFFF, which XML forbids.
pub fn is_escaped(c: char) -> bool {
    c.is_control()
        || is_bidi_control(c)
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FFFE}' | '\u{FFFF}')
}

/// The characters that change the direction of text on a terminal (Unicode's bidirectional
/// formatting characters).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(s: &str) -> String {
        Shown(s).to_string()
    }

    #[test]
    fn plain_text_is_unchanged() {
        for s in [
            "",
            "lab.test",
            "CN=Pinprobe Lab Root, O=Pinprobe Lab",
            "Bundesdruckerei GmbH – D-TRUST Root ✓ 中文 😀",
            r"already escaped: \x1b \n C:\path",
            "\"quoted\" 'single' <xml> & {braces}",
        ] {
            assert_eq!(shown(s), s);
        }
    }

    #[test]
    fn line_breaks_and_tab_are_escaped_by_name() {
        assert_eq!(shown("a\nb\rc\td"), r"a\nb\rc\td");
        assert_eq!(shown("\r\n"), r"\r\n");
    }

    #[test]
    fn c0_controls_and_del_are_escaped_in_hex() {
        assert_eq!(shown("\x1b[32m[OK]\x1b[0m"), r"\x1b[32m[OK]\x1b[0m");
        assert_eq!(shown("\x1b]0;title\x07"), r"\x1b]0;title\x07");
        assert_eq!(shown("\0\x01\x08\x0b\x0c\x1f"), r"\x00\x01\x08\x0b\x0c\x1f");
        assert_eq!(shown("\x7f"), r"\x7f");
    }

    #[test]
    fn c1_controls_are_escaped_as_unicode() {
        // CSI, OSC and NEL: one character each, understood by some terminals as ESC [, ESC ]
        // and a line break
        assert_eq!(shown("\u{9b}2J\u{9d}0;t\u{85}"), r"\u{9b}2J\u{9d}0;t\u{85}");
        assert_eq!(shown("\u{80}\u{9f}"), r"\u{80}\u{9f}");
        // the next characters are printable
        assert_eq!(shown("\u{a0}é"), "\u{a0}é");
    }

    #[test]
    fn separators_and_bidi_controls_are_escaped_as_unicode() {
        assert_eq!(shown("a\u{2028}b\u{2029}c"), r"a\u{2028}b\u{2029}c");
        assert_eq!(shown("evil\u{202e}txt.exe"), r"evil\u{202e}txt.exe");
        for c in [
            '\u{061c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}',
            '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            assert_eq!(shown(&c.to_string()), format!("\\u{{{:x}}}", u32::from(c)));
        }
    }

    #[test]
    fn xml_non_characters_are_escaped() {
        assert_eq!(
            shown("\u{fffe}\u{ffff}\u{fffd}"),
            "\\u{fffe}\\u{ffff}\u{fffd}"
        );
    }

    #[test]
    fn nothing_escaped_is_left_in_the_output() {
        let hostile: String = (0u32..0x3000)
            .chain([0xfffe, 0xffff])
            .filter_map(char::from_u32)
            .collect();
        let out = shown(&hostile);
        assert!(!out.chars().any(is_escaped), "{out:?}");
        assert!(!out.contains('\n') && !out.contains('\x1b') && !out.contains('\u{9b}'));
    }

    #[test]
    fn escaped_strings_keep_the_text_around_them() {
        let cn = "lab.test\r\n\x1b[32mTesting connection with https://bank.example/ ... [OK]";
        assert_eq!(
            shown(cn),
            r"lab.test\r\n\x1b[32mTesting connection with https://bank.example/ ... [OK]"
        );
    }

    #[test]
    fn a_width_pads_the_escaped_text() {
        assert_eq!(format!("[{:<6}]", Shown("a\nb")), r"[a\nb  ]");
        assert_eq!(format!("[{:>3}]", Shown("é")), "[  é]");
    }
}
