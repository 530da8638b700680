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
