//! `application/x-recordio-protobuf`: SageMaker's binary request format, as its built-in
//! XGBoost container takes it (and as the SageMaker SDK's `RecordSerializer`,
//! `write_numpy_to_dense_tensor` and `write_spmatrix_to_sparse_tensor` write it).
//!
//! A body is a sequence of RecordIO records: a little-endian `u32` magic `0xced7230a`, a
//! `u32` whose low 29 bits are the payload's length and high 3 bits a continuation flag
//! (0: whole record; 1, 2, 3: first, middle, last part of a record split where its payload
//! held the magic, which the parts leave out), the payload, and zero padding to 4 bytes.
//! Each payload is an `aialgs.data.Record` protocol buffer: the row is the tensor of its
//! `features["values"]` (`Float32Tensor`, `Float64Tensor` or `Int32Tensor`): dense when it
//! has no `keys`, otherwise sparse (`keys[i]` is the column of `values[i]`, `shape` the row's
//! width), where an absent column is missing, as in a sparse matrix given to XGBoost, and
//! the values of a key given twice are summed, as SciPy sums them in SageMaker's container. Labels
//! and the other fields are ignored, as the built-in container ignores them.

use super::DecodeError;

/// The RecordIO magic number.
pub const MAGIC: u32 = 0xced7_230a;

/// Parse a body for a model of `n` features into row-major values (missing = NaN). Errors
/// name the record (counted from 1) and what is wrong with it.
pub fn parse_rows(body: &[u8], n: usize) -> std::result::Result<Vec<f32>, DecodeError> {
    let mut values = Vec::new();
    let mut index = 0usize;
    let mut pos = 0usize;
    // A record split into parts, being put back together.
    let mut pending: Option<Vec<u8>> = None;
    while pos < body.len() {
        let at = pos;
        let head = &body[pos..(pos + 4).min(body.len())];
        if head != &MAGIC.to_le_bytes()[..head.len()] {
            let mut got = [0u8; 4];
            got[..head.len()].copy_from_slice(head);
            return Err(format!(
                "byte {at}: not a RecordIO record (magic {:#010x}, expected {MAGIC:#010x})",
                u32::from_le_bytes(got)
            )
            .into());
        }
        let header = body.get(pos..pos + 8).ok_or_else(|| {
            format!(
                "byte {at}: a record header needs 8 bytes, {} are left",
                body.len() - at
            )
        })?;
        let word = u32::from_le_bytes(header[4..].try_into().unwrap_or_default());
        let flag = word >> 29;
        let length = (word & ((1 << 29) - 1)) as usize;
        let payload = body.get(pos + 8..pos + 8 + length).ok_or_else(|| {
            format!(
                "byte {at}: the record claims {length} bytes, {} are left",
                body.len() - pos - 8
            )
        })?;
        pos += 8 + length.div_ceil(4) * 4;
        let whole = match (flag, pending.take()) {
            (0, None) => Some(payload.to_vec()),
            (1, None) => {
                pending = Some(payload.to_vec());
                None
            }
            (2 | 3, Some(mut parts)) => {
                parts.extend_from_slice(&MAGIC.to_le_bytes());
                parts.extend_from_slice(payload);
                if flag == 3 {
                    Some(parts)
                } else {
                    pending = Some(parts);
                    None
                }
            }
            (f, _) => {
                return Err(format!(
                    "byte {at}: continuation flag {f} out of sequence (a split record's parts must run 1, 2…, 3)"
                ).into())
            }
        };
        if let Some(record) = whole {
            index += 1;
            let row = decode_record(&record, n).map_err(|e| format!("record {index}: {e}"))?;
            values.extend(row);
        }
    }
    if pending.is_some() {
        return Err(format!("record {}: the body ends inside a split record", index + 1).into());
    }
    Ok(values)
}

/// An upper bound of the rows a body holds, without decoding it: its RecordIO frames (0 and
/// 1 flags start a record), as far as their headers can be followed.
pub fn count_records(body: &[u8]) -> usize {
    let (mut pos, mut count) = (0usize, 0usize);
    while let Some(header) = body.get(pos..pos + 8) {
        let word = u32::from_le_bytes(header[4..].try_into().unwrap_or_default());
        if word >> 29 <= 1 {
            count += 1;
        }
        pos += 8 + ((word & ((1 << 29) - 1)) as usize).div_ceil(4) * 4;
    }
    count
}

/// A protocol-buffer field's value, as far as the decoder needs it.
enum Wire<'a> {
    Varint(u64),
    Fixed64([u8; 8]),
    Bytes(&'a [u8]),
    Fixed32([u8; 4]),
}

/// Reads the fields of one message.
struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Fields { buf, pos: 0 }
    }

    fn varint(&mut self) -> std::result::Result<u64, DecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .buf
                .get(self.pos)
                .ok_or("a number is cut off at the end of its message")?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a number is longer than 10 bytes".into())
    }

    fn take(&mut self, len: usize) -> std::result::Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(len).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| {
            format!(
                "a field claims {len} bytes, {} are left in its message",
                self.buf.len() - self.pos
            )
        })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// The next `(field number, value)`, or `None` at the end.
    fn next_field(&mut self) -> std::result::Result<Option<(u64, Wire<'a>)>, DecodeError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (field, wire) = (key >> 3, key & 7);
        let value = match wire {
            0 => Wire::Varint(self.varint()?),
            1 => Wire::Fixed64(self.take(8)?.try_into().unwrap_or_default()),
            2 => {
                let len = self.varint()? as usize;
                Wire::Bytes(self.take(len)?)
            }
            5 => Wire::Fixed32(self.take(4)?.try_into().unwrap_or_default()),
            other => {
                return Err(format!(
                    "field {field} has wire type {other}, which Record does not use"
                )
                .into())
            }
        };
        Ok(Some((field, value)))
    }
}

/// The element type of a tensor.
#[derive(Clone, Copy)]
enum Kind {
    F32,
    F64,
    I32,
}

/// A tensor's values, keys and shape.
#[derive(Default)]
struct Tensor {
    values: Vec<f32>,
    keys: Vec<u64>,
    shape: Vec<u64>,
}

fn decode_tensor(buf: &[u8], kind: Kind) -> std::result::Result<Tensor, DecodeError> {
    let mut t = Tensor::default();
    let mut fields = Fields::new(buf);
    while let Some((field, wire)) = fields.next_field()? {
        match (field, wire) {
            (1, Wire::Bytes(packed)) => match kind {
                Kind::F32 => {
                    if packed.len() % 4 != 0 {
                        return Err("float32 values are not a multiple of 4 bytes".into());
                    }
                    t.values.extend(
                        packed
                            .chunks_exact(4)
                            .map(|c| f32::from_le_bytes(c.try_into().unwrap_or_default())),
                    );
                }
                Kind::F64 => {
                    if packed.len() % 8 != 0 {
                        return Err("float64 values are not a multiple of 8 bytes".into());
                    }
                    t.values.extend(
                        packed
                            .chunks_exact(8)
                            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()) as f32),
                    );
                }
                Kind::I32 => {
                    let mut inner = Fields::new(packed);
                    while inner.pos < packed.len() {
                        t.values.push(inner.varint()? as i64 as i32 as f32);
                    }
                }
            },
            (1, Wire::Fixed32(b)) => t.values.push(f32::from_le_bytes(b)),
            (1, Wire::Fixed64(b)) => t.values.push(f64::from_le_bytes(b) as f32),
            (1, Wire::Varint(v)) => t.values.push(v as i64 as i32 as f32),
            (2 | 3, Wire::Bytes(packed)) => {
                let mut inner = Fields::new(packed);
                let out = if field == 2 {
                    &mut t.keys
                } else {
                    &mut t.shape
                };
                while inner.pos < packed.len() {
                    out.push(inner.varint()?);
                }
            }
            (2, Wire::Varint(v)) => t.keys.push(v),
            (3, Wire::Varint(v)) => t.shape.push(v),
            (f @ 1..=3, _) => {
                return Err(format!("tensor field {f} has the wrong wire type").into())
            }
            _ => {}
        }
    }
    Ok(t)
}

/// `Value`: the tensor it holds.
fn decode_value(buf: &[u8]) -> std::result::Result<Tensor, DecodeError> {
    let mut fields = Fields::new(buf);
    let mut found = None;
    while let Some((field, wire)) = fields.next_field()? {
        let kind = match field {
            2 => Kind::F32,
            3 => Kind::F64,
            7 => Kind::I32,
            9 => return Err("`values` holds bytes, not a numeric tensor".into()),
            _ => continue,
        };
        let Wire::Bytes(b) = wire else {
            return Err(format!("value field {field} is not a message").into());
        };
        found = Some(decode_tensor(b, kind)?);
    }
    found.ok_or_else(|| "`values` holds no tensor".into())
}

/// One `Record` → one row of `n` values.
fn decode_record(buf: &[u8], n: usize) -> std::result::Result<Vec<f32>, DecodeError> {
    let mut fields = Fields::new(buf);
    let mut tensor = None;
    while let Some((field, wire)) = fields.next_field()? {
        // features (1) is a map<string, Value>: repeated entries {key = 1; value = 2}.
        let (1, Wire::Bytes(entry)) = (field, wire) else {
            continue;
        };
        let mut e = Fields::new(entry);
        let (mut key, mut value) = (None, None);
        while let Some((f, w)) = e.next_field()? {
            match (f, w) {
                (1, Wire::Bytes(k)) => key = Some(k),
                (2, Wire::Bytes(v)) => value = Some(v),
                _ => {}
            }
        }
        if key == Some(b"values".as_slice()) {
            tensor = Some(decode_value(value.unwrap_or_default())?);
        }
    }
    let t = tensor.ok_or("no `values` feature (features[\"values\"] holds the row)")?;
    // Sparse when it has keys, or a shape and nothing else (a row with every value missing,
    // as the SDK writes one: no keys, no values, its width in `shape`).
    let sparse = !t.keys.is_empty() || (t.values.is_empty() && !t.shape.is_empty());
    if !sparse {
        if t.values.len() != n {
            return Err(format!("{} values; the model takes {n} features", t.values.len()).into());
        }
        return Ok(t.values);
    }
    if t.keys.len() != t.values.len() {
        return Err(format!(
            "a sparse tensor with {} keys and {} values",
            t.keys.len(),
            t.values.len()
        )
        .into());
    }
    let width = match t.shape.as_slice() {
        [] => n as u64,
        [w] if *w <= n as u64 => *w,
        [w] => return Err(format!("shape [{w}] is wider than the model's {n} features").into()),
        more => {
            return Err(format!(
                "shape {more:?}: a record holds one row (a one-dimensional tensor)"
            )
            .into())
        }
    };
    let mut row = vec![f32::NAN; n];
    let mut given = vec![false; n];
    for (&k, &v) in t.keys.iter().zip(&t.values) {
        if k >= width {
            return Err(
                format!("key {k} is out of range (the row has {width} columns, 0-based)").into(),
            );
        }
        // A key given twice: its values are summed, as SciPy's sparse matrix does in
        // SageMaker's XGBoost container.
        let k = k as usize;
        row[k] = if given[k] { row[k] + v } else { v };
        given[k] = true;
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn field(number: u64, bytes: &[u8], out: &mut Vec<u8>) {
        varint(number << 3 | 2, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }

    /// A Record with features["values"] = Float32Tensor(values, keys, shape).
    fn record(values: &[f32], keys: &[u64], shape: &[u64]) -> Vec<u8> {
        let mut tensor = Vec::new();
        let packed: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        field(1, &packed, &mut tensor);
        for (number, list) in [(2, keys), (3, shape)] {
            if !list.is_empty() {
                let mut p = Vec::new();
                for &k in list {
                    varint(k, &mut p);
                }
                field(number, &p, &mut tensor);
            }
        }
        let mut value = Vec::new();
        field(2, &tensor, &mut value);
        let mut entry = Vec::new();
        field(1, b"values", &mut entry);
        field(2, &value, &mut entry);
        let mut rec = Vec::new();
        field(1, &entry, &mut rec);
        rec
    }

    fn frame(payload: &[u8], flag: u32, out: &mut Vec<u8>) {
        out.extend_from_slice(&MAGIC.to_le_bytes());
        out.extend_from_slice(&((flag << 29) | payload.len() as u32).to_le_bytes());
        out.extend_from_slice(payload);
        out.resize(out.len().div_ceil(4) * 4, 0);
    }

    #[test]
    fn dense_and_sparse_records() {
        let mut body = Vec::new();
        frame(&record(&[1.0, 2.5, -3.0], &[], &[]), 0, &mut body);
        frame(&record(&[7.0], &[2], &[3]), 0, &mut body);
        frame(&record(&[], &[], &[3]), 0, &mut body);
        let v = parse_rows(&body, 3).unwrap();
        assert_eq!(&v[..3], &[1.0, 2.5, -3.0]);
        assert!(v[3].is_nan() && v[4].is_nan());
        assert_eq!(v[5], 7.0);
        assert_eq!(v.len(), 9);
        assert!(
            v[6..].iter().all(|x| x.is_nan()),
            "an empty sparse row is all missing"
        );
    }

    #[test]
    fn a_sparse_key_given_twice_sums_its_values() {
        let mut body = Vec::new();
        frame(&record(&[1.5, 2.0, 4.0], &[1, 1, 0], &[3]), 0, &mut body);
        let v = parse_rows(&body, 3).unwrap();
        assert_eq!(v[0], 4.0);
        assert_eq!(v[1], 3.5, "1.5 + 2.0, as SciPy sums duplicates");
        assert!(v[2].is_nan(), "an absent key stays missing");
    }

    #[test]
    fn a_record_split_at_the_magic_is_put_back_together() {
        // A payload holding the magic bytes, written in two parts without them.
        let whole = record(&[f32::from_bits(MAGIC), 1.0], &[], &[]);
        let at = whole
            .windows(4)
            .position(|w| w == MAGIC.to_le_bytes())
            .unwrap();
        let mut body = Vec::new();
        frame(&whole[..at], 1, &mut body);
        frame(&whole[at + 4..], 3, &mut body);
        let v = parse_rows(&body, 2).unwrap();
        assert_eq!(v[0].to_bits(), MAGIC);
        assert_eq!(v[1], 1.0);
    }

    #[test]
    fn errors_name_the_record() {
        let mut body = Vec::new();
        frame(&record(&[1.0, 2.0], &[], &[]), 0, &mut body);
        frame(&record(&[1.0], &[], &[]), 0, &mut body);
        assert_eq!(
            parse_rows(&body, 2).unwrap_err().to_string(),
            "record 2: 1 values; the model takes 2 features"
        );
        let mut body = Vec::new();
        frame(&record(&[1.0], &[5], &[]), 0, &mut body);
        assert!(parse_rows(&body, 2)
            .unwrap_err()
            .to_string()
            .contains("key 5 is out of range"));
        assert!(parse_rows(b"0,1,2\n", 2)
            .unwrap_err()
            .to_string()
            .contains("not a RecordIO record"));
        let mut body = Vec::new();
        frame(&record(&[1.0, 2.0], &[], &[]), 0, &mut body);
        body.truncate(body.len() - 6);
        assert!(parse_rows(&body, 2)
            .unwrap_err()
            .to_string()
            .contains("claims"));
        let mut body = Vec::new();
        frame(&record(&[1.0], &[0], &[]), 2, &mut body);
        assert!(parse_rows(&body, 2)
            .unwrap_err()
            .to_string()
            .contains("out of sequence"));
    }
}
