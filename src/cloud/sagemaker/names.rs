//! Names of jobs, models and endpoints.

use chrono::Utc;

/// `base` plus a millisecond timestamp, as the SageMaker SDK names jobs
/// (`purchase-xgb-2026-11-24-10-31-02-123`), cut to `max_len` characters (63 for training
/// jobs, models and endpoints; 32 for tuning jobs, which then get a shorter stamp).
/// Characters SageMaker rejects become `-`.
///
/// ```
/// let n = purchase_predict::cloud::sagemaker::unique_name("purchase-xgb", 63);
/// assert!(n.starts_with("purchase-xgb-") && n.len() <= 63);
/// ```
pub fn unique_name(base: &str, max_len: usize) -> String {
    let now = Utc::now();
    let stamp = if max_len < 40 {
        now.format("%y%m%d-%H%M%S-%3f").to_string()
    } else {
        now.format("%Y-%m-%d-%H-%M-%S-%3f").to_string()
    };
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let clean = clean.trim_matches('-');
    let room = max_len.saturating_sub(stamp.len() + 1);
    let head: String = clean.chars().take(room).collect();
    let head = head.trim_end_matches('-');
    if head.is_empty() {
        stamp
    } else {
        format!("{head}-{stamp}")
    }
}

/// Check a job/model/endpoint name against SageMaker's pattern
/// `^[a-zA-Z0-9](-*[a-zA-Z0-9])*` and length limit.
pub fn check_name(kind: &str, name: &str, max_len: usize) -> crate::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= max_len
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(crate::Error::InvalidSetting {
            name: format!("{kind} name"),
            reason: format!(
                "`{name}`: 1-{max_len} letters, digits and hyphens, starting and ending with a letter or digit"
            ),
        })
    }
}

/// The training job of trial `number` of tuning job `tuning`, as SageMaker names a tuning
/// job's trials (`<tuning job>-NNN`, a hash after it on SageMaker); trial 0 is the defaults'.
pub(crate) fn trial_name(tuning: &str, number: usize) -> String {
    format!("{tuning}-{number:03}")
}

/// The trial number in a training job's name of tuning job `tuning` ([`trial_name`], with or
/// without SageMaker's hash after it).
pub(crate) fn trial_number(tuning: &str, job: &str) -> Option<usize> {
    job.strip_prefix(tuning)?
        .trim_start_matches('-')
        .split('-')
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_sagemaker_limits() {
        let n = unique_name(
            "a very_long base name that goes on and on and on and on",
            63,
        );
        assert!(n.len() <= 63, "{n}");
        check_name("job", &n, 63).unwrap();
        let t = unique_name("purchase-predict-tuning", 32);
        assert!(t.len() <= 32, "{t}");
        check_name("tuning job", &t, 32).unwrap();
        assert!(check_name("job", "bad_name", 63).is_err());
        assert!(check_name("job", "-x", 63).is_err());
    }

    #[test]
    fn trial_names_read_back_with_or_without_sagemakers_hash() {
        assert_eq!(trial_name("t-1", 7), "t-1-007");
        assert_eq!(trial_number("t-1", "t-1-007"), Some(7));
        assert_eq!(trial_number("t-1", "t-1-012-ab12cd34"), Some(12));
        assert_eq!(trial_number("t-1", "FakeTrainingJobName"), None);
    }
}
