//! JSON read straight from inside a JSON string.
//!
//! A capture record holds each body as escaped text: `"data":"{\"instances\":[{\"age\":56,…}]}"`.
//! Unescaping it into a new string and then parsing that string reads every byte twice and
//! copies it once; [`Cursor`] parses the escaped text where it lies. Inner quotes are `\"`,
//! inner backslashes `\\`, and a string without escapes of its own is a slice of the record.
//!
//! The cursor follows JSON's grammar strictly (nothing a JSON parser refuses is accepted) but
//! not all of it: whatever it does not follow (an integer past 18 digits, a `\u0022` quote, an
//! escaped control character) is [`Unsupported`], and the caller reads that record the
//! ordinary way, which also words the error when the body is not JSON.

/// The cursor does not follow this text: read it the ordinary way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Unsupported;

/// The cursor's results.
pub(super) type Read<T> = std::result::Result<T, Unsupported>;

/// One scalar value, or the kind of a nested one (skipped).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar<'t> {
    Null,
    Bool(bool),
    /// An integer as `serde_json` reads it: `-0` is the float `-0.0`.
    Int(i64),
    Float(f64),
    Text(&'t str),
    /// An array (skipped).
    Array,
    /// An object (skipped).
    Object,
}

/// A position in the escaped text of one JSON string's content.
pub(super) struct Cursor<'a> {
    /// The string's content, escaped.
    s: &'a str,
    /// Its bytes.
    b: &'a [u8],
    i: usize,
}

fn hex4(b: &[u8]) -> Read<u32> {
    let s = std::str::from_utf8(b.get(..4).ok_or(Unsupported)?).map_err(|_| Unsupported)?;
    if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(Unsupported);
    }
    u32::from_str_radix(s, 16).map_err(|_| Unsupported)
}

impl<'a> Cursor<'a> {
    /// A cursor over the content of `raw`, a JSON string as it stands in its record (quotes
    /// included, as `serde_json::value::RawValue` keeps it).
    #[cfg(test)]
    pub(super) fn new(raw: &'a str) -> Read<Cursor<'a>> {
        if raw.len() < 2 || !raw.starts_with('"') || !raw.ends_with('"') {
            return Err(Unsupported);
        }
        Ok(Cursor::open(&raw[1..]))
    }

    /// A cursor at the start of a string's content: `rest` is the line after the string's
    /// opening quote. The content ends at the first bare `"`, which [`Cursor::finish`] expects.
    pub(super) fn open(rest: &'a str) -> Cursor<'a> {
        Cursor {
            s: rest,
            b: rest.as_bytes(),
            i: 0,
        }
    }

    /// The end of the string's content, after only whitespace: how many bytes of `rest` the
    /// content and its closing quote took.
    pub(super) fn finish(mut self) -> Read<usize> {
        if self.peek() == Some(b'"') {
            Ok(self.i + 1)
        } else {
            Err(Unsupported)
        }
    }

    /// The end of the text given to [`Cursor::new`].
    #[cfg(test)]
    pub(super) fn end(self) -> Read<()> {
        let len = self.b.len();
        match self.finish() {
            Ok(n) if n == len => Ok(()),
            _ => Err(Unsupported),
        }
    }

    /// Skip whitespace: spaces, and newlines, tabs and returns, which the record escapes.
    #[inline]
    fn ws(&mut self) {
        loop {
            match self.b.get(self.i) {
                Some(b' ') => self.i += 1,
                Some(b'\\') if matches!(self.b.get(self.i + 1), Some(b'n' | b't' | b'r')) => {
                    self.i += 2
                }
                _ => return,
            }
        }
    }

    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Read<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Unsupported)
        }
    }

    fn eat_word(&mut self, word: &[u8]) -> Read<()> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Unsupported)
        }
    }

    /// At an inner quote (`\"`)?
    #[inline]
    fn at_quote(&self) -> bool {
        self.b.get(self.i) == Some(&b'\\') && self.b.get(self.i + 1) == Some(&b'"')
    }

    /// `{`.
    pub(super) fn begin_object(&mut self) -> Read<()> {
        self.eat(b'{')
    }

    /// `[`.
    pub(super) fn begin_array(&mut self) -> Read<()> {
        self.eat(b'[')
    }

    /// The next key of an object, `None` at its `}`; `first` is true before its first key.
    #[inline]
    pub(super) fn next_key<'t>(
        &mut self,
        first: &mut bool,
        scratch: &'t mut String,
    ) -> Read<Option<&'t str>>
    where
        'a: 't,
    {
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(None);
        }
        if !std::mem::take(first) {
            self.eat(b',')?;
            self.ws();
        }
        let key = self.string(scratch)?;
        self.eat(b':')?;
        Ok(Some(key))
    }

    /// Whether the array has another element, `false` at its `]`; `first` is true before its
    /// first element.
    #[inline]
    pub(super) fn next_element(&mut self, first: &mut bool) -> Read<bool> {
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(false);
        }
        if !std::mem::take(first) {
            self.eat(b',')?;
        }
        Ok(true)
    }

    /// The next value: a scalar, or a nested array or object skipped whole.
    #[inline]
    pub(super) fn value<'t>(&mut self, scratch: &'t mut String) -> Read<Scalar<'t>>
    where
        'a: 't,
    {
        match self.peek().ok_or(Unsupported)? {
            b'\\' => Ok(Scalar::Text(self.string(scratch)?)),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.eat_word(b"true").map(|_| Scalar::Bool(true)),
            b'f' => self.eat_word(b"false").map(|_| Scalar::Bool(false)),
            b'n' => self.eat_word(b"null").map(|_| Scalar::Null),
            b'[' | b'{' => self.skip_nested(scratch),
            _ => Err(Unsupported),
        }
    }

    /// Skip any value.
    pub(super) fn skip_value(&mut self, scratch: &mut String) -> Read<()> {
        self.value(scratch).map(|_| ())
    }

    fn skip_nested<'t>(&mut self, scratch: &'t mut String) -> Read<Scalar<'t>> {
        let open = self.peek().ok_or(Unsupported)?;
        let mut first = true;
        if open == b'[' {
            self.begin_array()?;
            while self.next_element(&mut first)? {
                self.skip_value(scratch)?;
            }
            Ok(Scalar::Array)
        } else {
            self.begin_object()?;
            while self.next_key(&mut first, scratch)?.is_some() {
                self.skip_value(scratch)?;
            }
            Ok(Scalar::Object)
        }
    }

    /// A number, by JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    #[inline]
    fn number<'t>(&mut self) -> Read<Scalar<'t>> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let negative = b.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        // The digits, whole and fractional, as one integer while they fit (19 digits).
        let mut m: u64 = 0;
        let mut count = 0usize;
        let mut digits = |i: &mut usize| {
            let s = *i;
            while let Some(&d) = b.get(*i).filter(|d| d.is_ascii_digit()) {
                if count < 19 {
                    m = m * 10 + u64::from(d - b'0');
                }
                count += 1;
                *i += 1;
            }
            *i - s
        };
        let whole_start = i;
        let whole = digits(&mut i);
        if whole == 0 || (whole > 1 && b[whole_start] == b'0') {
            return Err(Unsupported);
        }
        let mut fraction = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            fraction = digits(&mut i);
            if fraction == 0 {
                return Err(Unsupported);
            }
        }
        let mut exponent = false;
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return Err(Unsupported);
            }
            exponent = true;
        }
        self.i = i;
        if fraction == 0 && !exponent {
            if whole > 18 {
                return Err(Unsupported);
            }
            let n = m as i64;
            return Ok(match (negative, n) {
                (true, 0) => Scalar::Float(-0.0),
                (true, n) => Scalar::Int(-n),
                (false, n) => Scalar::Int(n),
            });
        }
        let x = if !exponent && count <= 15 {
            // Clinger's fast path: the digits as an integer and the power of ten are both
            // exact in `f64` (under 2^53 and 10^22), so one division rounds correctly.
            const POW10: [f64; 16] = [
                1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
                1e15,
            ];
            let x = m as f64 / POW10[fraction];
            if negative {
                -x
            } else {
                x
            }
        } else {
            fast_float2::parse(&b[start..i]).map_err(|_| Unsupported)?
        };
        if x.is_finite() {
            Ok(Scalar::Float(x))
        } else {
            Err(Unsupported)
        }
    }

    /// A string: a slice of the record when it has no escapes of its own, else unescaped
    /// into `scratch`.
    #[inline]
    pub(super) fn string<'t>(&mut self, scratch: &'t mut String) -> Read<&'t str>
    where
        'a: 't,
    {
        if !self.at_quote() {
            return Err(Unsupported);
        }
        let b = self.b;
        let start = self.i + 2;
        // A bare `"` ends the whole string: this one is not closed. A control character
        // cannot stand bare in the record (a newline would end it).
        let Some(p) = b[start..]
            .iter()
            .position(|&c| c == b'\\' || c == b'"' || c < 0x20)
        else {
            return Err(Unsupported);
        };
        if b[start + p] != b'\\' {
            return Err(Unsupported);
        }
        if b.get(start + p + 1) == Some(&b'"') {
            self.i = start + p + 2;
            // Both ends are ASCII (`"` and `\\`), so the slice is whole characters.
            let s: &'a str = self.s;
            return Ok(&s[start..start + p]);
        }
        self.escaped_string(start, scratch)
    }

    /// The rest of [`Cursor::string`]: a string with escapes of its own, from `start`.
    #[cold]
    #[inline(never)]
    fn escaped_string<'t>(&mut self, start: usize, scratch: &'t mut String) -> Read<&'t str>
    where
        'a: 't,
    {
        let b = self.b;
        // Escapes of its own: `\\"` is an inner `\"`, `\\\\` an inner `\\`, `\\n` an inner
        // `\n`, `\\uXXXX` an inner `\uXXXX`; `\uXXXX` alone is a character the record escaped.
        scratch.clear();
        let mut i = start;
        let mut bytes = Vec::new();
        loop {
            let p = b[i..]
                .iter()
                .position(|&c| c == b'\\' || c == b'"' || c < 0x20)
                .ok_or(Unsupported)?;
            if b[i + p] != b'\\' {
                return Err(Unsupported);
            }
            bytes.extend_from_slice(&b[i..i + p]);
            i += p;
            match b.get(i + 1) {
                Some(b'"') => {
                    self.i = i + 2;
                    break;
                }
                Some(b'/') => {
                    bytes.push(b'/');
                    i += 2;
                }
                Some(b'u') => {
                    let (c, used) = Self::code_point(&b[i + 2..], b"\\u")?;
                    if (c as u32) < 0x20 || c == '"' || c == '\\' {
                        return Err(Unsupported);
                    }
                    let mut buf = [0; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += 2 + used;
                }
                Some(b'\\') => {
                    // An escape of the inner string, itself written escaped.
                    let (c, used) = match (b.get(i + 2), b.get(i + 3)) {
                        (Some(b'\\'), Some(b'"')) => ('"', 4),
                        (Some(b'\\'), Some(b'\\')) => ('\\', 4),
                        (Some(b'/'), _) => ('/', 3),
                        (Some(b'b'), _) => ('\u{8}', 3),
                        (Some(b'f'), _) => ('\u{c}', 3),
                        (Some(b'n'), _) => ('\n', 3),
                        (Some(b'r'), _) => ('\r', 3),
                        (Some(b't'), _) => ('\t', 3),
                        (Some(b'u'), _) => {
                            let (c, used) = Self::code_point(&b[i + 3..], b"\\\\u")?;
                            (c, 3 + used)
                        }
                        _ => return Err(Unsupported),
                    };
                    let mut buf = [0; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += used;
                }
                _ => return Err(Unsupported),
            }
        }
        scratch.push_str(&String::from_utf8(bytes).map_err(|_| Unsupported)?);
        Ok(scratch.as_str())
    }

    /// The character of the four hex digits at the start of `b` (after a `\u`), with the low
    /// half of a surrogate pair when it follows as `low_prefix` and four more digits; and how
    /// many bytes it took.
    fn code_point(b: &[u8], low_prefix: &[u8]) -> Read<(char, usize)> {
        let high = hex4(b)?;
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high).map(|c| (c, 4)).ok_or(Unsupported);
        }
        let rest = &b[4..];
        if !rest.starts_with(low_prefix) {
            return Err(Unsupported);
        }
        let low = hex4(&rest[low_prefix.len()..])?;
        if !(0xDC00..0xE000).contains(&low) {
            return Err(Unsupported);
        }
        let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
        char::from_u32(c)
            .map(|c| (c, 4 + low_prefix.len() + 4))
            .ok_or(Unsupported)
    }
}

/// A position in a capture record's line, plain JSON: the fields around the bodies. Strings
/// with escapes, and anything a capture record does not hold, are [`Unsupported`].
pub(super) struct Line<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Line<'a> {
    /// The start of a line: `text` is it and whatever lines follow it.
    pub(super) fn new(text: &'a str) -> Line<'a> {
        Line {
            s: text,
            b: text.as_bytes(),
            i: 0,
        }
    }

    /// Skip whitespace within the line (a newline ends the record).
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\r')) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Read<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Unsupported)
        }
    }

    /// `{`.
    pub(super) fn begin_object(&mut self) -> Read<()> {
        self.eat(b'{')
    }

    /// The next key of an object, `None` at its `}`.
    pub(super) fn next_key(&mut self, first: &mut bool) -> Read<Option<&'a str>> {
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(None);
        }
        if !std::mem::take(first) {
            self.eat(b',')?;
        }
        let key = self.string()?;
        self.eat(b':')?;
        Ok(Some(key))
    }

    /// A string without escapes.
    pub(super) fn string(&mut self) -> Read<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let p = self.b[start..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
            .ok_or(Unsupported)?;
        if self.b[start + p] != b'"' {
            return Err(Unsupported);
        }
        self.i = start + p + 1;
        let s: &'a str = self.s;
        Ok(&s[start..start + p])
    }

    /// `null`, or a string without escapes.
    pub(super) fn string_or_null(&mut self) -> Read<Option<&'a str>> {
        if self.peek() == Some(b'n') {
            if self.b[self.i..].starts_with(b"null") {
                self.i += 4;
                return Ok(None);
            }
            return Err(Unsupported);
        }
        self.string().map(Some)
    }

    /// A string value read in place: `read` gets a cursor on its content.
    pub(super) fn body<T>(&mut self, read: impl FnOnce(&mut Cursor<'a>) -> Read<T>) -> Read<T> {
        self.eat(b'"')?;
        let s: &'a str = self.s;
        let mut cursor = Cursor::open(&s[self.i..]);
        let value = read(&mut cursor)?;
        self.i += cursor.finish()?;
        Ok(value)
    }

    /// The end of the line, after only whitespace: how many bytes the line took, its `\n`
    /// included (the text may go on with more lines).
    pub(super) fn end_of_line(mut self) -> Read<usize> {
        match self.peek() {
            None => Ok(self.i),
            Some(b'\n') => Ok(self.i + 1),
            Some(_) => Err(Unsupported),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `inner` (a JSON text) as it stands in a record: a JSON string.
    fn recorded(inner: &str) -> String {
        serde_json::to_string(inner).unwrap()
    }

    #[test]
    fn strings_decode_as_a_json_parser_decodes_the_unescaped_text() {
        // JSON string contents, escapes and all.
        for text in [
            r"plain",
            r#"say \"hi\""#,
            r"back\\slash",
            r"new\nline, tab\t, slash\/",
            r"caf\u00e9 and \ud83d\ude00",
            "café ☕ 😀",
            "",
        ] {
            let inner = format!("\"{text}\"");
            let raw = recorded(&inner);
            let mut c = Cursor::new(&raw).unwrap();
            let mut scratch = String::new();
            let got = c.string(&mut scratch).unwrap().to_string();
            c.end().unwrap();
            let want: String = serde_json::from_str(&inner).unwrap();
            assert_eq!(got, want, "{inner}");
        }
    }

    #[test]
    fn numbers_follow_jsons_grammar_and_read_as_serde_json_reads_them() {
        for (text, want) in [
            ("0", Scalar::Int(0)),
            ("-0", Scalar::Float(-0.0)),
            ("-12", Scalar::Int(-12)),
            ("2.50", Scalar::Float(2.5)),
            ("1e3", Scalar::Float(1000.0)),
            ("-1.5E-2", Scalar::Float(-0.015)),
        ] {
            let raw = recorded(text);
            let mut c = Cursor::new(&raw).unwrap();
            let mut scratch = String::new();
            let got = c.value(&mut scratch).unwrap();
            assert_eq!(got, want, "{text}");
            if let Scalar::Float(x) = got {
                assert_eq!(
                    x.to_bits(),
                    serde_json::from_str::<f64>(text).unwrap().to_bits()
                );
            }
        }
        // Short decimals read exactly as the general parser reads them.
        let mut state: u64 = 7;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let digits = 2 + (state >> 61) as usize * 2;
            let places = 1 + (state >> 40) as usize % (digits - 1);
            let n = (state >> 3) % 10u64.pow(digits as u32);
            let mut text = format!("{n}");
            if text.len() <= places {
                text = format!("{}{text}", "0".repeat(places + 1 - text.len()));
            }
            text.insert(text.len() - places, '.');
            if state & 1 == 1 {
                text.insert(0, '-');
            }
            let raw = recorded(&text);
            let mut scratch = String::new();
            let got = Cursor::new(&raw).unwrap().value(&mut scratch).unwrap();
            let want: f64 = text.parse().unwrap();
            assert_eq!(got, Scalar::Float(want), "{text}");
        }
        for text in [
            "01",
            "1.",
            ".5",
            "+1",
            "1e",
            "-",
            "1e999",
            "1234567890123456789",
        ] {
            let raw = recorded(text);
            let mut c = Cursor::new(&raw).unwrap();
            assert_eq!(c.value(&mut String::new()), Err(Unsupported), "{text}");
        }
    }

    #[test]
    fn a_bare_control_character_is_not_text() {
        // JSON text escapes them; one bare in a record (a newline) is not a record.
        // A newline in plain text, and a tab after an escape of the text's own.
        for bare in [
            "\"{\\\"a\\\": \\\"x\ny\\\"}\"",
            "\"{\\\"a\\\": \\\"y\\\\nx\ty\\\"}\"",
        ] {
            let mut c = Cursor::new(bare).unwrap();
            let mut scratch = String::new();
            c.begin_object().unwrap();
            let mut first = true;
            assert_eq!(c.next_key(&mut first, &mut scratch).unwrap(), Some("a"));
            assert_eq!(c.value(&mut scratch), Err(Unsupported), "{bare}");
        }
    }

    #[test]
    fn the_content_ends_at_the_records_own_quote_and_not_before() {
        // An inner string left open must not run on into the rest of the line.
        let line = r#""{\"a\": \"open}","next":"\"x\""}"#;
        let mut c = Cursor::open(&line[1..]);
        let mut scratch = String::new();
        c.begin_object().unwrap();
        let mut first = true;
        assert_eq!(c.next_key(&mut first, &mut scratch).unwrap(), Some("a"));
        assert_eq!(c.value(&mut scratch), Err(Unsupported));
        // And a closed text ends right after its closing quote.
        let line = r#""{\"a\": 1}" , rest"#;
        let mut c = Cursor::open(&line[1..]);
        c.begin_object().unwrap();
        let mut first = true;
        assert!(c.next_key(&mut first, &mut scratch).unwrap().is_some());
        assert_eq!(c.value(&mut scratch), Ok(Scalar::Int(1)));
        assert_eq!(c.next_key(&mut first, &mut scratch), Ok(None));
        assert_eq!(c.finish(), Ok(r#"{\"a\": 1}""#.len()));
    }
}
