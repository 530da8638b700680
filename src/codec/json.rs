//! The JSON wire format, both sides of it: `{"instances": [{"column": value, ...}, ...]}`
//! requests of raw customer records (missing = `null`), and `{"predictions": [{"score": p,
//! "label": 0|1}, ...]}` answers (or one such record per line for `application/jsonlines`).

use serde_json::Value;

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

/// Decode a request into one column of text cells per name in `wanted` (numbers and booleans
/// as their text, `null` as `None`). Every instance must have exactly the `wanted` names; the
/// error says which instance and which names are unknown or missing.
pub fn decode_instances(
    text: &str,
    wanted: &[&str],
) -> std::result::Result<Vec<Vec<Option<String>>>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
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
            .filter(|k| !wanted.contains(k))
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
            return Err(msg.trim_end_matches(';').to_string());
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
                    ))
                }
            });
        }
    }
    Ok(columns)
}

/// One prediction record: `{"score": p}` or `{"score": p, "label": l}`.
fn record(p: f32, label: Option<u8>) -> Value {
    // Through f64 of the shortest f32 text, so JSON shows 0.1234567 rather than 0.12345670163.
    let score: f64 = p.to_string().parse().unwrap_or(p as f64);
    match label {
        Some(l) => serde_json::json!({ "score": score, "label": l }),
        None => serde_json::json!({ "score": score }),
    }
}

/// A number as the shortest text of its f32 (0.1234567 rather than 0.12345670163).
fn short(v: f32) -> Value {
    let x: f64 = v.to_string().parse().unwrap_or(v as f64);
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// A prediction record with its explanation: `base_value` and `contributions` (name to
/// log-odds, in the model's or the table's column order) after `score` and `label`.
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

/// The `application/json` answer with explanations: `{"predictions": [{"score", "label",
/// "base_value", "contributions"}, ...]}`.
pub fn encode_explained_predictions(
    scores: &[f32],
    labels: Option<&[u8]>,
    explained: &ExplainedRows<'_>,
) -> String {
    let preds: Vec<Value> = scores
        .iter()
        .enumerate()
        .map(|(i, p)| explained.record(i, *p, labels.map(|l| l[i])))
        .collect();
    serde_json::json!({ "predictions": preds }).to_string()
}

/// The `application/jsonlines` answer with explanations: one explained record per line.
pub fn encode_explained_prediction_lines(
    scores: &[f32],
    labels: Option<&[u8]>,
    explained: &ExplainedRows<'_>,
) -> String {
    let mut s = String::new();
    for (i, p) in scores.iter().enumerate() {
        s += &explained.record(i, *p, labels.map(|l| l[i])).to_string();
        s.push('\n');
    }
    s
}

/// The `application/json` answer: `{"predictions": [...]}`.
pub fn encode_predictions(scores: &[f32], labels: Option<&[u8]>) -> String {
    let preds: Vec<Value> = scores
        .iter()
        .enumerate()
        .map(|(i, p)| record(*p, labels.map(|l| l[i])))
        .collect();
    serde_json::json!({ "predictions": preds }).to_string()
}

/// The `application/jsonlines` answer: one prediction record per line.
pub fn encode_prediction_lines(scores: &[f32], labels: Option<&[u8]>) -> String {
    let mut s = String::new();
    for (i, p) in scores.iter().enumerate() {
        s += &record(*p, labels.map(|l| l[i])).to_string();
        s.push('\n');
    }
    s
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
pub fn decode_explained(body: &[u8]) -> std::result::Result<ExplainedAnswer, String> {
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
                return Err(format!(
                    "prediction {i} explains other names than prediction 0"
                ))
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
pub fn decode_predictions(body: &[u8]) -> std::result::Result<Vec<f32>, String> {
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
                .ok_or_else(|| format!("prediction {i} has no numeric score"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            decode_instances(&text, &["age", "job"]).unwrap_err(),
            "instance 0: unknown features: x"
        );
        let answer = encode_predictions(&[0.25, 0.5], Some(&[0, 1]));
        assert_eq!(
            answer,
            r#"{"predictions":[{"score":0.25,"label":0},{"score":0.5,"label":1}]}"#
        );
        assert_eq!(decode_predictions(answer.as_bytes()).unwrap(), [0.25, 0.5]);
    }
}
