//! PostgreSQL COPY text format: columns separated by tabs, rows by newlines, `\N` for NULL, and
//! backslash escapes for the characters that would break that framing.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::RowSink;

/// A buffer of COPY text rows.
#[derive(Debug, Default)]
pub struct CopyText {
    buf: Vec<u8>,
    /// Whether the current row has a column yet (the next one needs a tab before it).
    in_row: bool,
}

impl CopyText {
    pub fn with_capacity(capacity: usize) -> Self {
        CopyText {
            buf: Vec::with_capacity(capacity),
            in_row: false,
        }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The buffered rows, leaving the buffer empty (its capacity kept for the next chunk).
    pub fn take(&mut self) -> Vec<u8> {
        let capacity = self.buf.capacity();
        std::mem::replace(&mut self.buf, Vec::with_capacity(capacity))
    }

    pub fn end_row(&mut self) {
        self.buf.push(b'\n');
        self.in_row = false;
    }

    fn sep(&mut self) {
        if self.in_row {
            self.buf.push(b'\t');
        }
        self.in_row = true;
    }

    fn null(&mut self) {
        self.sep();
        self.buf.extend_from_slice(b"\\N");
    }

    fn raw(&mut self, s: &str) {
        self.sep();
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn escaped(&mut self, s: &str) {
        self.sep();
        escape_into(&mut self.buf, s);
    }

    fn display(&mut self, v: impl std::fmt::Display) {
        self.sep();
        let mut s = String::new();
        write!(s, "{v}").expect("writing to a String cannot fail");
        self.buf.extend_from_slice(s.as_bytes());
    }
}

fn escape_into(buf: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => buf.push(b),
        }
    }
}

macro_rules! display_value {
    ($name:ident, $ty:ty) => {
        fn $name(&mut self, v: impl Into<Option<$ty>>) {
            match v.into() {
                Some(v) => self.display(v),
                None => self.null(),
            }
        }
    };
}

impl RowSink for CopyText {
    display_value!(i16, i16);
    display_value!(i32, i32);
    display_value!(i64, i64);
    display_value!(f64, f64);
    display_value!(decimal, Decimal);
    display_value!(uuid, Uuid);
    display_value!(date, NaiveDate);

    fn bool(&mut self, v: impl Into<Option<bool>>) {
        match v.into() {
            Some(v) => self.raw(if v { "t" } else { "f" }),
            None => self.null(),
        }
    }

    fn text<'a>(&mut self, v: impl Into<Option<&'a str>>) {
        match v.into() {
            Some(v) => self.escaped(v),
            None => self.null(),
        }
    }

    fn bytes<'a>(&mut self, v: impl Into<Option<&'a [u8]>>) {
        let Some(v) = v.into() else { return self.null() };
        self.sep();
        // bytea hex input is `\x…`; the backslash itself is escaped for COPY.
        self.buf.extend_from_slice(b"\\\\x");
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for b in v {
            self.buf.push(HEX[usize::from(b >> 4)]);
            self.buf.push(HEX[usize::from(b & 0xf)]);
        }
    }

    fn time(&mut self, v: impl Into<Option<DateTime<Utc>>>) {
        match v.into() {
            Some(v) => self.display(v.format("%Y-%m-%d %H:%M:%S%.6f+00")),
            None => self.null(),
        }
    }

    fn json(&mut self, v: Option<&serde_json::Value>) {
        match v {
            Some(v) => self.escaped(&v.to_string()),
            None => self.null(),
        }
    }

    fn text_array<S: AsRef<str>>(&mut self, v: Option<&[S]>) {
        let Some(items) = v else { return self.null() };
        // Array literal first ({"a","b\"c"}), then COPY escaping of the whole literal.
        let mut literal = String::from("{");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                literal.push(',');
            }
            literal.push('"');
            for c in item.as_ref().chars() {
                if c == '"' || c == '\\' {
                    literal.push('\\');
                }
                literal.push(c);
            }
            literal.push('"');
        }
        literal.push('}');
        self.escaped(&literal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_escape_framing_characters_and_write_nulls() {
        let mut t = CopyText::default();
        t.text("a\tb\\c\nd");
        t.text(None::<&str>);
        t.bytes(&[0xde, 0xad][..]);
        t.text_array(Some(&["x", "y\"z"][..]));
        t.bool(true);
        t.end_row();
        assert_eq!(
            String::from_utf8(t.take()).expect("utf8"),
            "a\\tb\\\\c\\nd\t\\N\t\\\\xdead\t{\"x\",\"y\\\\\"z\"}\tt\n"
        );
    }
}
