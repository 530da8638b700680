//! SageMaker's headerless numeric CSV: rows of features in (parsed in parallel parts, errors
//! naming line and column), rows of features and one score per line out.

use std::io::Write;

use super::number::F32Text;
use super::{DecodeError, DecodeKind};

/// CSV bodies from this size on are cut into parts handled in parallel (one per core).
const PARALLEL_PARSE_BYTES: usize = 32 * 1024;

/// Parse CSV rows of `n` numbers (empty = missing, blank lines skipped). Errors name the
/// 1-based line and column. Large bodies are parsed in parallel parts.
pub fn parse_csv_rows(text: &str, n: usize) -> std::result::Result<Vec<f32>, DecodeError> {
    parse_csv_in_parts(text.as_bytes(), n, 0, Ok)
}

/// [`parse_csv_rows`] for a chunk of a larger file that starts after `lines_before` lines:
/// errors name the line in the whole file.
pub fn parse_csv_rows_after(
    text: &str,
    n: usize,
    lines_before: usize,
) -> std::result::Result<Vec<f32>, DecodeError> {
    parse_csv_in_parts(text.as_bytes(), n, lines_before, Ok)
}

/// Cut `bytes` into up to `parts` pieces of about equal size, each ending after a newline.
fn split_at_lines(bytes: &[u8], parts: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::with_capacity(parts);
    let mut rest = bytes;
    for k in (1..parts).rev() {
        // k more cuts after this one: aim at an equal share of what is left.
        let target = rest.len() / (k + 1);
        let Some(p) = rest[target..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let (piece, tail) = rest.split_at(target + p + 1);
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    pieces
}

/// Parse CSV rows in parts (one per core for large bodies, else one), apply `each` to each
/// part's values, and concatenate the results in order. Decode errors name the line in the
/// whole body, counting `lines_before` lines ahead of it; `each`'s own errors pass through.
pub fn parse_csv_in_parts<F, E>(
    bytes: &[u8],
    n: usize,
    lines_before: usize,
    each: F,
) -> std::result::Result<Vec<f32>, E>
where
    F: Fn(Vec<f32>) -> std::result::Result<Vec<f32>, E> + Sync,
    E: From<DecodeError> + Send,
{
    /// A part's failure: its rows could not be read, or `each` failed on them.
    enum PartError<E> {
        Decode(DecodeError),
        Each(E),
    }
    let run = |piece: &[u8]| match parse_csv_block(piece, n) {
        Ok(x) => each(x).map_err(PartError::Each),
        Err(e) => Err(PartError::Decode(e)),
    };
    let fail = |e: PartError<E>, lines_before: usize| -> E {
        match e {
            PartError::Decode(mut e) => {
                e.line = e.line.map(|l| l + lines_before);
                E::from(e)
            }
            PartError::Each(e) => e,
        }
    };
    let parts = if bytes.len() < PARALLEL_PARSE_BYTES {
        1
    } else {
        rayon::current_num_threads().clamp(1, bytes.len() / (PARALLEL_PARSE_BYTES / 2))
    };
    if parts == 1 {
        return run(bytes).map_err(|e| fail(e, lines_before));
    }
    let pieces = split_at_lines(bytes, parts);
    let results: Vec<_> = {
        use rayon::prelude::*;
        pieces.par_iter().map(|p| run(p)).collect()
    };
    let mut out = Vec::with_capacity(results.iter().flatten().map(Vec::len).sum());
    let mut lines_before = lines_before;
    for (piece, r) in pieces.iter().zip(results) {
        match r {
            Ok(v) => out.extend_from_slice(&v),
            Err(e) => return Err(fail(e, lines_before)),
        }
        lines_before += piece.iter().filter(|&&b| b == b'\n').count();
    }
    Ok(out)
}

fn is_field_end(bytes: &[u8], pos: usize) -> bool {
    pos == bytes.len() || matches!(bytes[pos], b',' | b'\n' | b'\r')
}

fn skip_spaces(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t') {
        pos += 1;
    }
    pos
}

/// One pass over the bytes: fast_float parses each field in place, no splitting. Errors
/// name the line within the block.
fn parse_csv_block(bytes: &[u8], n: usize) -> std::result::Result<Vec<f32>, DecodeError> {
    let len = bytes.len();
    let mut values = Vec::with_capacity(len / 4);
    let mut pos = 0;
    let mut line = 0;
    while pos < len {
        line += 1;
        // A blank line (only spaces) is skipped.
        let p = skip_spaces(bytes, pos);
        if p == len || matches!(bytes[p], b'\n' | b'\r') {
            pos = bytes[p..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(len, |q| p + q + 1);
            continue;
        }
        let row_start = values.len();
        let mut column = 0;
        loop {
            column += 1;
            pos = skip_spaces(bytes, pos);
            let field_start = pos;
            if is_field_end(bytes, pos) {
                values.push(f32::NAN);
            } else {
                let parsed = match fast_float2::parse_partial::<f32, _>(&bytes[pos..]) {
                    Ok((v, used)) => {
                        pos = skip_spaces(bytes, pos + used);
                        is_field_end(bytes, pos).then_some(v)
                    }
                    Err(_) => None,
                };
                let Some(v) = parsed else {
                    let end = bytes[field_start..]
                        .iter()
                        .position(|&b| matches!(b, b',' | b'\n' | b'\r'))
                        .map_or(len, |q| field_start + q);
                    return Err(DecodeError::new(DecodeKind::NotANumber {
                        text: String::from_utf8_lossy(&bytes[field_start..end])
                            .trim()
                            .to_string(),
                    })
                    .at(line, Some(column)));
                };
                values.push(v);
            }
            if pos == len {
                break;
            }
            let sep = bytes[pos];
            pos += 1;
            if sep == b',' {
                continue;
            }
            if sep == b'\r' && pos < len && bytes[pos] == b'\n' {
                pos += 1;
            }
            break;
        }
        let got = values.len() - row_start;
        if got != n {
            return Err(
                DecodeError::new(DecodeKind::FieldCount { expected: n, got }).at(line, None),
            );
        }
    }
    Ok(values)
}

/// Rows formatted as one block of text by one thread in [`write_rows`].
const WRITE_BLOCK_ROWS: usize = 4096;

/// Write `nrows` rows of `values` (row-major, `values.len() / nrows` a row), each with its
/// 0/1 label first when `labels` is given: SageMaker's training (label first) and inference
/// (features only) CSV. Missing values are empty fields. Blocks of rows are formatted in
/// parallel (one per core at a time) and written in order.
pub fn write_rows(
    w: &mut dyn Write,
    values: &[f32],
    nrows: usize,
    labels: Option<&[u8]>,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let ncols = values.len().checked_div(nrows).unwrap_or(0);
    let block = |start: usize| {
        let end = (start + WRITE_BLOCK_ROWS).min(nrows);
        let mut text = F32Text::default();
        let mut out = String::with_capacity((end - start) * 12 * (ncols + 1));
        for r in start..end {
            if let Some(l) = labels {
                out.push(if l[r] == 1 { '1' } else { '0' });
                out.push(',');
            }
            write_row(&mut out, &values[r * ncols..(r + 1) * ncols], &mut text);
            out.push('\n');
        }
        out
    };
    // A few blocks per core at a time, formatted on rayon's threads while this thread writes
    // the previous batch: memory stays a few MB whatever the row count.
    let batch = WRITE_BLOCK_ROWS * 2 * rayon::current_num_threads().max(1);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<String>>(1);
        scope.spawn(move || {
            for first in (0..nrows).step_by(batch) {
                let starts: Vec<usize> = (first..(first + batch).min(nrows))
                    .step_by(WRITE_BLOCK_ROWS)
                    .collect();
                let texts: Vec<String> = starts.into_par_iter().map(block).collect();
                if tx.send(texts).is_err() {
                    break; // the writer stopped on an error
                }
            }
        });
        for texts in rx {
            for t in &texts {
                w.write_all(t.as_bytes())?;
            }
        }
        Ok(())
    })
}

/// Append one row of features, separated by commas, to `line` (no newline).
pub fn write_row(line: &mut String, row: &[f32], text: &mut F32Text) {
    for (j, v) in row.iter().enumerate() {
        if j > 0 {
            line.push(',');
        }
        text.push(line, *v);
    }
}

/// The `text/csv` answer: one score per line, each followed by `,label` when labels are given.
pub fn encode_scores(scores: &[f32], labels: Option<&[u8]>) -> String {
    let mut out = String::with_capacity(scores.len() * 14);
    let mut text = F32Text::default();
    for (i, p) in scores.iter().enumerate() {
        text.push(&mut out, *p);
        if let Some(l) = labels {
            out.push(',');
            out.push(if l[i] == 1 { '1' } else { '0' });
        }
        out.push('\n');
    }
    out
}

/// Read a `text/csv` answer for `rows` rows, in either shape: one score per line (our server;
/// a `,label` after it is ignored), or all scores on one line separated by commas (what
/// SageMaker's XGBoost container answers for real-time requests).
pub fn decode_scores(text: &str, rows: usize) -> std::result::Result<Vec<f32>, DecodeError> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let fields: Vec<&str> = if lines.len() == 1 && rows > 1 {
        lines[0].split(',').map(str::trim).collect()
    } else {
        lines
            .iter()
            .map(|l| l.split(',').next().unwrap_or("").trim())
            .collect()
    };
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            super::number::parse_f32(f).ok_or_else(|| {
                DecodeError::from(format!(
                    "answer value {}: `{f}` is not a probability",
                    i + 1
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_with_the_grammar_of_parse_f32() {
        for text in [
            "1",
            "-2.5",
            "+3",
            ".5",
            "5.",
            "1e5",
            "1E-3",
            "nan",
            "NaN",
            "inf",
            "-infinity",
            "0x10",
            "1,5",
            "--1",
            "1e",
            "e1",
            "abc",
            "1.2.3",
            "٣",
        ] {
            let ours = parse_csv_rows(text, 1).ok().map(|v| v[0]);
            let theirs = crate::codec::number::parse_f32(text);
            assert_eq!(
                ours.map(f32::to_bits),
                theirs.map(f32::to_bits),
                "`{text}`: CSV reads {ours:?}, parse_f32 {theirs:?}"
            );
        }
    }

    #[test]
    fn large_bodies_parse_in_halves_with_the_same_values_and_line_numbers() {
        let row = "0.5,,1e-3, -2 ,3\r\n";
        let body = row.repeat(20_000);
        assert!(body.len() > PARALLEL_PARSE_BYTES);
        let v = parse_csv_rows(&body, 5).unwrap();
        assert_eq!(v.len(), 100_000);
        assert_eq!(v[95..100][..1], [0.5]);
        assert!(v[96].is_nan());
        assert_eq!(&v[97..100], &[1e-3, -2.0, 3.0]);
        // An error in the second half names its line in the whole body.
        let mut bad = body.clone();
        bad.push_str("1,2,x,4,5\n");
        assert_eq!(
            parse_csv_rows(&bad, 5).unwrap_err().to_string(),
            "line 20001, column 3: `x` is not a number"
        );
        assert_eq!(
            parse_csv_rows("1,2\n3,4.5abc\n", 2)
                .unwrap_err()
                .to_string(),
            "line 2, column 2: `4.5abc` is not a number"
        );
        assert_eq!(parse_csv_rows("  \n1,2", 2).unwrap(), [1.0, 2.0]);
    }

    #[test]
    fn rows_and_scores_round_trip() {
        let mut out = Vec::new();
        write_rows(&mut out, &[0.1, f32::NAN, 1.0, 2.5e-8], 2, Some(&[1, 0])).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "1,0.1,\n0,1,0.000000025\n");
        let text = encode_scores(&[0.25, 1.0], Some(&[0, 1]));
        assert_eq!(text, "0.25,0\n1,1\n");
        assert_eq!(decode_scores(&text, 2).unwrap(), [0.25, 1.0]);
        assert_eq!(decode_scores("0.5,0.25", 2).unwrap(), [0.5, 0.25]);
        assert!(decode_scores("x", 1)
            .unwrap_err()
            .to_string()
            .contains("`x`"));
    }

    #[test]
    fn csv_rows_name_line_and_column() {
        assert_eq!(
            parse_csv_rows("1,2\n\n3,\n", 2).unwrap()[..3],
            [1.0, 2.0, 3.0]
        );
        assert!(parse_csv_rows("1,2\n3,,\n", 2)
            .unwrap_err()
            .to_string()
            .contains("line 2: expected 2 fields, got 3"));
        assert!(parse_csv_rows("1,2\n3,x\n", 2)
            .unwrap_err()
            .to_string()
            .contains("line 2, column 2: `x`"));
    }
}
