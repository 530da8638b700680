//! Inline display in Jupyter notebooks with the evcxr kernel.
//!
//! evcxr shows a value richly when its type has an `evcxr_display` method that prints
//! `EVCXR_BEGIN_CONTENT <mime>` … `EVCXR_END_CONTENT`. Charts print as `image/png`; metrics,
//! confusion matrices and tables as `text/html`. polars prints a DataFrame as text only, so
//! [`Table`] wraps one for an HTML table. [`show`] keeps a notebook cell to one line:
//!
//! ```no_run
//! # fn demo(df: purchase_predict::polars::prelude::DataFrame,
//! #         m: purchase_predict::metrics::Metrics) -> purchase_predict::Result<()> {
//! use purchase_predict::evaluate::display::{show, Table};
//! show(&Table::new(&df).rows(10));
//! show(&m);
//! # Ok(()) }
//! ```

use base64::Engine;
use polars::prelude::{AnyValue, DataFrame};

use crate::evaluate::plot::Chart;
use crate::metrics::{Confusion, Metrics};

/// Something evcxr can display: its MIME type and content.
pub trait Displayable {
    /// `(mime type, content)`; binary content is base64.
    fn mime_content(&self) -> (&'static str, String);

    /// The evcxr protocol text for this value.
    fn evcxr_content(&self) -> String {
        let (mime, content) = self.mime_content();
        format!("EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT\n")
    }
}

/// Display `item` in the notebook (prints the evcxr protocol on stdout).
pub fn show(item: &impl Displayable) {
    print!("{}", item.evcxr_content());
}

/// Display several items in one cell, one under the other, in order: tables, charts,
/// [`Notice`]s.
///
/// A cell has one rich output: evcxr gathers what a cell shows into one output with one
/// entry per MIME type, and a frontend renders one entry per output (JupyterLab and
/// nbconvert prefer HTML). So a cell that called [`show`] for a table and then for a chart
/// would show the table only. Show everything of a cell with one call: this one writes one
/// HTML block, charts as inline PNG images, and a finding after the chart it reads.
///
/// ```no_run
/// # fn demo(df: purchase_predict::polars::prelude::DataFrame,
/// #         roc: purchase_predict::evaluate::plot::Chart) {
/// use purchase_predict::evaluate::display::{show_all, Table};
/// show_all(&[&Table::new(&df).rows(3), &roc]);
/// # }
/// ```
pub fn show_all(items: &[&dyn Displayable]) {
    let mut html = String::new();
    for item in items {
        let (mime, content) = item.mime_content();
        if mime == "text/html" {
            html += &content;
        } else if mime.starts_with("image/") {
            html += &format!("<div><img src=\"data:{mime};base64,{content}\"></div>");
        } else {
            html += &format!("<pre>{}</pre>", escape(&content));
        }
    }
    print!("EVCXR_BEGIN_CONTENT text/html\n{html}\nEVCXR_END_CONTENT\n");
}

/// Display several charts in one cell (see [`show_all`]).
pub fn show_charts(charts: &[Chart]) {
    let items: Vec<&dyn Displayable> = charts.iter().map(|c| c as &dyn Displayable).collect();
    show_all(&items);
}

/// A finding in words, shown after the table or chart it reads (inside [`show_all`]; a
/// `println!` would print above the cell's rich output). Text in backticks is set as code.
///
/// ```
/// use purchase_predict::evaluate::display::{Displayable, Notice};
/// let (mime, html) = Notice::new("`age` peaks at 35-55 & more").mime_content();
/// assert_eq!(mime, "text/html");
/// assert!(html.contains("<code>age</code> peaks at 35-55 &amp; more"));
/// ```
pub struct Notice(pub String);

impl Notice {
    /// A finding.
    pub fn new(text: impl Into<String>) -> Notice {
        Notice(text.into())
    }

    /// evcxr's rich display: the finding as an HTML paragraph.
    pub fn evcxr_display(&self) {
        show(self);
    }
}

impl Displayable for Notice {
    fn mime_content(&self) -> (&'static str, String) {
        let mut html = String::new();
        for (i, part) in escape(&self.0).split('`').enumerate() {
            if i % 2 == 1 {
                html += &format!("<code>{part}</code>");
            } else {
                html += part;
            }
        }
        (
            "text/html",
            format!(
                "<p style=\"font-family:sans-serif;font-size:14px;max-width:62em;border-left:3px solid #e08a3c;padding:2px 10px;margin:8px 0\"><b>Notice.</b> {html}</p>"
            ),
        )
    }
}

/// Plain text lines inside [`show_all`] (a figure's caption, a result), in a monospace block.
pub struct Text(pub String);

impl Displayable for Text {
    fn mime_content(&self) -> (&'static str, String) {
        ("text/plain", self.0.clone())
    }
}

/// Display several charts and then `after` (a [`Notice`] that reads them, say), in one
/// output (see [`show_all`]).
pub fn show_charts_with(charts: &[Chart], after: &[&dyn Displayable]) {
    let mut items: Vec<&dyn Displayable> = charts.iter().map(|c| c as &dyn Displayable).collect();
    items.extend_from_slice(after);
    show_all(&items);
}

/// Another name for [`show`], as Python notebooks say it.
pub fn display(item: &impl Displayable) {
    show(item);
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const TABLE_STYLE: &str = "border-collapse:collapse;font-family:sans-serif;font-size:13px";
const CELL: &str = "padding:3px 10px;border-bottom:1px solid #ddd;text-align:right";

impl Displayable for Chart {
    fn mime_content(&self) -> (&'static str, String) {
        (
            "image/png",
            base64::engine::general_purpose::STANDARD.encode(&self.png),
        )
    }
}

impl Chart {
    /// evcxr's rich display: the PNG inline.
    pub fn evcxr_display(&self) {
        show(self);
    }
}

impl Displayable for Metrics {
    fn mime_content(&self) -> (&'static str, String) {
        let opt = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.4}"));
        let rows = [
            ("threshold", format!("{:.2}", self.threshold)),
            ("accuracy", format!("{:.4}", self.accuracy)),
            ("precision", format!("{:.4}", self.precision)),
            ("recall", format!("{:.4}", self.recall)),
            ("F1", format!("{:.4}", self.f1)),
            ("ROC AUC", opt(self.roc_auc)),
            ("PR AUC", opt(self.pr_auc)),
            ("log loss", format!("{:.4}", self.log_loss)),
            ("base rate", format!("{:.1} %", self.base_rate * 100.0)),
        ];
        let mut html = format!("<table style=\"{TABLE_STYLE}\">");
        for (k, v) in rows {
            html += &format!(
                "<tr><th style=\"{CELL};text-align:left\">{k}</th><td style=\"{CELL}\">{v}</td></tr>"
            );
        }
        html += "</table>";
        ("text/html", html)
    }
}

impl Metrics {
    /// evcxr's rich display: an HTML table.
    pub fn evcxr_display(&self) {
        show(self);
    }
}

impl Displayable for Confusion {
    fn mime_content(&self) -> (&'static str, String) {
        let cell = |n: u64, colour: &str| {
            format!("<td style=\"{CELL};background:{colour};font-size:16px\">{n}</td>")
        };
        let html = format!(
            "<table style=\"{TABLE_STYLE}\">\
             <tr><th></th><th style=\"{CELL}\">predicted no</th><th style=\"{CELL}\">predicted buy</th></tr>\
             <tr><th style=\"{CELL};text-align:left\">actual no</th>{}{}</tr>\
             <tr><th style=\"{CELL};text-align:left\">actual buy</th>{}{}</tr></table>",
            cell(self.tn, "#d5efe6"),
            cell(self.fp, "#eeeeee"),
            cell(self.fn_, "#eeeeee"),
            cell(self.tp, "#f8d9c4"),
        );
        ("text/html", html)
    }
}

impl Confusion {
    /// evcxr's rich display: a 2 × 2 HTML table.
    pub fn evcxr_display(&self) {
        show(self);
    }
}

/// A polars DataFrame shown as an HTML table (the first rows, and the shape).
pub struct Table<'a> {
    df: &'a DataFrame,
    rows: usize,
}

impl<'a> Table<'a> {
    /// Show the first 20 rows of `df`.
    pub fn new(df: &'a DataFrame) -> Self {
        Table { df, rows: 20 }
    }

    /// Show the first `n` rows instead.
    pub fn rows(mut self, n: usize) -> Self {
        self.rows = n;
        self
    }

    /// evcxr's rich display: an HTML table.
    pub fn evcxr_display(&self) {
        show(self);
    }
}

fn cell_text(v: AnyValue) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float64(x) => format!("{x:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string(),
        AnyValue::Float32(x) => format!("{x:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string(),
        other => other.to_string(),
    }
}

impl Displayable for Table<'_> {
    fn mime_content(&self) -> (&'static str, String) {
        let df = self.df;
        let n = self.rows.min(df.height());
        let mut html = format!("<table style=\"{TABLE_STYLE}\"><thead><tr>");
        for c in df.columns() {
            html += &format!(
                "<th style=\"{CELL}\">{}<br><span style=\"color:#888;font-weight:normal\">{}</span></th>",
                escape(c.name()),
                escape(&c.dtype().to_string())
            );
        }
        html += "</tr></thead><tbody>";
        for i in 0..n {
            html += "<tr>";
            for c in df.columns() {
                let v = c.get(i).map(cell_text).unwrap_or_default();
                html += &format!("<td style=\"{CELL}\">{}</td>", escape(&v));
            }
            html += "</tr>";
        }
        html += "</tbody></table>";
        html += &format!(
            "<p style=\"font-family:sans-serif;font-size:12px;color:#666\">{} rows × {} columns{}</p>",
            df.height(),
            df.width(),
            if n < df.height() {
                format!(", first {n} shown")
            } else {
                String::new()
            }
        );
        ("text/html", html)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::Column;

    #[test]
    fn tables_metrics_and_confusion_print_the_evcxr_protocol() {
        let df = DataFrame::new(
            3,
            vec![
                Column::new("job".into(), ["admin.", "<b>", "x"]),
                Column::new("age".into(), [Some(41.5f64), None, Some(30.0)]),
            ],
        )
        .unwrap();
        let out = Table::new(&df).rows(2).evcxr_content();
        assert!(out.starts_with("EVCXR_BEGIN_CONTENT text/html\n<table"));
        assert!(out.ends_with("</p>\nEVCXR_END_CONTENT\n"));
        assert!(out.contains(">admin.<") && out.contains("&lt;b&gt;") && !out.contains(">x<"));
        assert!(out.contains(">41.5<") && out.contains("3 rows × 2 columns, first 2 shown"));

        let c = Confusion {
            tn: 7,
            fp: 1,
            fn_: 2,
            tp: 3,
        };
        let out = c.evcxr_content();
        assert!(out.contains("predicted buy") && out.contains(">3</td>"));
        let m = crate::metrics::evaluate(
            &[0, 1, 1, 0],
            &[0.2, 0.8, 0.4, 0.1],
            crate::metrics::Threshold::DEFAULT,
        )
        .unwrap();
        let out = m.evcxr_content();
        assert!(out.contains("ROC AUC") && out.contains("1.0000") && out.contains("accuracy"));
    }
}
