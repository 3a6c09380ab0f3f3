//! PDF object syntax (ISO 32000-1 §7.2, §7.3): one object at a time out of a byte window,
//! into lopdf's object types. The window may end inside an object; the parser then says so
//! and the caller reads a larger one.

use lopdf::{Dictionary, Object, ObjectId, StringFormat};

/// Deepest nesting of arrays and dictionaries accepted.
const MAX_DEPTH: usize = 64;

#[derive(Debug, PartialEq, Eq)]
pub(super) enum SyntaxError {
    /// The window ended before the object did.
    Incomplete,
    Invalid(String),
}

type Result<T> = std::result::Result<T, SyntaxError>;

fn invalid<T>(what: impl Into<String>) -> Result<T> {
    Err(SyntaxError::Invalid(what.into()))
}

fn is_white(b: u8) -> bool {
    matches!(b, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn is_regular(b: u8) -> bool {
    !is_white(b) && !is_delimiter(b)
}

/// A cursor over a window of bytes; `at_eof` says the window runs to the end of the file.
pub(super) struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
    at_eof: bool,
    depth: usize,
}

impl<'a> Parser<'a> {
    pub fn new(buf: &'a [u8], at_eof: bool) -> Self {
        Parser { buf, pos: 0, at_eof, depth: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    fn end<T>(&self) -> Result<T> {
        if self.at_eof {
            invalid("unexpected end of file")
        } else {
            Err(SyntaxError::Incomplete)
        }
    }

    fn peek(&self) -> Result<u8> {
        match self.buf.get(self.pos) {
            Some(b) => Ok(*b),
            None => self.end(),
        }
    }

    /// Skips white space and comments.
    pub fn skip_space(&mut self) -> Result<()> {
        loop {
            match self.buf.get(self.pos) {
                Some(b) if is_white(*b) => self.pos += 1,
                Some(b'%') => {
                    while let Some(b) = self.buf.get(self.pos) {
                        if matches!(b, b'\r' | b'\n') {
                            break;
                        }
                        self.pos += 1;
                    }
                    if self.pos >= self.buf.len() {
                        return self.end();
                    }
                }
                Some(_) => return Ok(()),
                None => return self.end(),
            }
        }
    }

    /// A run of regular characters (a keyword or a number), which must end before the window does.
    fn token(&mut self) -> Result<&'a [u8]> {
        let start = self.pos;
        while self.pos < self.buf.len() && is_regular(self.buf[self.pos]) {
            self.pos += 1;
        }
        if self.pos == self.buf.len() && !self.at_eof {
            return Err(SyntaxError::Incomplete);
        }
        Ok(&self.buf[start..self.pos])
    }

    /// Consumes `word` (after white space) if it comes next as a whole token.
    pub fn keyword(&mut self, word: &[u8]) -> Result<bool> {
        self.skip_space()?;
        let start = self.pos;
        if self.token()? == word {
            return Ok(true);
        }
        self.pos = start;
        Ok(false)
    }

    /// An unsigned integer token.
    pub fn unsigned(&mut self) -> Result<u64> {
        self.skip_space()?;
        let token = self.token()?;
        parse_unsigned(token).map_or_else(|| invalid(format!("expected a number, found {:?}", lossy(token))), Ok)
    }

    /// `N G obj`: the header of an indirect object.
    pub fn object_header(&mut self) -> Result<ObjectId> {
        let number = self.unsigned()?;
        let generation = self.unsigned()?;
        if !self.keyword(b"obj")? {
            return invalid("expected 'obj'");
        }
        match (u32::try_from(number), u16::try_from(generation)) {
            (Ok(n), Ok(g)) => Ok((n, g)),
            _ => invalid(format!("object number {number} {generation} out of range")),
        }
    }

    /// After a stream dictionary: `stream` and its end of line; true if it was there.
    pub fn stream_keyword(&mut self) -> Result<bool> {
        if !self.keyword(b"stream")? {
            return Ok(false);
        }
        match self.buf.get(self.pos) {
            Some(b'\r') if self.buf.get(self.pos + 1) == Some(&b'\n') => self.pos += 2,
            Some(b'\r') if self.pos + 1 == self.buf.len() => return self.end(),
            Some(b'\r' | b'\n') => self.pos += 1,
            Some(_) => {}
            None => return self.end(),
        }
        Ok(true)
    }

    /// One direct object; `a b R` is a reference.
    pub fn object(&mut self) -> Result<Object> {
        self.skip_space()?;
        match self.peek()? {
            b'/' => Ok(Object::Name(self.name()?)),
            b'(' => Ok(Object::String(self.literal()?, StringFormat::Literal)),
            b'<' if self.buf.get(self.pos + 1) == Some(&b'<') => Ok(Object::Dictionary(self.dictionary()?)),
            b'<' if self.pos + 1 == self.buf.len() => self.end(),
            b'<' => Ok(Object::String(self.hex()?, StringFormat::Hexadecimal)),
            b'[' => self.array(),
            b'+' | b'-' | b'.' | b'0'..=b'9' => self.number_or_reference(),
            _ => {
                let token = self.token()?;
                match token {
                    b"true" => Ok(Object::Boolean(true)),
                    b"false" => Ok(Object::Boolean(false)),
                    b"null" => Ok(Object::Null),
                    b"" => invalid(format!("unexpected {:?}", self.peek().map(char::from).unwrap_or(' '))),
                    other => invalid(format!("unexpected token {:?}", lossy(other))),
                }
            }
        }
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.depth >= MAX_DEPTH {
            return invalid("objects nested too deeply");
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    pub fn dictionary(&mut self) -> Result<Dictionary> {
        self.skip_space()?;
        if self.buf.get(self.pos..self.pos + 2) != Some(b"<<") {
            return if self.pos + 2 > self.buf.len() { self.end() } else { invalid("expected a dictionary") };
        }
        self.pos += 2;
        self.nested(|p| {
            let mut dict = Dictionary::new();
            loop {
                p.skip_space()?;
                match p.peek()? {
                    b'>' => {
                        if p.buf.get(p.pos + 1) == Some(&b'>') {
                            p.pos += 2;
                            return Ok(dict);
                        }
                        return if p.pos + 1 == p.buf.len() { p.end() } else { invalid("'>' inside a dictionary") };
                    }
                    b'/' => {
                        let key = p.name()?;
                        let value = p.object()?;
                        dict.set(key, value);
                    }
                    _ => return invalid("dictionary key is not a name"),
                }
            }
        })
    }

    fn array(&mut self) -> Result<Object> {
        self.pos += 1;
        self.nested(|p| {
            let mut items = Vec::new();
            loop {
                p.skip_space()?;
                if p.peek()? == b']' {
                    p.pos += 1;
                    return Ok(Object::Array(items));
                }
                items.push(p.object()?);
            }
        })
    }

    fn name(&mut self) -> Result<Vec<u8>> {
        self.pos += 1;
        let raw = self.token()?;
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'#' {
                if let Some(v) = raw.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()) {
                    out.push(v);
                    i += 3;
                    continue;
                }
            }
            out.push(raw[i]);
            i += 1;
        }
        Ok(out)
    }

    fn literal(&mut self) -> Result<Vec<u8>> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut open = 1usize;
        loop {
            let b = self.peek()?;
            self.pos += 1;
            match b {
                b'(' => {
                    open += 1;
                    out.push(b);
                }
                b')' => {
                    open -= 1;
                    if open == 0 {
                        return Ok(out);
                    }
                    out.push(b);
                }
                b'\\' => self.escape(&mut out)?,
                b'\r' => {
                    // An end of line inside a string reads as one line feed.
                    if self.buf.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                other => out.push(other),
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let b = self.peek()?;
        self.pos += 1;
        match b {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'0'..=b'7' => {
                let mut value = u32::from(b - b'0');
                for _ in 0..2 {
                    match self.peek()? {
                        d @ b'0'..=b'7' => {
                            value = value * 8 + u32::from(d - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                out.push(value as u8);
            }
            b'\r' => {
                if self.buf.get(self.pos) == Some(&b'\n') {
                    self.pos += 1;
                }
            }
            b'\n' => {}
            other => out.push(other),
        }
        Ok(())
    }

    fn hex(&mut self) -> Result<Vec<u8>> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let b = self.peek()?;
            self.pos += 1;
            let nibble = match b {
                b'>' => break,
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                w if is_white(w) => continue,
                _ => return invalid("bad character in a hexadecimal string"),
            };
            match high.take() {
                Some(h) => out.push(h << 4 | nibble),
                None => high = Some(nibble),
            }
        }
        // An odd final digit stands for its high nibble.
        if let Some(h) = high {
            out.push(h << 4);
        }
        Ok(out)
    }

    fn number_or_reference(&mut self) -> Result<Object> {
        let token = self.token()?;
        let Some(number) = parse_unsigned(token).and_then(|n| i64::try_from(n).ok()) else {
            return parse_number(token).map_or_else(|| invalid(format!("bad number {:?}", lossy(token))), Ok);
        };
        // `N G R` is a reference; look ahead and come back if it is not one.
        let after_first = self.pos;
        if let Some(reference) = self.reference_tail(number)? {
            return Ok(reference);
        }
        self.pos = after_first;
        Ok(Object::Integer(number))
    }

    fn reference_tail(&mut self, number: i64) -> Result<Option<Object>> {
        match self.skip_space() {
            Ok(()) => {}
            Err(SyntaxError::Invalid(_)) => return Ok(None),
            Err(e) => return Err(e),
        }
        if !self.peek()?.is_ascii_digit() {
            return Ok(None);
        }
        let Some(generation) = parse_unsigned(self.token()?) else { return Ok(None) };
        match self.skip_space() {
            Ok(()) => {}
            Err(SyntaxError::Invalid(_)) => return Ok(None),
            Err(e) => return Err(e),
        }
        if self.peek()? != b'R' || self.buf.get(self.pos + 1).is_some_and(|b| is_regular(*b)) {
            return Ok(None);
        }
        if self.pos + 1 == self.buf.len() && !self.at_eof {
            return Err(SyntaxError::Incomplete);
        }
        self.pos += 1;
        match (u32::try_from(number), u16::try_from(generation)) {
            (Ok(n), Ok(g)) => Ok(Some(Object::Reference((n, g)))),
            _ => invalid(format!("reference {number} {generation} R out of range")),
        }
    }
}

fn parse_unsigned(token: &[u8]) -> Option<u64> {
    if token.is_empty() || token.len() > 19 || !token.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(token).ok()?.parse().ok()
}

fn parse_number(token: &[u8]) -> Option<Object> {
    let text = std::str::from_utf8(token).ok()?;
    if !text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.')) {
        return None;
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(Object::Integer(i));
    }
    // A lone sign or point is how some writers spell zero.
    let lone = matches!(text, "-" | "+" | "." | "-." | "+.");
    let value: f64 = text.parse().ok().or(lone.then_some(0.0))?;
    value.is_finite().then_some(Object::Real(value as f32))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(40)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Result<Object> {
        Parser::new(text, true).object()
    }

    #[test]
    fn objects_parse_into_lopdf_types() {
        let dict =
            parse(b"<< /Type /Sig /ByteRange [0 10 20 30] /Contents <0A1b2> /M (D:2026\\(x\\)\\101) /P 12 0 R /F -1.5 /N null >>").unwrap();
        let dict = dict.as_dict().unwrap();
        assert_eq!(dict.get(b"Type").unwrap().as_name().unwrap(), b"Sig");
        assert_eq!(dict.get(b"ByteRange").unwrap().as_array().unwrap().len(), 4);
        assert_eq!(dict.get(b"Contents").unwrap().as_str().unwrap(), &[0x0a, 0x1b, 0x20]);
        assert_eq!(dict.get(b"M").unwrap().as_str().unwrap(), b"D:2026(x)A");
        assert_eq!(dict.get(b"P").unwrap().as_reference().unwrap(), (12, 0));
        assert_eq!(dict.get(b"F").unwrap().as_float().unwrap(), -1.5);
        assert_eq!(parse(b"/A#20B").unwrap().as_name().unwrap(), b"A B");
        assert_eq!(parse(b"[1 2 R 3]").unwrap().as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_window_that_ends_early_asks_for_more() {
        for text in [&b"<< /A [1 2"[..], b"(abc", b"<< /P 12 0", b"<", b"<< /A 1 >"] {
            assert_eq!(Parser::new(text, false).object(), Err(SyntaxError::Incomplete), "{}", String::from_utf8_lossy(text));
            assert!(matches!(Parser::new(text, true).object(), Err(SyntaxError::Invalid(_))));
        }
        assert_eq!(Parser::new(b"12", false).object(), Err(SyntaxError::Incomplete));
        assert_eq!(Parser::new(b"12", true).object(), Ok(Object::Integer(12)));
        assert_eq!(Parser::new(b"12 0 R ", false).object().unwrap(), Object::Reference((12, 0)));
        assert_eq!(Parser::new(b"12 0 obj", true).object().unwrap(), Object::Integer(12));
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let deep = "[".repeat(1000);
        assert!(matches!(parse(deep.as_bytes()), Err(SyntaxError::Invalid(_))));
        assert!(!matches!(parse(b"99999999999999999999999 0 R"), Ok(Object::Reference(_))));
        assert!(parse(b"4294967296 0 R").is_err());
        assert!(parse(b"<< 1 2 >>").is_err());
        assert!(parse(b"<zz>").is_err());
        assert!(parse(b")").is_err());
    }

    #[test]
    fn headers_and_stream_keywords() {
        let text = b"7 0 obj\n<< /Length 3 >>\nstream\r\nabc";
        let mut p = Parser::new(text, true);
        assert_eq!(p.object_header().unwrap(), (7, 0));
        assert!(p.dictionary().is_ok());
        assert!(p.stream_keyword().unwrap());
        assert_eq!(&text[p.pos()..], b"abc");
    }
}
