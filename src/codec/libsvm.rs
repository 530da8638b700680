//! `text/libsvm` rows: `[label] index:value ...`, 0-based feature indices, absent = missing.

/// Parse libsvm rows for a model of `n` features into row-major values (missing = NaN).
/// Blank lines are skipped; a leading label is ignored. Errors name the 1-based line.
pub fn parse_rows(text: &str, n: usize) -> std::result::Result<Vec<f32>, String> {
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
            let bad = || format!("line {}: `{tok}` is not index:value", i + 1);
            let idx: usize = idx.parse().map_err(|_| bad())?;
            let val: f32 = val.parse().map_err(|_| bad())?;
            if idx >= n {
                return Err(format!(
                    "line {}: feature index {idx} is out of range (the model has {n} features, 0-based)",
                    i + 1
                ));
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
            parse_rows("0:1\n0:x\n", 3).unwrap_err(),
            "line 2: `0:x` is not index:value"
        );
        assert!(parse_rows("3:1", 3).unwrap_err().contains("out of range"));
    }
}
