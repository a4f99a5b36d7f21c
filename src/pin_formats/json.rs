//! A small JSON parser that keeps where each value starts, so a problem in a Chromium pinsets
//! file can be reported with its line (serde_json's values carry no position).

/// A JSON value and the byte offset where it starts.
#[derive(Debug)]
pub(super) struct Node {
    pub value: Value,
    pub at: usize,
}

/// A JSON value; numbers are kept as written (they are never pins).
#[derive(Debug)]
pub(super) enum Value {
    Null,
    Bool,
    Number,
    String(String),
    Array(Vec<Node>),
    /// members in file order: (key, its offset, value)
    Object(Vec<(String, usize, Node)>),
}

impl Value {
    /// The kind of value, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool => "a boolean",
            Value::Number => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// What is wrong and where (byte offset).
#[derive(Debug)]
pub(super) struct SyntaxError {
    pub at: usize,
    pub message: String,
}

/// Nesting deeper than this is refused (a hostile file must not exhaust the stack).
const MAX_DEPTH: usize = 64;

/// Parses one JSON document.
pub(super) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        i: 0,
    };
    let node = parser.value(0)?;
    parser.space();
    if parser.i < parser.bytes.len() {
        return Err(parser.error("unexpected text after the JSON document"));
    }
    Ok(node)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> SyntaxError {
        SyntaxError {
            at: self.i,
            message: message.to_string(),
        }
    }

    fn space(&mut self) {
        while self
            .bytes
            .get(self.i)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error("the document nests too deeply"));
        }
        self.space();
        let at = self.i;
        let value =
            match self.bytes.get(self.i) {
                None => return Err(self.error("unexpected end of the document: expected a value")),
                Some(b'{') => self.object(depth)?,
                Some(b'[') => self.array(depth)?,
                Some(b'"') => Value::String(self.string()?),
                Some(b't') => self.word("true", Value::Bool)?,
                Some(b'f') => self.word("false", Value::Bool)?,
                Some(b'n') => self.word("null", Value::Null)?,
                Some(b'-' | b'0'..=b'9') => {
                    while self.bytes.get(self.i).is_some_and(|b| {
                        matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                    }) {
                        self.i += 1;
                    }
                    Value::Number
                }
                Some(_) => {
                    return Err(self.error(
                        "expected a value (a string, number, array, object, true, false or null)",
                    ))
                }
            };
        Ok(Node { value, at })
    }

    fn word(&mut self, word: &str, value: Value) -> Result<Value, SyntaxError> {
        if self.text[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(value)
        } else {
            Err(self
                .error("expected a value (a string, number, array, object, true, false or null)"))
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.i += 1;
        let mut items = Vec::new();
        self.space();
        if self.bytes.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.space();
            match self.bytes.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']' after an array element")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.i += 1;
        let mut members = Vec::new();
        self.space();
        if self.bytes.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.space();
            if self.bytes.get(self.i) != Some(&b'"') {
                return Err(self.error("expected a member name in double quotes"));
            }
            let key_at = self.i;
            let key = self.string()?;
            self.space();
            if self.bytes.get(self.i) != Some(&b':') {
                return Err(self.error("expected ':' after a member name"));
            }
            self.i += 1;
            let value = self.value(depth + 1)?;
            members.push((key, key_at, value));
            self.space();
            match self.bytes.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}' after an object member")),
            }
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.i..];
            let Some(c) = rest.chars().next() else {
                return Err(self.error("unterminated string"));
            };
            self.i += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let escaped = self.bytes.get(self.i).copied();
                    self.i += 1;
                    match escaped {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let high = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&high)
                                && self.text[self.i..].starts_with("\\u")
                            {
                                self.i += 2;
                                let low = self.hex4()?;
                                if (0xDC00..0xE000).contains(&low) {
                                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                                } else {
                                    0xFFFD
                                }
                            } else {
                                high
                            };
                            out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.error("unknown escape in a string"));
                        }
                    }
                }
                c if (c as u32) < 0x20 => {
                    self.i -= 1;
                    return Err(self.error("a control character (a line break?) inside a string"));
                }
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let digits = self
            .text
            .get(self.i..self.i + 4)
            .filter(|d| d.chars().all(|c| c.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("expected 4 hex digits after \\u"))?;
        self.i += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("expected 4 hex digits after \\u"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_offsets() {
        let text = "{\"a\": [1, \"x\\u00e9\\ud83d\\ude00\", true, null], \"b\": {}}";
        let root = parse(text).unwrap();
        let Value::Object(members) = &root.value else {
            panic!("object expected")
        };
        assert_eq!(members[0].0, "a");
        let Value::Array(items) = &members[0].2.value else {
            panic!("array expected")
        };
        assert_eq!(items.len(), 4);
        assert_eq!(items[1].at, text.find("\"x").unwrap());
        assert!(matches!(&items[1].value, Value::String(s) if s == "xé😀"));
    }

    #[test]
    fn syntax_errors_say_where() {
        for (text, at, want) in [
            ("{\"a\": [1, 2}", 11, "expected ',' or ']'"),
            ("{\"a\" 1}", 5, "expected ':'"),
            ("[\"abc", 5, "unterminated string"),
            ("[1] x", 4, "unexpected text"),
            ("{a: 1}", 1, "member name"),
            ("", 0, "unexpected end"),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.at, at, "{text}: {err:?}");
            assert!(err.message.contains(want), "{text}: {err:?}");
        }
        let deep = "[".repeat(10_000);
        assert!(parse(&deep)
            .unwrap_err()
            .message
            .contains("nests too deeply"));
    }
}
