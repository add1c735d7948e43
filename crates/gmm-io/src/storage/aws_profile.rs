//! The AWS command line's files: `~/.aws/credentials` and `~/.aws/config`
//! (or `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE`), read for the
//! profile `AWS_PROFILE` (or `default`), as the AWS tools do. Keys and a
//! region in the environment win over the files (the object_store crate
//! reads the environment itself).

use std::path::PathBuf;

use object_store::aws::AmazonS3ConfigKey;

fn home_file(var: &str, default: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME")?;
    Some(PathBuf::from(home).join(".aws").join(default))
}

fn section(path: Option<PathBuf>, name: &str) -> Vec<(String, String)> {
    let Some(ini) = path.and_then(|p| ini::Ini::load_from_file(p).ok()) else {
        return Vec::new();
    };
    ini.section(Some(name))
        .map(|s| {
            s.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The settings of the profile (`profile`, else `AWS_PROFILE`, else
/// `default`) that the environment does not give.
pub(crate) fn settings(profile: Option<&str>) -> Vec<(AmazonS3ConfigKey, String)> {
    let env_profile = std::env::var("AWS_PROFILE").ok();
    let name = profile
        .or(env_profile.as_deref())
        .unwrap_or("default")
        .to_string();
    let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty());
    let mut out = Vec::new();
    if !set("AWS_ACCESS_KEY_ID") {
        let creds = section(
            home_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            &name,
        );
        for (k, v) in creds {
            let key = match k.as_str() {
                "aws_access_key_id" => AmazonS3ConfigKey::AccessKeyId,
                "aws_secret_access_key" => AmazonS3ConfigKey::SecretAccessKey,
                "aws_session_token" => AmazonS3ConfigKey::Token,
                _ => continue,
            };
            out.push((key, v));
        }
    }
    // The config file names its profiles `[profile NAME]`, but `[default]`.
    let config_section = if name == "default" {
        name.clone()
    } else {
        format!("profile {name}")
    };
    for (k, v) in section(home_file("AWS_CONFIG_FILE", "config"), &config_section) {
        let (key, var) = match k.as_str() {
            "region" => (AmazonS3ConfigKey::Region, "AWS_REGION"),
            "endpoint_url" => (AmazonS3ConfigKey::Endpoint, "AWS_ENDPOINT_URL"),
            _ => continue,
        };
        let in_env = set(var) || (var == "AWS_REGION" && set("AWS_DEFAULT_REGION"));
        if !in_env {
            out.push((key, v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_named_profile_of_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("credentials");
        let config = dir.path().join("config");
        std::fs::write(
            &creds,
            "[default]\naws_access_key_id = A\naws_secret_access_key = B\n\n[other]\naws_access_key_id=C\naws_secret_access_key=D\n",
        )
        .unwrap();
        std::fs::write(
            &config,
            "[default]\nregion = eu-west-1\n[profile other]\nregion = us-west-2\n",
        )
        .unwrap();
        let got = |profile| {
            let sc = section(Some(creds.clone()), profile);
            let cf = section(
                Some(config.clone()),
                &if profile == "default" {
                    profile.to_string()
                } else {
                    format!("profile {profile}")
                },
            );
            (sc, cf)
        };
        let (c, f) = got("other");
        assert_eq!(
            c,
            vec![
                ("aws_access_key_id".into(), "C".into()),
                ("aws_secret_access_key".into(), "D".into())
            ]
        );
        assert_eq!(f, vec![("region".into(), "us-west-2".into())]);
        let (c, f) = got("default");
        assert_eq!(c[0].1, "A");
        assert_eq!(f[0].1, "eu-west-1");
        assert!(section(Some(dir.path().join("none")), "default").is_empty());
    }
}
