//! The walkthrough's findings in words: what a data scientist would say after each table
//! and chart, computed from the numbers on screen, so that they stay true on any table.
//!
//! Each function returns the text of one "Notice" ([`crate::evaluate::display::Notice`]
//! shows it after the output it reads). Nothing here knows the demo or the bank table by
//! name: missing-value codes, structural gaps, shapes and verdicts are found in the data.

use polars::prelude::DataFrame;

mod monitor;

use crate::cloud::estimator::TunedJob;
use crate::cloud::sagemaker::names::trial_number;
use crate::data::{readable_number, sentinel, Shape, Signal};
use crate::error::{Error, Result};
use crate::metrics::{CalibrationBin, Costs, Metrics, ProfitPoint, ThresholdIntervals};

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The exploration's and the evaluation's findings (see the module docs).
pub struct Findings;

impl Findings {
    /// Missing values column by column: empty cells, the text "unknown", numbers that are
    /// codes ([`sentinel`]), and gaps that follow another column (empty wherever that
    /// column takes one value: structural, not noise).
    pub fn missing(df: &DataFrame) -> Result<String> {
        let n = df.height().max(1) as f64;
        let mut empty = Vec::new();
        let mut unknown = Vec::new();
        let mut codes = Vec::new();
        let mut structural = Vec::new();
        let numeric = crate::data::numeric_columns(df);
        for c in df.columns() {
            let nulls = c.null_count();
            if nulls > 0 {
                empty.push(format!("`{}` {}", c.name(), pct(nulls as f64 / n)));
                if let Some(why) = Self::explained_by(df, c.name())? {
                    structural.push(why);
                }
            }
            if let Ok(s) = c.str() {
                let k = s
                    .iter()
                    .filter(|v| v.is_some_and(|v| v.trim().eq_ignore_ascii_case("unknown")))
                    .count();
                if k > 0 {
                    unknown.push(format!("`{}` {}", c.name(), pct(k as f64 / n)));
                }
            }
            if numeric.contains(&c.name().to_string()) {
                if let Some((v, k)) = sentinel(&crate::prep::numeric_values(c)?) {
                    codes.push(format!(
                        "`{}` = {} on {}",
                        c.name(),
                        readable_number(v),
                        pct(k as f64 / n)
                    ));
                }
            }
        }
        let mut text = if empty.is_empty() {
            "No cell is empty.".to_string()
        } else {
            format!("Empty cells: {}.", list(&empty))
        };
        for s in structural {
            text += &format!(" {s}");
        }
        if !unknown.is_empty() {
            text += &format!(
                " Missing answers written as the text \"unknown\": {}. They stay a category of \
                 their own (the model can learn whether not knowing matters).",
                list(&unknown)
            );
        }
        if !codes.is_empty() {
            text += &format!(
                " Numbers that look like codes, not quantities: {}. A code such as 999 for \
                 \"never\" sits far from the real values; trees can split it off, but read \
                 means and charts of that column with it in mind.",
                list(&codes)
            );
        }
        Ok(text)
    }

    /// Whether the empty cells of `name` follow another column: at least 90 % of them where
    /// that column takes one value that is rarer than that among the other rows.
    fn explained_by(df: &DataFrame, name: &str) -> Result<Option<String>> {
        let col = df.column(name).map_err(|e| Error::polars("column", e))?;
        let nulls: Vec<bool> = col.is_null().iter().map(|v| v.unwrap_or(false)).collect();
        let missing = nulls.iter().filter(|&&b| b).count();
        if missing < 20 {
            return Ok(None);
        }
        let mut best: Option<(f64, String)> = None;
        for other in df.columns() {
            if other.name() == name {
                continue;
            }
            let text = other
                .cast(&polars::prelude::DataType::String)
                .map_err(|e| Error::polars("column as text", e))?;
            let ca = text.str().map_err(|e| Error::polars("column as text", e))?;
            let mut in_gap: std::collections::HashMap<Option<&str>, (usize, usize)> =
                Default::default();
            for (v, &gap) in ca.iter().zip(&nulls) {
                let e = in_gap.entry(v).or_default();
                if gap {
                    e.0 += 1;
                } else {
                    e.1 += 1;
                }
            }
            let present = nulls.len() - missing;
            for (v, (g, o)) in in_gap {
                let share_gap = g as f64 / missing as f64;
                let share_other = o as f64 / present.max(1) as f64;
                if let Some(v) = v {
                    let v = v.parse::<f64>().map_or(v.to_string(), readable_number);
                    if share_gap >= 0.9
                        && share_other < 0.5
                        && best.as_ref().is_none_or(|b| share_gap > b.0)
                    {
                        best = Some((
                            share_gap,
                            format!(
                                "`{name}` is empty where `{}` = {v} ({:.0} % of its empty cells; \
                                 {:.0} % of the other rows): the gap is structural, not noise, \
                                 which is why the preprocessor adds a missing-value indicator \
                                 beside the median.",
                                other.name(),
                                100.0 * share_gap,
                                100.0 * share_other
                            ),
                        ));
                    }
                }
            }
        }
        Ok(best.map(|b| b.1))
    }

    /// The buyer share, and the accuracy of predicting "no" for everyone.
    pub fn balance(labels: &[u8]) -> String {
        let n = labels.len().max(1);
        let buyers = labels.iter().filter(|&&l| l == 1).count();
        let share = buyers as f64 / n as f64;
        let (majority, word) = if share <= 0.5 {
            (1.0 - share, "no")
        } else {
            (share, "yes")
        };
        format!(
            "Buyers: {buyers} of {n} ({}). A model that says \"{word}\" to everyone is right {} \
             of the time: every accuracy in this walkthrough is read against that figure.",
            pct(share),
            pct(majority)
        )
    }

    /// The strongest single columns, shapes a rank score would miss, the columns that carry
    /// little alone, and any column so strong that it may be a leak.
    pub fn signal(ranked: &[Signal]) -> String {
        let top: Vec<String> = ranked
            .iter()
            .take(5)
            .map(|s| format!("`{}` ({:.2})", s.column, s.auc))
            .collect();
        let mut text = format!(
            "Alone, the columns that separate buyers best (the ROC AUC of the column's binned \
             purchase rate; 0.5 = no signal) are {}.",
            list(&top)
        );
        let shaped: Vec<String> = ranked
            .iter()
            .filter(|s| {
                matches!(s.shape, Shape::PeaksBetween(..) | Shape::DipsBetween(..))
                    && s.monotone_auc.is_some_and(|m| s.auc - m >= 0.02)
            })
            .map(|s| {
                format!(
                    "`{}` has {} ({:.2} binned against {:.2} as a straight ranking)",
                    s.column,
                    s.shape,
                    s.auc,
                    s.monotone_auc.unwrap_or(0.5)
                )
            })
            .collect();
        if !shaped.is_empty() {
            text += &format!(
                " Not every effect runs one way: {}. A score that only ranks values would \
                 miss it; trees split on both sides.",
                shaped.join("; ")
            );
        }
        let weak: Vec<String> = ranked
            .iter()
            .filter(|s| s.auc < 0.53)
            .map(|s| format!("`{}`", s.column))
            .collect();
        if !weak.is_empty() {
            text += &format!(
                " On their own, {} carry almost nothing (below 0.53); a model can still use \
                 them in combination.",
                list(&weak)
            );
        }
        let leaks: Vec<String> = ranked
            .iter()
            .filter(|s| s.auc >= 0.9)
            .map(|s| format!("`{}` ({:.2})", s.column, s.auc))
            .collect();
        if !leaks.is_empty() {
            text += &format!(
                " {} separate{} buyers almost perfectly alone: ask whether you would know \
                 {} before the decision (a leak, such as a call's duration, looks exactly \
                 like this); leave it out in the settings if not.",
                list(&leaks),
                if leaks.len() == 1 { "s" } else { "" },
                if leaks.len() == 1 { "it" } else { "them" }
            );
        }
        text
    }

    /// Pairs of numeric columns with |r| ≥ 0.7.
    pub fn correlations(df: &DataFrame) -> Result<String> {
        let names = crate::data::numeric_columns(df);
        let cols: Vec<Vec<Option<f64>>> = names
            .iter()
            .map(|n| {
                crate::prep::numeric_values(df.column(n).map_err(|e| Error::polars("column", e))?)
            })
            .collect::<Result<_>>()?;
        let mut pairs = Vec::new();
        for i in 0..names.len() {
            for j in i + 1..names.len() {
                let Some((r, n)) = crate::data::pearson(&cols[i], &cols[j]) else {
                    continue;
                };
                if n >= 3 && r.abs() >= 0.7 {
                    pairs.push((r, format!("`{}` and `{}` (r = {r:.2})", names[i], names[j])));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()));
        Ok(if pairs.is_empty() {
            "No two numeric columns are strongly correlated (all |r| < 0.7).".into()
        } else {
            format!(
                "Strongly correlated: {}. Such columns carry much the same information: trees \
                 pick either, so their importances share the credit.",
                pairs
                    .into_iter()
                    .map(|p| p.1)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })
    }

    /// Numeric columns with a long right tail (the maximum more than three interquartile
    /// ranges above the 99th percentile): what the histograms cut off, and why it matters
    /// little to trees.
    pub fn tails(df: &DataFrame) -> Result<String> {
        let mut long = Vec::new();
        for name in crate::data::numeric_columns(df) {
            let c = df.column(&name).map_err(|e| Error::polars("column", e))?;
            let mut v: Vec<f64> = crate::prep::numeric_values(c)?
                .into_iter()
                .flatten()
                .collect();
            if v.len() < 20 {
                continue;
            }
            v.sort_by(f64::total_cmp);
            let q = |p| crate::data::quantile(&v, p);
            let (p99, max, iqr) = (q(0.99), q(1.0), q(0.75) - q(0.25));
            if max > p99 + 3.0 * iqr.max(1e-9) {
                long.push(format!(
                    "`{name}` (99 % of values up to {}, the largest {})",
                    readable_number(p99),
                    readable_number(max)
                ));
            }
        }
        Ok(if long.is_empty() {
            "No numeric column has a long tail: the histograms show every value.".into()
        } else {
            format!(
                "Long tails: {}. The histograms stop at the 99th percentile so that the bulk \
                 stays readable (their titles say how many lie beyond). Trees only ask \
                 \"above or below\", so a tail does not pull them; the logistic-regression \
                 baseline, which standardises, feels it more.",
                list(&long)
            )
        })
    }

    /// The tuning trials of tuning job `tuning`: the best one by the objective (higher is
    /// better when `maximize`), whether it was a random draw (trials 1 to `random_first`), a
    /// guided proposal or the defaults (trial 0), how many the median rule stopped, and the
    /// spread of the objective. A trial's number is read from its name (`<tuning job>-NNN`,
    /// SageMaker's and ours), since SageMaker lists the jobs by objective, not in the order
    /// they ran.
    pub fn trials(jobs: &[TunedJob], tuning: &str, random_first: usize, maximize: bool) -> String {
        let done: Vec<(usize, f64, &str)> = jobs
            .iter()
            .enumerate()
            .filter_map(|(i, j)| {
                j.objective.map(|o| {
                    let n = trial_number(tuning, &j.name).unwrap_or(i + 1);
                    (n, o, j.name.as_str())
                })
            })
            .collect();
        let sign = if maximize { 1.0 } else { -1.0 };
        let better = |a: f64, b: f64| sign * a > sign * b;
        let Some(&(nb, ob, _)) = done
            .iter()
            .fold(None, |acc: Option<&(usize, f64, &str)>, d| {
                match acc {
                    // Ties go to the earlier trial, as the search breaks them.
                    Some(a) if !(better(d.1, a.1) || (d.1 == a.1 && d.0 < a.0)) => Some(a),
                    _ => Some(d),
                }
            })
        else {
            return "No trial finished with an objective.".into();
        };
        let stopped = jobs.iter().filter(|j| j.status == "Stopped").count();
        let worst = done
            .iter()
            .map(|d| d.1)
            .fold(ob, |w, v| if better(w, v) { v } else { w });
        let kind = match nb {
            0 => "the defaults, untuned",
            n if n <= random_first => "a random draw",
            _ => "proposed by the Gaussian process",
        };
        let mut text = format!(
            "The best of {} trials is trial {nb} ({kind}) with {ob:.4}; the trials range from \
             {worst:.4} to {ob:.4}, a spread of {:.4}.",
            jobs.len(),
            (ob - worst).abs()
        );
        let searched = |d: &&(usize, f64, &str)| d.0 > 0;
        let best_random = done
            .iter()
            .filter(searched)
            .filter(|d| d.0 <= random_first)
            .map(|d| d.1)
            .reduce(|a, b| if better(b, a) { b } else { a });
        let guided: Vec<f64> = done
            .iter()
            .filter(|d| d.0 > random_first)
            .map(|d| d.1)
            .collect();
        if let (Some(best_random), false) = (best_random, guided.is_empty()) {
            let guided_better = guided.iter().filter(|&&v| better(v, best_random)).count();
            text += &if guided_better == 0 {
                format!(
                    " None of the {} guided trials beat the best random one: the best search \
                     result came by chance, and the proposals around it did no better.",
                    guided.len()
                )
            } else {
                format!(
                    " {guided_better} of the {} guided trials beat the best random one \
                     ({best_random:.4}): the Gaussian process found better settings than \
                     chance did.",
                    guided.len()
                )
            };
        }
        if let Some(d) = done.iter().find(|d| d.0 == 0) {
            text += &if nb == 0 {
                format!(
                    " No searched trial beat the defaults ({:.4}): they stay.",
                    d.1
                )
            } else {
                format!(
                    " The defaults (trial 0) scored {:.4}; whether trial {nb}'s {:+.4} over \
                     them is beyond the noise is the decision below.",
                    d.1,
                    ob - d.1
                )
            };
        }
        if stopped > 0 {
            text += &format!(
                " The median rule stopped {stopped} trial{} early (they were behind the others \
                 at the same round), saving their remaining rounds.",
                if stopped == 1 { "" } else { "s" }
            );
        }
        text
    }

    /// The model's own ranking of columns (mean |SHAP| per column) set beside the
    /// single-column ranking of notebook 1: columns that matter more in the model than
    /// alone, and columns strong alone that the model leans on less.
    pub fn explanations(model: &[(String, f64)], alone: &[Signal]) -> String {
        let mut model = model.to_vec();
        model.sort_by(|a, b| b.1.total_cmp(&a.1));
        let k = 5.min(model.len());
        let top: Vec<String> = model[..k]
            .iter()
            .map(|(n, v)| format!("`{n}` ({v:.2})"))
            .collect();
        let mut text = format!(
            "The model leans most on {} (mean |push| in log-odds).",
            list(&top)
        );
        let rank_alone = |n: &str| alone.iter().position(|s| s.column == n);
        let more: Vec<String> = model[..k]
            .iter()
            .filter(|(n, _)| rank_alone(n).is_none_or(|r| r >= k))
            .map(|(n, _)| {
                format!(
                    "`{n}` (#{} alone)",
                    rank_alone(n).map_or("?".into(), |r| (r + 1).to_string())
                )
            })
            .collect();
        if !more.is_empty() {
            text += &format!(
                " Among them, {} rank{} lower on {} own in notebook 1: the model uses {} \
                 together with other columns (once those are known, it still separates).",
                list(&more),
                if more.len() == 1 { "s" } else { "" },
                if more.len() == 1 { "its" } else { "their" },
                if more.len() == 1 { "it" } else { "them" }
            );
        }
        let model_rank = |n: &str| model.iter().position(|m| m.0 == n);
        let less: Vec<String> = alone
            .iter()
            .take(k)
            .filter(|s| model_rank(&s.column).is_none_or(|r| r >= k))
            .map(|s| {
                format!(
                    "`{}` (#{} in the model)",
                    s.column,
                    model_rank(&s.column).map_or("-".into(), |r| (r + 1).to_string())
                )
            })
            .collect();
        if !less.is_empty() {
            text += &format!(
                " Strong alone but less used by the model: {}: what {} tell{} is mostly \
                 told by other columns the model prefers (between numbers, notebook 1's \
                 correlations show such pairs).",
                list(&less),
                if less.len() == 1 { "it" } else { "they" },
                if less.len() == 1 { "s" } else { "" }
            );
        }
        text
    }

    /// Profit at the chosen threshold against calling everyone and calling no one, and where
    /// the threshold sits against the break-even probability `cost / value`.
    pub fn profit(sweep: &[ProfitPoint], chosen: &ProfitPoint, costs: &Costs) -> String {
        let everyone = sweep
            .iter()
            .min_by(|a, b| a.threshold.get().total_cmp(&b.threshold.get()))
            .map_or(0.0, |p| p.profit_per_1000);
        let even = costs.break_even_probability();
        let mut text = format!(
            "At threshold {:.2} the campaign earns {:.0} per 1,000 customers; calling everyone \
             earns {everyone:.0} and calling no one 0, so the model {}.",
            chosen.threshold,
            chosen.profit_per_1000,
            if chosen.profit_per_1000 > everyone.max(0.0) {
                format!(
                    "adds {:.0} per 1,000 over the better of the two",
                    chosen.profit_per_1000 - everyone.max(0.0)
                )
            } else {
                "adds nothing over the better of the two: at these costs, do not use it to choose"
                    .into()
            }
        );
        text += &if (chosen.threshold.get() - even).abs() <= 0.03 {
            format!(
                " The best threshold sits at the break-even probability {even:.2} (= cost / \
                 value): calling whoever is more likely to buy than that pays, which is what a \
                 calibrated model's probabilities promise (the reliability chart below checks it)."
            )
        } else {
            format!(
                " The best threshold is {} the break-even probability {even:.2} (= cost / \
                 value): if the probabilities were calibrated the two would meet, so read the \
                 reliability chart below before trusting a threshold of {even:.2} on new data.",
                if chosen.threshold.get() > even {
                    "above"
                } else {
                    "below"
                }
            )
        };
        text
    }

    /// The business numbers at the chosen threshold with their bootstrap intervals.
    pub fn intervals(i: &ThresholdIntervals) -> String {
        format!(
            "At threshold {:.2} on the test split, with 95 % bootstrap intervals: precision \
             {:.3}, recall {:.3}, profit per 1,000 customers {:.0} [{:.0}, {:.0}]. Another \
             sample of customers of this size could give any figure in those ranges: quote \
             them with the interval.",
            i.threshold,
            i.precision,
            i.recall,
            i.profit_per_1000.estimate,
            i.profit_per_1000.low,
            i.profit_per_1000.high
        )
    }

    /// The verdict on the baseline: what XGBoost adds in AUC (with the bootstrap interval of
    /// the difference) and in recall and precision at the same threshold.
    pub fn baseline(xgb: &Metrics, lr: &Metrics, diff: (f64, f64, f64)) -> String {
        let (d, lo, hi) = diff;
        let verdict = if lo > 0.0 {
            "XGBoost is better beyond the noise"
        } else if hi < 0.0 {
            "the logistic regression is better beyond the noise: prefer the simpler model"
        } else {
            "the two cannot be told apart on these rows: prefer the simpler, more transparent \
             logistic regression unless the trees' explanations are worth it to you"
        };
        format!(
            "Is XGBoost worth it? Its ROC AUC is {d:+.3} against the logistic regression's \
             (95 % interval [{lo:+.3}, {hi:+.3}]): {verdict}. At threshold {:.2} it finds {} \
             of the buyers against {} and is right {} of the time it says \"buy\" against {}.",
            xgb.threshold,
            pct(xgb.recall),
            pct(lr.recall),
            pct(xgb.precision),
            pct(lr.precision)
        )
    }

    /// The reliability of the probabilities: the bin (of at least 20 customers) furthest from
    /// the diagonal, measured against its sampling noise (two binomial standard errors), and
    /// the log loss against the base-rate forecast's.
    pub fn calibration(bins: &[CalibrationBin], log_loss: f64, base_log_loss: f64) -> String {
        let se = |b: &CalibrationBin| {
            (b.predicted * (1.0 - b.predicted) / b.count.max(1) as f64)
                .sqrt()
                .max(1e-9)
        };
        let filled: Vec<&CalibrationBin> = bins.iter().filter(|b| b.count >= 20).collect();
        let worst = filled.iter().max_by(|a, b| {
            ((a.observed - a.predicted).abs() / se(a))
                .total_cmp(&((b.observed - b.predicted).abs() / se(b)))
        });
        let mut text = format!(
            "Log loss {log_loss:.3} against {base_log_loss:.3} for the base-rate forecast (everyone \
             given the training share of buyers): {}.",
            if log_loss < base_log_loss {
                format!(
                    "the model's probabilities carry {:.0} % less surprise",
                    100.0 * (1.0 - log_loss / base_log_loss)
                )
            } else {
                "the model's probabilities are no better than the base rate".into()
            }
        );
        if let Some(w) = worst {
            let gap = w.observed - w.predicted;
            text += &if gap.abs() <= (2.0 * se(w)).max(0.05) {
                format!(
                    " Every bin of 20 customers or more lies within its sampling noise of the \
                     diagonal (the furthest: {} predicted, {} bought, {} customers): a \
                     probability here can be read as a purchase rate.",
                    pct(w.predicted),
                    pct(w.observed),
                    w.count
                )
            } else {
                format!(
                    " Around {:.2} the model says {} but {} of those {} customers buy, further \
                     off than sampling noise explains: its probabilities are {} there, so a \
                     threshold set from costs alone would be off in that range.",
                    w.predicted,
                    pct(w.predicted),
                    pct(w.observed),
                    w.count,
                    if gap > 0.0 { "too low" } else { "too high" }
                )
            };
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{load, signal, LoadOptions};
    use polars::prelude::Column;
    use std::path::Path;

    #[test]
    fn findings_speak_of_the_table_shown() {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        let ds = load(
            project.join("data/customers.csv"),
            &LoadOptions::new("purchased").id("customer_id"),
        )
        .unwrap();
        let missing = Findings::missing(&ds.features).unwrap();
        assert!(
            missing.contains("`days_since_last_purchase` is empty where `previous_purchases` = 0 (100 % of its empty cells"),
            "{missing}"
        );
        let balance = Findings::balance(&ds.labels);
        assert!(
            balance.contains("1591 of 10000 (15.9 %)") && balance.contains("84.1 %"),
            "{balance}"
        );
        let ranked = signal(&ds.features, &ds.labels).unwrap();
        let text = Findings::signal(&ranked);
        // The generator builds an inverted U into age: the finding must say so, not that age
        // carries nothing.
        assert!(text.contains("`age` has most buyers between"), "{text}");
        let weak_part = text.split("On their own").nth(1).unwrap_or_default();
        assert!(!weak_part.contains("`age`"), "{text}");
        let corr = Findings::correlations(&ds.features).unwrap();
        assert!(
            corr.contains("`minutes_on_site` and `pages_viewed` (r = 0.96)"),
            "{corr}"
        );
        let tails = Findings::tails(&ds.features).unwrap();
        assert!(tails.contains("`pages_viewed`"), "{tails}");
    }

    #[test]
    fn codes_and_unknowns_are_found_by_their_look() {
        let mut days: Vec<f64> = (0..200).map(|i| f64::from(i % 27)).collect();
        days.extend(std::iter::repeat_n(999.0, 800));
        let job: Vec<&str> = (0..1000)
            .map(|i| if i % 50 == 0 { "unknown" } else { "admin." })
            .collect();
        let df = DataFrame::new(
            1000,
            vec![
                Column::new("since".into(), days),
                Column::new("work".into(), job),
            ],
        )
        .unwrap();
        let text = Findings::missing(&df).unwrap();
        assert!(text.contains("`since` = 999 on 80.0 %"), "{text}");
        assert!(text.contains("`work` 2.0 %"), "{text}");
    }

    #[test]
    fn a_leak_is_named_and_a_model_ranking_is_reconciled() {
        let s = |c: &str, auc: f64| Signal {
            column: c.into(),
            auc,
            monotone_auc: Some(auc),
            shape: Shape::Rises,
        };
        let alone = [
            s("duration", 0.93),
            s("a", 0.7),
            s("b", 0.6),
            s("c", 0.55),
            s("d", 0.54),
            s("e", 0.51),
        ];
        assert!(Findings::signal(&alone)
            .contains("`duration` (0.93) separates buyers almost perfectly"));
        let model: Vec<(String, f64)> = [
            ("e", 0.9),
            ("a", 0.5),
            ("duration", 0.4),
            ("b", 0.3),
            ("c", 0.2),
            ("d", 0.01),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), *v))
        .collect();
        let text = Findings::explanations(&model, &alone);
        assert!(text.contains("`e` (#6 alone)"), "{text}");
        assert!(text.contains("`d` (#6 in the model)"), "{text}");
    }

    #[test]
    fn profit_is_set_beside_calling_everyone_and_the_break_even() {
        let p = |t: f64, v: f64| ProfitPoint {
            threshold: crate::metrics::Threshold::new(t).unwrap(),
            calls: 0,
            sales: 0,
            profit: 0.0,
            profit_per_1000: v,
        };
        let sweep = [p(0.0, 2950.0), p(0.11, 4564.0), p(0.5, 1000.0)];
        let costs = Costs {
            contact_cost: 5.0,
            sale_value: 50.0,
        };
        let text = Findings::profit(&sweep, &sweep[1], &costs);
        assert!(text.contains("calling everyone earns 2950"), "{text}");
        assert!(text.contains("adds 1614 per 1,000"), "{text}");
        assert!(
            text.contains("sits at the break-even probability 0.10"),
            "{text}"
        );
    }

    #[test]
    fn trials_say_whether_guidance_helped() {
        let j = |n: usize, o: f64, st: &str| TunedJob {
            name: format!("t-{n:03}"),
            status: st.into(),
            objective: Some(o),
            hyperparameters: Default::default(),
        };
        // Listed by objective, as SageMaker lists them: the number comes from the name.
        let jobs = [
            j(1, 0.84, "Completed"),
            j(4, 0.839, "Completed"),
            j(3, 0.83, "Completed"),
            j(2, 0.80, "Stopped"),
        ];
        let text = Findings::trials(&jobs, "t", 3, true);
        assert!(text.contains("trial 1 (a random draw)"), "{text}");
        assert!(text.contains("None of the 1 guided trials beat"), "{text}");
        assert!(text.contains("stopped 1 trial early"), "{text}");
        assert!(!text.contains("defaults"), "no trial 0 listed: {text}");
        let jobs = [
            j(4, 0.85, "Completed"),
            j(1, 0.84, "Completed"),
            j(2, 0.80, "Stopped"),
            j(3, 0.83, "Completed"),
        ];
        let text = Findings::trials(&jobs, "t", 3, true);
        assert!(
            text.contains("trial 4 (proposed by the Gaussian process) with 0.8500"),
            "{text}"
        );
        assert!(
            text.contains("1 of the 1 guided trials beat the best random one (0.8400)"),
            "{text}"
        );
        // With trial 0, the defaults: the best is read against them.
        let mut with_defaults = jobs.to_vec();
        with_defaults.push(j(0, 0.845, "Completed"));
        let text = Findings::trials(&with_defaults, "t", 3, true);
        assert!(text.contains("The best of 5 trials is trial 4"), "{text}");
        assert!(
            text.contains("The defaults (trial 0) scored 0.8450; whether trial 4's +0.0050"),
            "{text}"
        );
        with_defaults.push(j(0, 0.86, "Completed"));
        with_defaults.remove(4);
        let text = Findings::trials(&with_defaults, "t", 3, true);
        assert!(
            text.contains("trial 0 (the defaults, untuned) with 0.8600"),
            "{text}"
        );
        assert!(
            text.contains("No searched trial beat the defaults (0.8600): they stay."),
            "{text}"
        );
        // A minimised objective: lower is better.
        let text = Findings::trials(&jobs, "t", 3, false);
        assert!(
            text.contains("trial 2 (a random draw) with 0.8000"),
            "{text}"
        );
    }

    #[test]
    fn calibration_gaps_are_read_against_their_noise() {
        let bin = |predicted: f64, observed: f64, count: usize| CalibrationBin {
            predicted,
            observed,
            count,
        };
        // 8 points off on 53 customers is within two standard errors (13 points).
        let text =
            Findings::calibration(&[bin(0.05, 0.05, 2000), bin(0.647, 0.566, 53)], 0.31, 0.44);
        assert!(text.contains("within its sampling noise"), "{text}");
        assert!(text.contains("30 % less surprise"), "{text}");
        // 10 points off on 2,000 customers is not.
        let text = Findings::calibration(&[bin(0.2, 0.3, 2000), bin(0.6, 0.6, 100)], 0.5, 0.4);
        assert!(
            text.contains("Around 0.20 the model says 20.0 % but 30.0 %"),
            "{text}"
        );
        assert!(
            text.contains("too low") && text.contains("no better than the base rate"),
            "{text}"
        );
    }
}
