//! The AWS command line's files: `~/.aws/credentials` and `~/.aws/config`
//! (or `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE`), read for the
//! profile `AWS_PROFILE` (or `default`), as the AWS tools do. Keys and a
//! region in the environment win over the files (the object_store crate
//! reads the environment itself).

use std::path::PathBuf;

use object_store::aws::AmazonS3ConfigKey;

/// The environment, as the settings read it (a map in the tests).
type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn home_file(env: Env<'_>, var: &str, default: &str) -> Option<PathBuf> {
    if let Some(p) = env(var) {
        return Some(PathBuf::from(p));
    }
    Some(PathBuf::from(env("HOME")?).join(".aws").join(default))
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
    settings_in(profile, &|k| std::env::var(k).ok())
}

fn settings_in(profile: Option<&str>, env: Env<'_>) -> Vec<(AmazonS3ConfigKey, String)> {
    let env_profile = env("AWS_PROFILE");
    let name = profile
        .or(env_profile.as_deref())
        .unwrap_or("default")
        .to_string();
    let set = |var: &str| env(var).is_some_and(|v| !v.is_empty());
    let mut out = Vec::new();
    if !set("AWS_ACCESS_KEY_ID") {
        let creds = section(
            home_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials"),
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
    for (k, v) in section(home_file(env, "AWS_CONFIG_FILE", "config"), &config_section) {
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
    use std::collections::HashMap;

    use super::*;

    /// Both files in `home/.aws`, and an environment with that HOME.
    fn files(home: &std::path::Path) -> HashMap<&'static str, String> {
        let dir = home.join(".aws");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(
            dir.join("credentials"),
            "[default]\naws_access_key_id = A\naws_secret_access_key = B\n\n[other]\naws_access_key_id=C\naws_secret_access_key=D\naws_session_token=T\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("config"),
            "[default]\nregion = eu-west-1\n[profile other]\nregion = us-west-2\nendpoint_url = http://127.0.0.1:9000\n",
        )
        .unwrap();
        HashMap::from([("HOME", home.to_string_lossy().into_owned())])
    }

    fn got(profile: Option<&str>, env: &HashMap<&str, String>) -> Vec<(String, String)> {
        settings_in(profile, &|k| env.get(k).cloned())
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_string(), v))
            .collect()
    }

    #[test]
    fn the_named_profile_of_both_files_fills_what_the_environment_does_not_give() {
        let home = tempfile::tempdir().unwrap();
        let mut env = files(home.path());
        let default = got(None, &env);
        assert_eq!(
            default,
            [
                ("aws_access_key_id", "A"),
                ("aws_secret_access_key", "B"),
                ("aws_region", "eu-west-1")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        // AWS_PROFILE picks a profile; the argument wins over it.
        env.insert("AWS_PROFILE", "other".into());
        let other = got(None, &env);
        assert!(
            other.contains(&("aws_session_token".into(), "T".into())),
            "{other:?}"
        );
        assert!(other.contains(&("aws_endpoint".into(), "http://127.0.0.1:9000".into())));
        assert_eq!(got(Some("default"), &env)[0].1, "A");
        // Keys and a region in the environment win over the files.
        env.insert("AWS_ACCESS_KEY_ID", "E".into());
        env.insert("AWS_DEFAULT_REGION", "ap-south-1".into());
        assert_eq!(
            got(None, &env),
            [(
                "aws_endpoint".to_string(),
                "http://127.0.0.1:9000".to_string()
            )]
        );
        // Files named by the environment; a missing file gives nothing.
        let env = HashMap::from([(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("none").to_string_lossy().into_owned(),
        )]);
        assert!(got(None, &env).is_empty());
    }
}
