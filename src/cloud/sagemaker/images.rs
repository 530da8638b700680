//! The container images of SageMaker's built-in XGBoost algorithm.

use crate::error::{ensure, Error, Result};

/// ECR accounts that host `sagemaker-xgboost` (every version from 0.90-1 on), by region.
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
    ("us-iso-east-1", "833128469047"),
    ("us-isob-east-1", "281123927165"),
    ("us-isof-east-1", "108575199400"),
    ("us-isof-south-1", "124985052026"),
    ("us-west-1", "746614075791"),
    ("us-west-2", "246618743249"),
];

/// ECR accounts that host version `1` (repository `xgboost`, the first-generation image), by region.
pub const XGBOOST_1_REGISTRIES: &[(&str, &str)] = &[
    ("af-south-1", "455444449433"),
    ("ap-east-1", "286214385809"),
    ("ap-northeast-1", "501404015308"),
    ("ap-northeast-2", "306986355934"),
    ("ap-northeast-3", "867004704886"),
    ("ap-south-1", "991648021394"),
    ("ap-south-2", "628508329040"),
    ("ap-southeast-1", "475088953585"),
    ("ap-southeast-2", "544295431143"),
    ("ap-southeast-3", "951798379941"),
    ("ap-southeast-4", "106583098589"),
    ("ca-central-1", "469771592824"),
    ("cn-north-1", "390948362332"),
    ("cn-northwest-1", "387376663083"),
    ("eu-central-1", "813361260812"),
    ("eu-central-2", "680994064768"),
    ("eu-north-1", "669576153137"),
    ("eu-south-1", "257386234256"),
    ("eu-south-2", "104374241257"),
    ("eu-west-1", "685385470294"),
    ("eu-west-2", "644912444149"),
    ("eu-west-3", "749696950732"),
    ("me-central-1", "272398656194"),
    ("me-south-1", "249704162688"),
    ("sa-east-1", "855470959533"),
    ("us-east-1", "811284229777"),
    ("us-east-2", "825641698319"),
    ("us-gov-east-1", "237065988967"),
    ("us-gov-west-1", "226302683700"),
    ("us-iso-east-1", "490574956308"),
    ("us-isob-east-1", "765400339828"),
    ("us-west-1", "632365934929"),
    ("us-west-2", "433757028032"),
];

/// Versions of the built-in XGBoost image, as the SageMaker Python SDK's
/// `image_uri_config/xgboost.json` lists them (training and inference alike); `latest` is `1`.
pub const XGBOOST_VERSIONS: &[&str] = &[
    "1", "0.90-1", "0.90-2", "1.0-1", "1.2-1", "1.2-2", "1.3-1", "1.5-1", "1.7-1", "3.0-5", "3.2-0",
];

/// Versions whose image tag carries the processor and Python version (`0.90-1-cpu-py3`).
const CPU_PY3_VERSIONS: &[&str] = &["0.90-1", "0.90-2", "1.0-1"];

/// Regions outside the `amazonaws.com` domain (the SDK's `ALTERNATE_DOMAINS`).
const ALTERNATE_DOMAINS: &[(&str, &str)] = &[
    ("cn-north-1", "amazonaws.com.cn"),
    ("cn-northwest-1", "amazonaws.com.cn"),
    ("us-iso-east-1", "c2s.ic.gov"),
    ("us-isob-east-1", "sc2s.sgov.gov"),
    ("us-isof-east-1", "csp.hci.ic.gov"),
    ("us-isof-south-1", "csp.hci.ic.gov"),
];

/// The image URI of a built-in algorithm, as the Python SDK's `image_uris.retrieve` builds
/// it (CPU instances). Only `xgboost` is known here.
///
/// ```
/// use purchase_predict::cloud::sagemaker::image_uri;
/// assert_eq!(
///     image_uri("xgboost", "eu-west-1", "1.7-1").unwrap(),
///     "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
/// );
/// assert_eq!(
///     image_uri("xgboost", "eu-west-1", "1.0-1").unwrap(),
///     "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3"
/// );
/// ```
pub fn image_uri(framework: &str, region: &str, version: &str) -> Result<String> {
    ensure!(framework == "xgboost", setting "framework", "`{framework}`: only the built-in `xgboost` image is known");
    let version = if version == "latest" { "1" } else { version };
    ensure!(XGBOOST_VERSIONS.contains(&version), setting "version", "XGBoost image version `{version}` is unknown; known: {}",
                XGBOOST_VERSIONS.join(", "));
    let (registries, repository) = if version == "1" {
        (XGBOOST_1_REGISTRIES, "xgboost")
    } else {
        (XGBOOST_REGISTRIES, "sagemaker-xgboost")
    };
    let account = registries
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, a)| *a)
        .ok_or_else(|| Error::InvalidSetting {
            name: "region".into(),
            reason: format!("no SageMaker XGBoost {version} image is known for region `{region}`"),
        })?;
    let domain = ALTERNATE_DOMAINS
        .iter()
        .find(|(r, _)| *r == region)
        .map_or("amazonaws.com", |(_, d)| *d);
    let suffix = if CPU_PY3_VERSIONS.contains(&version) {
        "-cpu-py3"
    } else {
        ""
    };
    Ok(format!(
        "{account}.dkr.ecr.{region}.{domain}/{repository}:{version}{suffix}"
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
    fn the_sdk_table_gives_suffixes_the_first_generation_and_iso_regions() {
        for (region, version, uri) in [
            (
                "us-east-1",
                "0.90-1",
                "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:0.90-1-cpu-py3",
            ),
            (
                "us-east-1",
                "0.90-2",
                "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:0.90-2-cpu-py3",
            ),
            (
                "us-east-1",
                "1.2-1",
                "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.2-1",
            ),
            (
                "us-east-1",
                "1",
                "811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
            ),
            (
                "eu-west-1",
                "latest",
                "685385470294.dkr.ecr.eu-west-1.amazonaws.com/xgboost:1",
            ),
            (
                "us-west-2",
                "3.0-5",
                "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:3.0-5",
            ),
            (
                "us-iso-east-1",
                "1.7-1",
                "833128469047.dkr.ecr.us-iso-east-1.c2s.ic.gov/sagemaker-xgboost:1.7-1",
            ),
            (
                "us-isob-east-1",
                "1.7-1",
                "281123927165.dkr.ecr.us-isob-east-1.sc2s.sgov.gov/sagemaker-xgboost:1.7-1",
            ),
            (
                "us-isof-south-1",
                "1.7-1",
                "124985052026.dkr.ecr.us-isof-south-1.csp.hci.ic.gov/sagemaker-xgboost:1.7-1",
            ),
        ] {
            assert_eq!(
                image_uri("xgboost", region, version).unwrap(),
                uri,
                "{region} {version}"
            );
        }
        // Version 1 is not published in every region that has the newer images.
        let e = image_uri("xgboost", "il-central-1", "1").unwrap_err();
        assert!(e.to_string().contains("il-central-1"), "{e}");
        assert!(image_uri("xgboost", "il-central-1", "1.7-1").is_ok());
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
