//! SageMaker's data-capture records: one JSON line per captured request, as Model Monitor
//! reads them from `…/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`.
//!
//! ```json
//! {"captureData":{"endpointInput":{"observedContentType":"application/json","mode":"INPUT",
//!   "data":"{\"instances\":[…]}","encoding":"JSON"},"endpointOutput":{"observedContentType":
//!   "application/json","mode":"OUTPUT","data":"{\"predictions\":[…]}","encoding":"JSON"}},
//!  "eventMetadata":{"eventId":"…","inferenceId":"…","inferenceTime":"2026-12-07T10:00:00.123Z"},
//!  "eventVersion":"0"}
//! ```
//!
//! A body is kept as text with the encoding `CSV` (`text/csv`) or `JSON` (`application/json`,
//! `application/jsonlines`), as SageMaker does for its default capture content types, and as
//! `BASE64` otherwise (libsvm, RecordIO). [`CaptureRecord::to_line`] writes a record and
//! [`CaptureRecord::parse_line`] reads one back (ours or SageMaker's).

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// How a captured body is written in its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaptureEncoding {
    /// The body as text, a CSV content type.
    #[serde(rename = "CSV")]
    Csv,
    /// The body as text, a JSON content type.
    #[serde(rename = "JSON")]
    Json,
    /// The body's bytes in base64.
    #[serde(rename = "BASE64")]
    Base64,
}

impl CaptureEncoding {
    /// The encoding SageMaker uses for a content type by default (its `CsvContentTypes`
    /// `text/csv`, its `JsonContentTypes` `application/json`, and JSON lines, which are
    /// text too).
    pub fn for_content_type(content_type: &str) -> CaptureEncoding {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "text/csv" => CaptureEncoding::Csv,
            "application/json" | "application/jsonlines" | "application/x-jsonlines" => {
                CaptureEncoding::Json
            }
            _ => CaptureEncoding::Base64,
        }
    }
}

/// One side of a captured exchange (the request's body or the response's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapturedBody {
    /// The `Content-Type` the body came (or went) with.
    pub observed_content_type: String,
    /// `INPUT` or `OUTPUT`.
    pub mode: String,
    /// The body: text for `CSV` and `JSON`, base64 for `BASE64`.
    pub data: String,
    /// How `data` holds the body.
    pub encoding: CaptureEncoding,
}

impl CapturedBody {
    /// A body as SageMaker captures it: text when its content type is CSV or JSON and it is
    /// UTF-8, base64 otherwise.
    pub fn new(mode: &str, content_type: &str, body: &[u8]) -> CapturedBody {
        let mut encoding = CaptureEncoding::for_content_type(content_type);
        let text = match encoding {
            CaptureEncoding::Base64 => None,
            _ => std::str::from_utf8(body).ok(),
        };
        let data = match text {
            Some(t) => t.to_string(),
            None => {
                encoding = CaptureEncoding::Base64;
                base64::engine::general_purpose::STANDARD.encode(body)
            }
        };
        CapturedBody {
            observed_content_type: content_type.to_string(),
            mode: mode.to_string(),
            data,
            encoding,
        }
    }

    /// The body's bytes, decoded from base64 where it was encoded.
    pub fn bytes(&self) -> std::result::Result<Vec<u8>, String> {
        match self.encoding {
            CaptureEncoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(self.data.as_bytes())
                .map_err(|e| format!("the captured body is not valid base64: {e}")),
            _ => Ok(self.data.as_bytes().to_vec()),
        }
    }
}

/// What was captured: the request and, when captured, the response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureData {
    /// The request's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_input: Option<CapturedBody>,
    /// The response's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_output: Option<CapturedBody>,
}

/// When and which request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventMetadata {
    /// A unique id of this capture.
    pub event_id: String,
    /// The caller's `X-Amzn-SageMaker-Inference-Id`, the key that later ground truth is
    /// joined on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_id: Option<String>,
    /// When the request was answered, UTC, RFC 3339 with milliseconds.
    pub inference_time: String,
}

/// One captured request: a line of a capture file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureRecord {
    /// The request and response bodies.
    pub capture_data: CaptureData,
    /// Ids and time.
    pub event_metadata: EventMetadata,
    /// The record format's version, `"0"`.
    pub event_version: String,
}

impl CaptureRecord {
    /// A record of one exchange answered at `time`.
    pub fn new(
        input: CapturedBody,
        output: Option<CapturedBody>,
        event_id: String,
        inference_id: Option<String>,
        time: DateTime<Utc>,
    ) -> CaptureRecord {
        CaptureRecord {
            capture_data: CaptureData {
                endpoint_input: Some(input),
                endpoint_output: output,
            },
            event_metadata: EventMetadata {
                event_id,
                inference_id,
                inference_time: time.to_rfc3339_opts(SecondsFormat::Millis, true),
            },
            event_version: "0".into(),
        }
    }

    /// The record as one line of JSON, `\n` included.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("a capture record always serializes");
        line.push('\n');
        line
    }

    /// Read one line of a capture file (ours or SageMaker's).
    pub fn parse_line(line: &str) -> std::result::Result<CaptureRecord, String> {
        serde_json::from_str(line).map_err(|e| format!("not a data-capture record: {e}"))
    }

    /// When the request was answered, parsed.
    pub fn time(&self) -> std::result::Result<DateTime<Utc>, String> {
        parse_inference_time(&self.event_metadata.inference_time)
    }
}

/// An `inferenceTime` (RFC 3339) read as UTC.
pub fn parse_inference_time(text: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("inferenceTime `{text}` is not an RFC 3339 time: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_line_in_sagemakers_shape_and_reads_back() {
        let time = DateTime::parse_from_rfc3339("2026-12-07T10:11:12.345Z")
            .unwrap()
            .with_timezone(&Utc);
        let r = CaptureRecord::new(
            CapturedBody::new("INPUT", "text/csv", b"1,2\n3,\n"),
            Some(CapturedBody::new("OUTPUT", "text/csv", b"0.25\n0.5\n")),
            "e1".into(),
            Some("order-7".into()),
            time,
        );
        let line = r.to_line();
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        assert!(line.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["captureData"]["endpointInput"]["encoding"], "CSV");
        assert_eq!(v["captureData"]["endpointInput"]["mode"], "INPUT");
        assert_eq!(v["captureData"]["endpointInput"]["data"], "1,2\n3,\n");
        assert_eq!(v["captureData"]["endpointOutput"]["mode"], "OUTPUT");
        assert_eq!(v["eventMetadata"]["inferenceId"], "order-7");
        assert_eq!(
            v["eventMetadata"]["inferenceTime"],
            "2026-12-07T10:11:12.345Z"
        );
        assert_eq!(v["eventVersion"], "0");
        let back = CaptureRecord::parse_line(line.trim_end()).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.time().unwrap(), time);
    }

    #[test]
    fn binary_bodies_are_base64_and_decode_back() {
        let body = [0u8, 159, 146, 150, b'\n'];
        let c = CapturedBody::new("INPUT", "application/x-recordio-protobuf", &body);
        assert_eq!(c.encoding, CaptureEncoding::Base64);
        assert_eq!(c.bytes().unwrap(), body);
        // Text that is not UTF-8 under a CSV type is kept too, as base64.
        let c = CapturedBody::new("INPUT", "text/csv", &body);
        assert_eq!(c.encoding, CaptureEncoding::Base64);
        assert_eq!(c.bytes().unwrap(), body);
        let c = CapturedBody::new("OUTPUT", "application/jsonlines", b"{\"score\":0.5}\n");
        assert_eq!(c.encoding, CaptureEncoding::Json);
    }

    #[test]
    fn a_torn_line_is_refused_with_the_reason() {
        let err = CaptureRecord::parse_line("{\"captureData\":{\"endpointInput\":").unwrap_err();
        assert!(err.contains("not a data-capture record"), "{err}");
    }
}
