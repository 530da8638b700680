//! `text/libsvm` rows: `[label] index:value ...`, 0-based feature indices, absent = missing.

use super::number::parse_f32;
use super::{DecodeError, DecodeKind};

/// Parse libsvm rows for a model of `n` features into row-major values (missing = NaN).
/// Blank lines are skipped; a leading label is ignored. Errors name the 1-based line.
pub fn parse_rows(text: &str, n: usize) -> std::result::Result<Vec<f32>, DecodeError> {
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut row = vec![f32::NAN; n];
        for tok in line.split_whitespace() {
            let Some((idx, val)) = tok.split_once(':') else {
                continue; // a leading label
            };
            let bad = || DecodeError::from(format!("`{tok}` is not index:value")).at(i + 1, None);
            let idx: usize = idx.parse().map_err(|_| bad())?;
            let val: f32 = parse_f32(val).ok_or_else(bad)?;
            if idx >= n {
                return Err(DecodeError::new(DecodeKind::IndexOutOfRange {
                    index: idx,
                    features: n,
                })
                .at(i + 1, None));
            }
            row[idx] = val;
        }
        values.extend(row);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_name_their_errors() {
        let v = parse_rows("1 0:0.5 2:3\n\n1:2\n", 3).unwrap();
        assert_eq!(v[0], 0.5);
        assert!(v[1].is_nan());
        assert_eq!(v[2], 3.0);
        assert_eq!(v[4], 2.0);
        assert_eq!(
            parse_rows("0:1\n0:x\n", 3).unwrap_err().to_string(),
            "line 2: `0:x` is not index:value"
        );
        assert!(parse_rows("3:1", 3)
            .unwrap_err()
            .to_string()
            .contains("out of range"));
    }
}
