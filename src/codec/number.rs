//! Numbers as text, both ways: the one writer of the crate, and its two readers.
//!
//! - [`parse_field`] reads a *table's* cell: strict (finite numbers only), empty = missing.
//!   The loader, the preprocessor and explanations read cells through it.
//! - [`parse_f32`] reads a *model input or score* as libxgboost's own readers do: Rust's
//!   grammar for `f32`, `nan` and `inf` included (a `NaN` feature is a missing value to
//!   XGBoost). libsvm rows and text answers read through it.
//! - SageMaker CSV bodies, the hot path, are read in place by `fast_float2` in
//!   [`csv`](super::csv) with the same grammar as [`parse_f32`] (a test holds them equal),
//!   because splitting each field into a `&str` first costs a third of the parse.
//! - JSON numbers are read by `serde_json`.

/// One text field read as a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Field {
    /// Empty (or only spaces): a missing value.
    Missing,
    /// A finite number.
    Number(f64),
    /// Anything else, `inf` and `NaN` included.
    Invalid,
}

/// Read a text field strictly: surrounding spaces are ignored, empty text is missing, and
/// anything that is not a finite number is [`Field::Invalid`].
///
/// ```
/// use purchase_predict::codec::number::{parse_field, Field};
/// assert_eq!(parse_field(" 2.5 "), Field::Number(2.5));
/// assert_eq!(parse_field(""), Field::Missing);
/// assert_eq!(parse_field("inf"), Field::Invalid);
/// ```
pub fn parse_field(text: &str) -> Field {
    match text.trim() {
        "" => Field::Missing,
        t => match t.parse::<f64>() {
            Ok(x) if x.is_finite() => Field::Number(x),
            _ => Field::Invalid,
        },
    }
}

/// Read a model input or a score as `f32`: surrounding spaces are ignored; `None` when the
/// text is not a number in Rust's grammar (which takes `nan` and `inf`).
///
/// ```
/// use purchase_predict::codec::number::parse_f32;
/// assert_eq!(parse_f32(" 0.25"), Some(0.25));
/// assert!(parse_f32("NaN").unwrap().is_nan());
/// assert_eq!(parse_f32("x"), None);
/// ```
pub fn parse_f32(text: &str) -> Option<f32> {
    text.trim().parse().ok()
}

/// Writes `f32` values as the shortest decimal text that reads back to the same value, as
/// `Display` does (`0.1`, `1`, `0.000025`; never an exponent), and nothing for a value that is
/// not finite (a missing field). Keeps its buffers, so writing millions of values allocates
/// nothing.
///
/// ```
/// let mut w = purchase_predict::codec::number::F32Text::default();
/// assert_eq!(w.format(0.1), "0.1");
/// assert_eq!(w.format(1.0), "1");
/// assert_eq!(w.format(2.5e-8), "0.000000025");
/// assert_eq!(w.format(f32::NAN), "");
/// ```
#[derive(Default)]
pub struct F32Text {
    ryu: ryu::Buffer,
    slow: String,
    json: Vec<u8>,
}

impl F32Text {
    /// The text of `v` (empty when `v` is not finite).
    pub fn format(&mut self, v: f32) -> &str {
        if !v.is_finite() {
            return "";
        }
        // Whole numbers below 2^24 (every one-hot 0 and 1) are their own digits: `Display`
        // prints the integer (`-0` for negative zero), which ryu would write as `1.0`.
        if v == v.trunc() && v.abs() < 16_777_216.0 {
            let mut n = v.abs() as u32;
            let mut digits = [0u8; 8];
            let mut i = digits.len();
            loop {
                i -= 1;
                digits[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            self.slow.clear();
            if v.is_sign_negative() {
                self.slow.push('-');
            }
            self.slow.extend(digits[i..].iter().map(|&d| char::from(d)));
            return &self.slow;
        }
        // ryu and `Display` pick the same shortest digits; they differ only in layout
        // (`1.0` and `1e-7` against `1` and `0.0000001`), which the slow path handles.
        let fast = self.ryu.format_finite(v);
        if fast.contains('e') || fast.ends_with(".0") {
            use std::fmt::Write as _;
            self.slow.clear();
            let _ = write!(self.slow, "{v}");
            &self.slow
        } else {
            fast
        }
    }

    /// Append the text of `v` to `out`.
    pub fn push(&mut self, out: &mut String, v: f32) {
        out.push_str(self.format(v));
    }

    /// Append `v` as a JSON number, as serde_json writes the `f64` that `v`'s shortest text
    /// reads as (`0.1234567`, not `0.12345670163`; `1.0`; `1e-7`), and `null` when `v` is
    /// not finite.
    pub fn push_json(&mut self, out: &mut String, v: f32) {
        if !v.is_finite() {
            out.push_str("null");
            return;
        }
        let x: f64 = fast_float2::parse(self.ryu.format_finite(v)).unwrap_or(f64::from(v));
        // serde_json's own number writer, so that the text is the same to the byte (`1e+20`).
        use serde_json::ser::Formatter as _;
        self.json.clear();
        let _ = serde_json::ser::CompactFormatter.write_f64(&mut self.json, x);
        out.push_str(std::str::from_utf8(&self.json).unwrap_or("null"));
    }

    /// Append the text of `v` to `out`.
    pub fn push_bytes(&mut self, out: &mut Vec<u8>, v: f32) {
        out.extend_from_slice(self.format(v).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_display_and_reads_back_exactly() {
        let mut w = F32Text::default();
        for v in [
            0.1f32,
            1.0 / 3.0,
            -2.0,
            1e-7,
            123456790.0,
            f32::MIN_POSITIVE,
            0.99999994,
            0.0,
            -0.0,
            1.0,
            -3.0,
            10.0,
            16_777_215.0,
            16_777_216.0,
            -16_777_218.0,
        ] {
            assert_eq!(w.format(v), v.to_string());
            assert_eq!(w.format(v).parse::<f32>().unwrap(), v);
        }
    }
}
