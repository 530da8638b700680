//! The JSON wire format, both sides of it: `{"instances": [{"column": value, ...}, ...]}`
//! requests of raw customer records (missing = `null`), and `{"predictions": [{"score": p,
//! "label": 0|1}, ...]}` answers (or one such record per line for `application/jsonlines`).

use serde_json::Value;

use crate::codec::number::F32Text;
use crate::codec::DecodeError;

/// What a request body starts with, has between two instances, and ends with.
pub const INSTANCES_PREFIX: &[u8] = br#"{"instances":["#;
/// See [`INSTANCES_PREFIX`].
pub const INSTANCES_SEPARATOR: &[u8] = b",";
/// See [`INSTANCES_PREFIX`].
pub const INSTANCES_SUFFIX: &[u8] = b"]}";

/// One value of an instance, as the client has it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// `null`.
    Null,
    /// A number, written as it is (already valid JSON number text).
    Number(&'a str),
    /// Text, written as a JSON string.
    Text(&'a str),
}

/// The names of an instance's fields as JSON strings, encoded once for all rows.
pub fn encode_keys(names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| Value::String(n.clone()).to_string())
        .collect()
}

/// Encode one instance: `{"name": value, ...}` with `keys` (from [`encode_keys`]) and `cells`
/// side by side.
pub fn encode_instance<'a>(keys: &[String], cells: impl IntoIterator<Item = Cell<'a>>) -> Vec<u8> {
    let mut out = vec![b'{'];
    for (j, (key, cell)) in keys.iter().zip(cells).enumerate() {
        if j > 0 {
            out.push(b',');
        }
        out.extend_from_slice(key.as_bytes());
        out.push(b':');
        match cell {
            Cell::Null => out.extend_from_slice(b"null"),
            Cell::Number(v) => out.extend_from_slice(v.as_bytes()),
            Cell::Text(v) => {
                out.extend_from_slice(Value::String(v.to_string()).to_string().as_bytes())
            }
        }
    }
    out.push(b'}');
    out
}

/// A JSON value in which no object names a key twice. `serde_json` keeps the last of two
/// values under one key; a request that says `"age": 41` and then `"age": 14` is refused
/// instead, since which one the client meant cannot be known.
struct Unique(Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Unique(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key `{key}` appears twice in one object"
                )));
            }
            let Unique(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Decode a request into one column of text cells per name in `wanted` (numbers and booleans
/// as their text, `null` as `None`). Every instance must have exactly the `wanted` names,
/// each once; the error says which instance and which names are unknown or missing, or
/// where a key appears twice.
pub fn decode_instances(
    text: &str,
    wanted: &[&str],
) -> std::result::Result<Vec<Vec<Option<String>>>, DecodeError> {
    decode_instances_beside(text, wanted, None)
}

/// [`decode_instances`], where each instance may also carry the key `beside` (the model's id
/// column: a raw record as the table holds it), which is read past, neither a feature nor an
/// unknown key.
pub fn decode_instances_beside(
    text: &str,
    wanted: &[&str],
    beside: Option<&str>,
) -> std::result::Result<Vec<Vec<Option<String>>>, DecodeError> {
    let v: Value = serde_json::from_str::<Unique>(text)
        .map_err(|e| DecodeError::json(&e))?
        .0;
    let instances = v
        .get("instances")
        .and_then(Value::as_array)
        .ok_or_else(|| "expected {\"instances\": [{...}, ...]}".to_string())?;
    let mut columns: Vec<Vec<Option<String>>> =
        vec![Vec::with_capacity(instances.len()); wanted.len()];
    for (i, inst) in instances.iter().enumerate() {
        let obj = inst
            .as_object()
            .ok_or_else(|| format!("instance {i} is not an object"))?;
        let unknown: Vec<&str> = obj
            .keys()
            .map(String::as_str)
            .filter(|k| !wanted.contains(k) && Some(*k) != beside)
            .collect();
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|k| !obj.contains_key(*k))
            .collect();
        if !unknown.is_empty() || !missing.is_empty() {
            let mut msg = format!("instance {i}:");
            if !unknown.is_empty() {
                msg += &format!(" unknown features: {};", unknown.join(", "));
            }
            if !missing.is_empty() {
                msg += &format!(" missing features: {};", missing.join(", "));
            }
            return Err(msg.trim_end_matches(';').to_string().into());
        }
        for (j, name) in wanted.iter().enumerate() {
            columns[j].push(match &obj[*name] {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Number(n) => Some(n.to_string()),
                other => {
                    return Err(format!(
                        "instance {i}, feature `{name}`: {other} is not a number, text or null"
                    )
                    .into())
                }
            });
        }
    }
    Ok(columns)
}

/// One prediction record: `{"score": p}` or `{"score": p, "label": l}`.
#[cfg(test)]
fn record(p: f32, label: Option<u8>) -> Value {
    // Through f64 of the shortest f32 text, so JSON shows 0.1234567 rather than 0.12345670163.
    let score: f64 = p.to_string().parse().unwrap_or(p as f64);
    match label {
        Some(l) => serde_json::json!({ "score": score, "label": l }),
        None => serde_json::json!({ "score": score }),
    }
}

/// A number as the shortest text of its f32 (0.1234567 rather than 0.12345670163).
#[cfg(test)]
fn short(v: f32) -> Value {
    let x: f64 = v.to_string().parse().unwrap_or(v as f64);
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// A prediction record with its explanation: `base_value` and `contributions` (name to
/// log-odds, in the model's or the table's column order) after `score` and `label`.
#[cfg(test)]
fn explained_record(p: f32, label: Option<u8>, names: &[String], base: f32, row: &[f32]) -> Value {
    let mut rec = record(p, label);
    let contributions: serde_json::Map<String, Value> = names
        .iter()
        .zip(row)
        .map(|(n, v)| (n.clone(), short(*v)))
        .collect();
    if let Value::Object(m) = &mut rec {
        m.insert("base_value".into(), short(base));
        m.insert("contributions".into(), Value::Object(contributions));
    }
    rec
}

/// What an explained answer carries beside the scores: contribution names, the base
/// value, and `rows * names.len()` contributions.
pub struct ExplainedRows<'a> {
    pub names: &'a [String],
    pub base_value: f32,
    pub values: &'a [f32],
}

#[cfg(test)]
impl ExplainedRows<'_> {
    fn record(&self, i: usize, p: f32, label: Option<u8>) -> Value {
        let w = self.names.len();
        explained_record(
            p,
            label,
            self.names,
            self.base_value,
            &self.values[i * w..(i + 1) * w],
        )
    }
}

impl ExplainedRows<'_> {
    /// Append row `i`'s record: the bytes of its `serde_json` value, without building one.
    fn push_record(
        &self,
        out: &mut String,
        keys: &[String],
        text: &mut F32Text,
        i: usize,
        p: f32,
        label: Option<u8>,
    ) {
        let w = self.names.len();
        push_record_open(out, text, p, label);
        out.push_str(",\"base_value\":");
        text.push_json(out, self.base_value);
        out.push_str(",\"contributions\":{");
        for (j, (key, v)) in keys
            .iter()
            .zip(&self.values[i * w..(i + 1) * w])
            .enumerate()
        {
            if j > 0 {
                out.push(',');
            }
            out.push_str(key);
            out.push(':');
            text.push_json(out, *v);
        }
        out.push_str("}}");
    }
}

/// `{"score":p` or `{"score":p,"label":l`, left open.
fn push_record_open(out: &mut String, text: &mut F32Text, p: f32, label: Option<u8>) {
    out.push_str("{\"score\":");
    text.push_json(out, p);
    if let Some(l) = label {
        out.push_str(",\"label\":");
        use std::fmt::Write as _;
        let _ = write!(out, "{l}");
    }
}

/// Write every record of an answer straight into its text, one after another: a record
/// costs its own bytes and nothing more (building `serde_json` values first cost about ten
/// times the answer's size: 1.1 GB for 100,000 explained rows).
fn encode_records(
    rows: usize,
    bytes_per_row: usize,
    (open, separator, close): (&str, &str, &str),
    mut record: impl FnMut(&mut String, &mut F32Text, usize),
) -> String {
    let mut out = String::with_capacity(open.len() + rows * bytes_per_row + close.len());
    let mut text = F32Text::default();
    out.push_str(open);
    for i in 0..rows {
        if i > 0 {
            out.push_str(separator);
        }
        record(&mut out, &mut text, i);
    }
    out.push_str(close);
    out
}

const JSON_ANSWER: (&str, &str, &str) = ("{\"predictions\":[", ",", "]}");
const JSON_LINES: (&str, &str, &str) = ("", "\n", "\n");

/// The `application/json` answer with explanations: `{"predictions": [{"score", "label",
/// "base_value", "contributions"}, ...]}`.
pub fn encode_explained_predictions(
    scores: &[f32],
    labels: Option<&[u8]>,
    explained: &ExplainedRows<'_>,
) -> String {
    encode_explained(scores, labels, explained, JSON_ANSWER)
}

/// The `application/jsonlines` answer with explanations: one explained record per line.
pub fn encode_explained_prediction_lines(
    scores: &[f32],
    labels: Option<&[u8]>,
    explained: &ExplainedRows<'_>,
) -> String {
    if scores.is_empty() {
        return String::new();
    }
    encode_explained(scores, labels, explained, JSON_LINES)
}

fn encode_explained(
    scores: &[f32],
    labels: Option<&[u8]>,
    explained: &ExplainedRows<'_>,
    layout: (&str, &str, &str),
) -> String {
    let keys = encode_keys(explained.names);
    let per_row = 64 + keys.iter().map(|k| k.len() + 12).sum::<usize>();
    encode_records(scores.len(), per_row, layout, |out, text, i| {
        explained.push_record(out, &keys, text, i, scores[i], labels.map(|l| l[i]))
    })
}

/// The `application/json` answer: `{"predictions": [...]}`.
pub fn encode_predictions(scores: &[f32], labels: Option<&[u8]>) -> String {
    encode_plain(scores, labels, JSON_ANSWER)
}

/// The `application/jsonlines` answer: one prediction record per line.
pub fn encode_prediction_lines(scores: &[f32], labels: Option<&[u8]>) -> String {
    if scores.is_empty() {
        return String::new();
    }
    encode_plain(scores, labels, JSON_LINES)
}

fn encode_plain(scores: &[f32], labels: Option<&[u8]>, layout: (&str, &str, &str)) -> String {
    encode_records(scores.len(), 36, layout, |out, text, i| {
        push_record_open(out, text, scores[i], labels.map(|l| l[i]));
        out.push('}');
    })
}

/// An explained answer, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainedAnswer {
    /// One probability per row.
    pub scores: Vec<f32>,
    /// The contributions' names (raw columns or model features), in the answer's order.
    pub names: Vec<String>,
    pub base_value: f32,
    /// `scores.len() * names.len()` contributions, row after row.
    pub values: Vec<f32>,
}

/// Decode an explained `application/json` answer (what
/// [`encode_explained_predictions`] writes).
pub fn decode_explained(body: &[u8]) -> std::result::Result<ExplainedAnswer, DecodeError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let preds = v
        .get("predictions")
        .and_then(Value::as_array)
        .ok_or_else(|| "expected {\"predictions\": [...]} in the answer".to_string())?;
    let mut names: Option<Vec<String>> = None;
    let (mut scores, mut values, mut base_value) = (Vec::new(), Vec::new(), 0f32);
    for (i, p) in preds.iter().enumerate() {
        let missing = |what: &str| {
            format!("prediction {i} has no {what}: is the endpoint ours, and did it get the explain attribute?")
        };
        scores.push(
            p.get("score")
                .and_then(Value::as_f64)
                .ok_or_else(|| missing("score"))? as f32,
        );
        base_value = p
            .get("base_value")
            .and_then(Value::as_f64)
            .ok_or_else(|| missing("base_value"))? as f32;
        let c = p
            .get("contributions")
            .and_then(Value::as_object)
            .ok_or_else(|| missing("contributions"))?;
        let these: Vec<&String> = c.keys().collect();
        match &names {
            None => names = Some(these.into_iter().cloned().collect()),
            Some(n) if n.iter().eq(these.iter().copied()) => {}
            Some(_) => {
                return Err(format!("prediction {i} explains other names than prediction 0").into())
            }
        }
        for v in c.values() {
            values.push(v.as_f64().ok_or_else(|| missing("numeric contributions"))? as f32);
        }
    }
    Ok(ExplainedAnswer {
        names: names.unwrap_or_default(),
        base_value,
        values,
        scores,
    })
}

/// The scores of an `application/json` answer (a record's `score`, or a bare number).
pub fn decode_predictions(body: &[u8]) -> std::result::Result<Vec<f32>, DecodeError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let preds = v
        .get("predictions")
        .and_then(Value::as_array)
        .ok_or_else(|| "expected {\"predictions\": [...]} in the answer".to_string())?;
    preds
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.get("score")
                .or(Some(p))
                .and_then(Value::as_f64)
                .map(|s| s as f32)
                .ok_or_else(|| DecodeError::from(format!("prediction {i} has no numeric score")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_given_twice_is_refused_with_its_place() {
        let err = decode_instances(r#"{"instances": [{"age": 41, "age": 14}]}"#, &["age"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("the key `age` appears twice"), "{err}");
        assert!(err.contains("line 1 column"), "{err}");
        let err = decode_instances(r#"{"instances": [{"age": 1}], "instances": []}"#, &["age"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`instances` appears twice"), "{err}");
        let cols = decode_instances(
            r#"{"instances": [{"age": 41.5, "job": "x"}, {"age": null, "job": true}]}"#,
            &["age", "job"],
        )
        .unwrap();
        assert_eq!(
            cols,
            [
                vec![Some("41.5".to_string()), None],
                vec![Some("x".to_string()), Some("true".to_string())]
            ]
        );
    }

    /// The streamed answers are byte for byte what serializing `serde_json` values gave.
    #[test]
    fn streamed_answers_equal_the_serde_json_values() {
        let names = vec![
            "age".to_string(),
            "job \"x\"\n".to_string(),
            "é".to_string(),
        ];
        let tricky = [
            0.1234567f32,
            1.0,
            0.0,
            -0.0,
            1e-7,
            2.5e-8,
            0.99999994,
            f32::NAN,
            -3.25,
            1e20,
            f32::INFINITY,
            16_777_216.0,
        ];
        let scores: Vec<f32> = tricky.iter().copied().chain([0.5, 0.25]).collect();
        let values: Vec<f32> = (0..scores.len() * 3)
            .map(|k| tricky[k % tricky.len()] * if k % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let labels: Vec<u8> = (0..scores.len()).map(|i| (i % 2) as u8).collect();
        let rows = ExplainedRows {
            names: &names,
            base_value: -1.2345678,
            values: &values,
        };
        for labels in [None, Some(labels.as_slice())] {
            let preds: Vec<Value> = scores
                .iter()
                .enumerate()
                .map(|(i, p)| record(*p, labels.map(|l| l[i])))
                .collect();
            assert_eq!(
                encode_predictions(&scores, labels),
                serde_json::json!({ "predictions": preds }).to_string()
            );
            let lines: String = preds.iter().map(|v| format!("{v}\n")).collect();
            assert_eq!(encode_prediction_lines(&scores, labels), lines);
            let explained: Vec<Value> = scores
                .iter()
                .enumerate()
                .map(|(i, p)| rows.record(i, *p, labels.map(|l| l[i])))
                .collect();
            assert_eq!(
                encode_explained_predictions(&scores, labels, &rows),
                serde_json::json!({ "predictions": explained }).to_string()
            );
            let lines: String = explained.iter().map(|v| format!("{v}\n")).collect();
            assert_eq!(
                encode_explained_prediction_lines(&scores, labels, &rows),
                lines
            );
        }
        assert_eq!(encode_predictions(&[], None), r#"{"predictions":[]}"#);
        assert_eq!(encode_prediction_lines(&[], None), "");
    }

    #[test]
    fn both_sides_agree() {
        let names = vec!["age".to_string(), "job".to_string(), "x".to_string()];
        let mut body = INSTANCES_PREFIX.to_vec();
        body.extend(encode_instance(
            &encode_keys(&names),
            [Cell::Number("41"), Cell::Text("a \"b\""), Cell::Null],
        ));
        body.extend_from_slice(INSTANCES_SUFFIX);
        let text = String::from_utf8(body).unwrap();
        let cols = decode_instances(&text, &["age", "job", "x"]).unwrap();
        assert_eq!(cols[0], vec![Some("41".to_string())]);
        assert_eq!(cols[1], vec![Some("a \"b\"".to_string())]);
        assert_eq!(cols[2], vec![None]);
        assert_eq!(
            decode_instances(&text, &["age", "job"])
                .unwrap_err()
                .to_string(),
            "instance 0: unknown features: x"
        );
        // A record may carry the model's id column beside its features: read past.
        let cols = decode_instances_beside(&text, &["age", "job"], Some("x")).unwrap();
        assert_eq!(cols.len(), 2);
        assert_eq!(cols[0], vec![Some("41".to_string())]);
        let answer = encode_predictions(&[0.25, 0.5], Some(&[0, 1]));
        assert_eq!(
            answer,
            r#"{"predictions":[{"score":0.25,"label":0},{"score":0.5,"label":1}]}"#
        );
        assert_eq!(decode_predictions(answer.as_bytes()).unwrap(), [0.25, 0.5]);
    }
}
