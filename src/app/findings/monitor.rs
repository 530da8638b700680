//! The monitoring notebook's findings: what a drift check and a quality report say, in words.

use super::{list, pct, Findings};
use crate::data::readable_number;

/// The monitoring notebook's findings, computed from its check and its quality report.
impl Findings {
    /// What a drift check found: which columns drifted and how far, what the scores did, and
    /// whether the model leans on the drifted columns more or less than before.
    pub fn drift(d: &crate::monitor::DriftReport) -> String {
        let mut out = if d.drifted.is_empty() {
            format!(
                "No column has drifted: today's {} customers look like the baseline's {}.",
                d.rows, d.reference_rows
            )
        } else {
            let listed: Vec<String> = d
                .drifted
                .iter()
                .filter_map(|n| d.columns.iter().find(|c| &c.name == n))
                .map(|c| match c.mean {
                    Some((then, now)) => format!(
                        "`{}` (distance {:.2}; mean {} then, {} now)",
                        c.name,
                        c.distance,
                        readable_number(then),
                        readable_number(now)
                    ),
                    None => format!("`{}` (distance {:.2})", c.name, c.distance),
                })
                .collect();
            format!(
                "{} of {} columns drifted: {}.",
                d.drifted.len(),
                d.columns.len(),
                list(&listed)
            )
        };
        if let Some(s) = &d.scores {
            out += &format!(
                " The scores {}: mean {:.3} then, {:.3} now; predicted buyers {} then, {} now.",
                if s.drifted {
                    "moved with them"
                } else {
                    "stayed within the noise"
                },
                s.mean.0,
                s.mean.1,
                pct(s.positive_rate.0),
                pct(s.positive_rate.1)
            );
        }
        let leaned: Vec<String> = d
            .drifted
            .iter()
            .filter_map(|n| d.columns.iter().find(|c| &c.name == n))
            .filter_map(|c| c.mean_abs_shap.map(|m| (c, m)))
            .map(|(c, (then, now))| {
                format!(
                    "`{}` moves the scores {} ({:.3} log-odds on average then, {:.3} now)",
                    c.name,
                    if now > then * 1.1 {
                        "more than before"
                    } else if now < then / 1.1 {
                        "less than before"
                    } else {
                        "about as much as before"
                    },
                    then,
                    now
                )
            })
            .collect();
        if !leaned.is_empty() {
            out += &format!(" What drives them: {}.", list(&leaned));
        }
        out
    }

    /// Quality day by day once the outcomes are known: the first and the last day, and
    /// whether it fell.
    pub fn quality(q: &crate::monitor::QualityReport) -> String {
        let days: Vec<&crate::monitor::quality::DayQuality> =
            q.days.iter().filter(|d| d.metrics.is_some()).collect();
        let auc =
            |d: &crate::monitor::quality::DayQuality| d.metrics.as_ref().and_then(|m| m.roc_auc);
        let mut out = format!(
            "{} of {} captured customers have a known outcome; over all of them ROC AUC {}, \
             precision {:.3}, recall {:.3} at the deployed threshold {:.2}",
            q.labelled_rows,
            q.captured_rows,
            q.overall
                .roc_auc
                .map_or("undefined (one class)".into(), |a| format!("{a:.3}")),
            q.overall.precision,
            q.overall.recall,
            q.threshold.get()
        );
        if let Some(p) = q.profit {
            out += &format!(", realised profit {}", readable_number(p));
        }
        out.push('.');
        if let (Some(first), Some(last)) = (days.first(), days.last()) {
            if days.len() > 1 {
                if let (Some(a), Some(b)) = (auc(first), auc(last)) {
                    let change = b - a;
                    out += &format!(
                        " Day by day, ROC AUC went from {a:.3} ({}) to {b:.3} ({}): {}.",
                        first.day,
                        last.day,
                        if change < -0.02 {
                            format!("it fell by {:.3}", -change)
                        } else if change > 0.02 {
                            format!("it rose by {change:.3}")
                        } else {
                            "within 0.02, no clear trend".to_string()
                        }
                    );
                }
            }
        }
        out
    }
}
