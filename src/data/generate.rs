//! The shipped demo table, `data/customers.csv`: a realistic, seeded, synthetic customer
//! table that this crate generates (`purchase-predict generate`), so that the whole
//! walkthrough runs with no download.
//!
//! Columns: `customer_id`, `age`, `gender`, `region`, `device`, `income`, `membership`,
//! `tenure_months`, `sessions_30d`, `minutes_on_site`, `pages_viewed`, `bounce_rate`,
//! `previous_purchases`, `days_since_last_purchase`, `discounts_used`, and the target
//! `purchased` (yes/no).
//!
//! How it is made, per customer: age, gender, region and device are drawn independently;
//! income is log-normal and rises with age; membership is likelier with income, and members
//! have longer tenure and more previous purchases; browsing (sessions, minutes, pages, bounce
//! rate) is correlated through a latent engagement; recency is recorded only for customers
//! who bought before. Some values are not recorded: about 6 % of incomes, 2 % of genders,
//! 3 % of minutes, 4 % of bounce rates (plus every `days_since_last_purchase` of a customer
//! with no previous purchase).
//!
//! The purchase probability is a logistic function of non-linear effects of the *true*
//! values: engagement `ln(1 + minutes) × (1 − bounce rate)`, recency `exp(−days / 45)`, an
//! inverted-U in age around 38, a saturating (tanh) effect of income, membership tiers,
//! discounts (stronger for members), a jump above 25 pages viewed, previous purchases,
//! region and device. The intercept is solved by bisection so that the mean probability is
//! 16 %; each label is then a Bernoulli draw. The sequence of draws is fixed by the seed and
//! the crate's own generator (`util::random::Rng`), so the file is reproducible byte for
//! byte (a test regenerates it and compares).
//!
//! ```
//! let csv = purchase_predict::data::generate::customers_csv(100, 7);
//! assert_eq!(csv.lines().count(), 101);
//! assert!(csv.starts_with("customer_id,age,gender"));
//! ```

use std::path::Path;

use crate::error::Result;
use crate::util::files::write_atomically;
use crate::util::random::Rng;

/// Rows in the shipped `data/customers.csv`.
pub const DEFAULT_ROWS: usize = 10_000;
/// Seed of the shipped `data/customers.csv`.
pub const DEFAULT_SEED: u64 = 2024;
/// Mean purchase probability the intercept is solved for.
pub const TARGET_RATE: f64 = 0.16;

const HEADER: &str = "customer_id,age,gender,region,device,income,membership,tenure_months,\
sessions_30d,minutes_on_site,pages_viewed,bounce_rate,previous_purchases,\
days_since_last_purchase,discounts_used,purchased";

fn pick<'a>(rng: &mut Rng, items: &[(&'a str, f64)]) -> &'a str {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut u = rng.uniform() * total;
    for (name, w) in items {
        if u < *w {
            return name;
        }
        u -= w;
    }
    items[items.len() - 1].0
}

struct Customer {
    age: u32,
    gender: &'static str,
    region: &'static str,
    device: &'static str,
    income: f64,
    membership: &'static str,
    tenure_months: u32,
    sessions: u32,
    minutes: f64,
    pages: u32,
    bounce: f64,
    previous: u32,
    days_since: Option<u32>,
    discounts: u32,
    // recorded or not
    gender_missing: bool,
    income_missing: bool,
    minutes_missing: bool,
    bounce_missing: bool,
}

fn draw(rng: &mut Rng) -> Customer {
    let age = (42.0 + 13.0 * rng.normal()).round().clamp(18.0, 85.0) as u32;
    let gender = pick(rng, &[("female", 0.49), ("male", 0.49), ("other", 0.02)]);
    let region = pick(
        rng,
        &[
            ("north", 0.22),
            ("south", 0.25),
            ("east", 0.18),
            ("west", 0.20),
            ("central", 0.15),
        ],
    );
    let device = pick(
        rng,
        &[("mobile", 0.55), ("desktop", 0.35), ("tablet", 0.10)],
    );
    let income = (10.75 + 0.42 * rng.normal() + 0.008 * (age as f64 - 40.0)).exp();
    let z_income = (income.ln() - 10.75) / 0.42;
    let membership = {
        let u = rng.normal() + 0.5 * z_income;
        if u > 1.55 {
            "platinum"
        } else if u > 0.95 {
            "gold"
        } else if u > 0.25 {
            "silver"
        } else {
            "none"
        }
    };
    let tier = match membership {
        "platinum" => 3.0,
        "gold" => 2.0,
        "silver" => 1.0,
        _ => 0.0,
    };
    let tenure_months = (rng.uniform() * (12.0 + 30.0 * tier) + 1.0).floor() as u32;
    let engagement = rng.normal();
    let sessions = (1.2 + 0.55 * engagement + 0.3 * rng.normal()).exp().round() as u32;
    let minutes = sessions as f64 * (1.7 + 0.25 * engagement + 0.45 * rng.normal()).exp();
    let pages = (minutes * (0.6 + 0.8 * rng.uniform())).round() as u32;
    let bounce = (0.55 - 0.07 * (1.0 + sessions as f64).ln() - 0.06 * engagement
        + 0.1 * rng.normal())
    .clamp(0.02, 0.98);
    let previous = ((0.1 + 0.45 * tier + 0.8 * rng.normal()).exp() - 0.9)
        .round()
        .max(0.0) as u32;
    let days_since = (previous > 0).then(|| {
        (3.7 + 0.9 * rng.normal() - 0.1 * tier)
            .exp()
            .round()
            .clamp(1.0, 730.0) as u32
    });
    let discounts = (rng.uniform() * (previous as f64 * 0.7 + 0.6)).floor() as u32;
    Customer {
        age,
        gender,
        region,
        device,
        income,
        membership,
        tenure_months,
        sessions,
        minutes,
        pages,
        bounce,
        previous,
        days_since,
        discounts,
        gender_missing: rng.bernoulli(0.02),
        income_missing: rng.bernoulli(0.06),
        minutes_missing: rng.bernoulli(0.03),
        bounce_missing: rng.bernoulli(0.04),
    }
}

/// The logit of a purchase, without the intercept.
fn score(c: &Customer) -> f64 {
    let engagement = (1.0 + c.minutes).ln() * (1.0 - c.bounce);
    let recency = c.days_since.map_or(0.0, |d| (-(d as f64) / 45.0).exp());
    let age = -((c.age as f64 - 38.0) / 14.0).powi(2);
    let income = 0.8 * ((c.income - 60_000.0) / 25_000.0).tanh();
    let member = match c.membership {
        "platinum" => 1.1,
        "gold" => 0.7,
        "silver" => 0.35,
        _ => 0.0,
    };
    let discount_weight = if c.membership == "none" { 0.1 } else { 0.25 };
    let discounts = discount_weight * (c.discounts.min(5) as f64);
    let pages = if c.pages > 25 { 0.6 } else { 0.0 };
    let region = match c.region {
        "south" => 0.2,
        "central" => -0.2,
        _ => 0.0,
    };
    let device = if c.device == "desktop" { 0.25 } else { 0.0 };
    0.9 * engagement
        + 1.6 * recency
        + 0.5 * age
        + income
        + member
        + discounts
        + pages
        + 0.4 * (1.0 + c.previous as f64).ln()
        + region
        + device
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The intercept that makes the mean purchase probability `rate`.
fn solve_intercept(scores: &[f64], rate: f64) -> f64 {
    let (mut lo, mut hi) = (-30.0, 30.0);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        let mean = scores.iter().map(|s| sigmoid(s + mid)).sum::<f64>() / scores.len() as f64;
        if mean < rate {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// The customer table as CSV text (comma-separated, header, LF line ends; a value not
/// recorded is an empty field).
pub fn customers_csv(rows: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let customers: Vec<Customer> = (0..rows).map(|_| draw(&mut rng)).collect();
    let scores: Vec<f64> = customers.iter().map(score).collect();
    let intercept = if rows == 0 {
        0.0
    } else {
        solve_intercept(&scores, TARGET_RATE)
    };
    let mut out = String::with_capacity(120 * (rows + 1));
    out.push_str(HEADER);
    out.push('\n');
    for (i, (c, s)) in customers.iter().zip(&scores).enumerate() {
        let bought = rng.bernoulli(sigmoid(s + intercept));
        let opt = |missing: bool, text: String| if missing { String::new() } else { text };
        let line = [
            format!("C{:06}", i + 1),
            c.age.to_string(),
            opt(c.gender_missing, c.gender.to_string()),
            c.region.to_string(),
            c.device.to_string(),
            opt(c.income_missing, format!("{:.2}", c.income)),
            c.membership.to_string(),
            c.tenure_months.to_string(),
            c.sessions.to_string(),
            opt(c.minutes_missing, format!("{:.1}", c.minutes)),
            c.pages.to_string(),
            opt(c.bounce_missing, format!("{:.3}", c.bounce)),
            c.previous.to_string(),
            c.days_since.map_or(String::new(), |d| d.to_string()),
            c.discounts.to_string(),
            (if bought { "yes" } else { "no" }).to_string(),
        ]
        .join(",");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Write the customer table to `path` (atomically).
pub fn write_customers(path: impl AsRef<Path>, rows: usize, seed: u64) -> Result<()> {
    let path = path.as_ref();
    let text = customers_csv(rows, seed);
    write_atomically(path, |w| {
        w.write_all(text.as_bytes())
            .map_err(|e| crate::Error::io(path, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        assert_eq!(customers_csv(500, 1), customers_csv(500, 1));
        assert_ne!(customers_csv(500, 1), customers_csv(500, 2));
    }

    #[test]
    fn positive_rate_and_missing_values_are_as_documented() {
        let csv = customers_csv(10_000, 99);
        let rows: Vec<Vec<&str>> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect();
        assert_eq!(rows.len(), 10_000);
        assert!(rows.iter().all(|r| r.len() == 16));
        let yes = rows.iter().filter(|r| r[15] == "yes").count() as f64 / 1e4;
        assert!((0.12..=0.20).contains(&yes), "positive rate {yes}");
        let missing = |j: usize| rows.iter().filter(|r| r[j].is_empty()).count() as f64 / 1e4;
        assert!((0.04..0.08).contains(&missing(5)), "income");
        assert!((0.01..0.03).contains(&missing(2)), "gender");
        assert!((0.02..0.04).contains(&missing(9)), "minutes");
        assert!((0.03..0.05).contains(&missing(11)), "bounce");
        // recency is missing exactly when there was no previous purchase
        assert!(rows.iter().all(|r| r[13].is_empty() == (r[12] == "0")));
    }
}
