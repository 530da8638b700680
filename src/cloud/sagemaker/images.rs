//! The container images of SageMaker's built-in XGBoost algorithm.

use crate::error::{ensure, Error, Result};

/// ECR accounts that host `sagemaker-xgboost` (versions 0.90-1 to 1.7-1), by region, as in
/// the SageMaker Python SDK's `image_uri_config/xgboost.json`.
pub const XGBOOST_REGISTRIES: &[(&str, &str)] = &[
    ("af-south-1", "510948584623"),
    ("ap-east-1", "651117190479"),
    ("ap-northeast-1", "354813040037"),
    ("ap-northeast-2", "366743142698"),
    ("ap-northeast-3", "867004704886"),
    ("ap-south-1", "720646828776"),
    ("ap-south-2", "628508329040"),
    ("ap-southeast-1", "121021644041"),
    ("ap-southeast-2", "783357654285"),
    ("ap-southeast-3", "951798379941"),
    ("ap-southeast-4", "106583098589"),
    ("ca-central-1", "341280168497"),
    ("ca-west-1", "190319476487"),
    ("cn-north-1", "450853457545"),
    ("cn-northwest-1", "451049120500"),
    ("eu-central-1", "492215442770"),
    ("eu-central-2", "680994064768"),
    ("eu-north-1", "662702820516"),
    ("eu-south-1", "978288397137"),
    ("eu-south-2", "104374241257"),
    ("eu-west-1", "141502667606"),
    ("eu-west-2", "764974769150"),
    ("eu-west-3", "659782779980"),
    ("il-central-1", "898809789911"),
    ("me-central-1", "272398656194"),
    ("me-south-1", "801668240914"),
    ("sa-east-1", "737474898029"),
    ("us-east-1", "683313688378"),
    ("us-east-2", "257758044811"),
    ("us-gov-east-1", "237065988967"),
    ("us-gov-west-1", "414596584902"),
    ("us-west-1", "746614075791"),
    ("us-west-2", "246618743249"),
];

/// Versions of the built-in XGBoost image this table covers.
pub const XGBOOST_VERSIONS: &[&str] = &[
    "0.90-1", "0.90-2", "1.0-1", "1.2-1", "1.2-2", "1.3-1", "1.5-1", "1.7-1",
];

/// The image URI of a built-in algorithm, as the Python SDK's `image_uris.retrieve`.
/// Only `xgboost` is known here.
///
/// ```
/// use purchase_predict::cloud::sagemaker::image_uri;
/// assert_eq!(
///     image_uri("xgboost", "eu-west-1", "1.7-1").unwrap(),
///     "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
/// );
/// ```
pub fn image_uri(framework: &str, region: &str, version: &str) -> Result<String> {
    ensure!(framework == "xgboost", setting "framework", "`{framework}`: only the built-in `xgboost` image is known");
    ensure!(XGBOOST_VERSIONS.contains(&version), setting "version", "XGBoost image version `{version}` is unknown; known: {}",
                XGBOOST_VERSIONS.join(", "));
    let account = XGBOOST_REGISTRIES
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, a)| *a)
        .ok_or_else(|| Error::InvalidSetting {
            name: "region".into(),
            reason: format!("no SageMaker XGBoost image is known for region `{region}`"),
        })?;
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    Ok(format!(
        "{account}.dkr.ecr.{region}.{domain}/sagemaker-xgboost:{version}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_regions_give_the_published_uris() {
        for (region, uri) in [
            (
                "us-east-1",
                "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            ),
            (
                "eu-west-1",
                "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            ),
            (
                "us-west-2",
                "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1",
            ),
            (
                "ap-southeast-2",
                "783357654285.dkr.ecr.ap-southeast-2.amazonaws.com/sagemaker-xgboost:1.7-1",
            ),
            (
                "cn-north-1",
                "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1",
            ),
        ] {
            assert_eq!(image_uri("xgboost", region, "1.7-1").unwrap(), uri);
        }
    }

    #[test]
    fn unknown_inputs_are_named() {
        let e = image_uri("xgboost", "mars-north-1", "1.7-1").unwrap_err();
        assert!(e.to_string().contains("mars-north-1"), "{e}");
        let e = image_uri("xgboost", "us-east-1", "9.9-9").unwrap_err();
        assert!(e.to_string().contains("9.9-9"), "{e}");
        let e = image_uri("linear-learner", "us-east-1", "1").unwrap_err();
        assert!(e.to_string().contains("linear-learner"), "{e}");
    }
}
