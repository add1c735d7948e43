//! Outputs written to object storage, errors, and the settings that
//! reach a store.

use super::*;

#[test]
#[ignore = "needs the S3 server of scripts/test_s3.sh"]
fn run_directories_and_selections_are_uploaded_whole() {
    let b = Bucket::new("runs");
    let tmp = tempfile::tempdir().unwrap();
    let csv = root().join("data/customers/unlabeled.csv");
    let local = tmp.path().join("local");
    ok(&gmm(&fit_args(s(&csv), s(&local), &[])));
    let out = b.url("run");
    let shown = ok(&gmm(&fit_args(s(&csv), &out, &[])));
    assert!(
        shown.contains(&format!("run directory        {out}")),
        "{shown}"
    );
    for f in ["model.json", "predictions.parquet", "trace.csv", "run.json"] {
        let got = tmp.path().join(f);
        b.get(&format!("run/{f}"), &got);
        if f != "run.json" && f != "model.json" {
            same_file(&local.join(f), &got);
        }
    }
    let run = {
        let p = tmp.path().join("run.json");
        b.get("run/run.json", &p);
        read_json(&p)
    };
    assert_eq!(
        run["settings"]["output"]["dir"],
        out.as_str(),
        "{}",
        run["settings"]["output"]
    );
    assert!(
        run.to_string()
            .contains(&format!("{out}/predictions.parquet"))
    );
    assert!(!run.to_string().contains(".gmm-upload-"), "{run}");
    // With plots now: the pictures appear; without, they are retired.
    ok(&gmm(&["fit", "--input", s(&csv), "-k", "2", "--out", &out]));
    assert!(b.exists("run/clusters.svg"));
    ok(&gmm(&fit_args(s(&csv), &out, &[])));
    assert!(!b.exists("run/clusters.svg"));
    // gmm select: the table and the winner's run directory.
    let sel = b.url("select");
    ok(&gmm(&[
        "select",
        "--input",
        s(&csv),
        "-k",
        "1..3",
        "--no-plots",
        "--out",
        &sel,
    ]));
    assert!(b.exists("select/selection.csv"));
    assert!(b.exists("select/winner/model.json"));
    // The model in the bucket serves predict, score and inspect as the
    // local one does.
    let remote_model = format!("{out}/model.json");
    let (p1, p2) = (tmp.path().join("p1.csv"), tmp.path().join("p2.csv"));
    let local_model = local.join("model.json");
    for (m, p) in [(s(&local_model), &p1), (remote_model.as_str(), &p2)] {
        ok(&gmm(&[
            "predict",
            "--model",
            m,
            "--input",
            s(&csv),
            "--out",
            s(p),
        ]));
    }
    same_file(&p1, &p2);
    let shown = ok(&gmm(&["inspect", &remote_model]));
    assert!(shown.contains("full"), "{shown}");
    fails(
        &gmm(&[
            "score",
            "--model",
            &b.url("nothere/model.json"),
            "--input",
            s(&csv),
        ]),
        1,
        &["no such object"],
    );
    // gmm sample: the same rows as a local file.
    let model = local.join("model.json");
    let sampled = tmp.path().join("sampled.parquet");
    let args = |out: &str| -> Vec<String> {
        [
            "sample",
            "--model",
            s(&model),
            "-n",
            "500",
            "--seed",
            "3",
            "--out",
            out,
        ]
        .map(str::to_string)
        .to_vec()
    };
    let run = |out: &str| {
        let a = args(out);
        gmm(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    ok(&run(s(&sampled)));
    ok(&run(&b.url("sampled.parquet")));
    let fetched = tmp.path().join("fetched.parquet");
    b.get("sampled.parquet", &fetched);
    same_file(&sampled, &fetched);
    // Checkpoints need a local run directory.
    fails(
        &gmm(&[
            "fit",
            "--input",
            s(&csv),
            "-k",
            "2",
            "--checkpoint",
            "5",
            "--out",
            &out,
        ]),
        2,
        &["--checkpoint and --resume need a local --out"],
    );
}

#[test]
#[ignore = "needs the S3 server of scripts/test_s3.sh"]
fn missing_objects_and_bad_credentials_are_one_line_errors_and_write_nothing() {
    let b = Bucket::new("errors");
    let tmp = tempfile::tempdir().unwrap();
    let csv = root().join("data/customers/unlabeled.csv");
    let url = b.put(&csv, "x.csv");
    let out = tmp.path().join("out");
    let missing = b.url("nothere.csv");
    fails(
        &gmm(&fit_args(&missing, s(&out), &[])),
        1,
        &[&missing, "no such object; check the URL"],
    );
    let dir = b.url("nodir/");
    fails(
        &gmm(&fit_args(&dir, s(&out), &[])),
        1,
        &["no .parquet objects under it"],
    );
    let glob = b.url("*.parquet");
    fails(&gmm(&fit_args(&glob, s(&out), &[])), 1, &["no files match"]);
    fails(
        &gmm(&fit_args("s3://no-such-bucket-gmm/x.csv", s(&out), &[])),
        1,
        &["bucket does not exist"],
    );
    let denied = |extra_env: &[(&str, &str)], args: &[&str]| {
        let mut env = vec![("GMM_LOG_FORMAT", "none")];
        env.extend_from_slice(extra_env);
        gmm_with_env(args, &env)
    };
    let wrong = [("AWS_SECRET_ACCESS_KEY", "wrong")];
    fails(
        &denied(&wrong, &fit_args(&url, s(&out), &[])),
        1,
        &[&url, "access denied", "check the credentials"],
    );
    let unknown = [("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNUNKNOWN00")];
    fails(
        &denied(&unknown, &fit_args(&url, s(&out), &[])),
        1,
        &["access denied"],
    );
    assert!(!out.exists(), "nothing written");
    // An output that cannot be uploaded: no object, no local file.
    let local_model = tmp.path().join("m");
    ok(&gmm(&fit_args(s(&csv), s(&local_model), &[])));
    let model = local_model.join("model.json");
    let target = b.url("denied/p.parquet");
    fails(
        &denied(
            &wrong,
            &[
                "predict",
                "--model",
                s(&model),
                "--input",
                s(&csv),
                "--out",
                &target,
            ],
        ),
        1,
        &["access denied"],
    );
    assert!(!b.exists("denied/p.parquet"));
    fails(
        &gmm(&[
            "predict",
            "--model",
            s(&model),
            "--input",
            s(&csv),
            "--out",
            "s3://no-such-bucket-gmm/p.parquet",
        ]),
        1,
        &["bucket does not exist"],
    );
    // An output over its input is refused before any work.
    fails(
        &gmm(&[
            "predict",
            "--model",
            s(&model),
            "--input",
            &url,
            "--out",
            &url,
        ]),
        2,
        &["would replace the input"],
    );
    // A server that is not there: an error within seconds, not a hang.
    let started = std::time::Instant::now();
    fails(
        &denied(
            &[("AWS_ENDPOINT_URL", "http://127.0.0.1:9")],
            &fit_args(&url, s(&out), &[]),
        ),
        1,
        &["cannot reach the server", "check the endpoint"],
    );
    assert!(started.elapsed().as_secs() < 60);
}

#[test]
#[ignore = "needs the S3 server of scripts/test_s3.sh"]
fn the_storage_section_and_the_aws_files_give_the_endpoint_and_keys() {
    let b = Bucket::new("settings");
    let tmp = tempfile::tempdir().unwrap();
    let csv = root().join("data/customers/unlabeled.csv");
    let url = b.put(&csv, "x.csv");
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let key = std::env::var("AWS_ACCESS_KEY_ID").unwrap();
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap();
    // The keys from ~/.aws/credentials's profile, the endpoint from the
    // config's [storage], nothing from the environment.
    let creds = tmp.path().join("credentials");
    std::fs::write(
        &creds,
        format!("[default]\naws_access_key_id = nope\n\n[gmm]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    let config = tmp.path().join("job.toml");
    std::fs::write(
        &config,
        format!("[data]\ninput = \"{url}\"\n\n[model]\ncomponents = 2\n\n[storage]\nendpoint = \"{endpoint}\"\nprofile = \"gmm\"\n"),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let run = |extra: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gmm"));
        cmd.args(["fit", s(&config), "--no-plots", "--out", s(&out)])
            .env("GMM_LOG_FORMAT", "none")
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
            .env("AWS_CONFIG_FILE", tmp.path().join("none"))
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .envs(extra.iter().copied());
        cmd.output().unwrap()
    };
    ok(&run(&[]));
    assert!(out.join("model.json").exists());
    std::fs::remove_dir_all(&out).unwrap();
    // The config's `profile` wins over AWS_PROFILE.
    ok(&run(&[("AWS_PROFILE", "default")]));
    std::fs::remove_dir_all(&out).unwrap();
    // Anonymous requests to a private bucket are refused (moto answers
    // 500 where AWS answers 403).
    std::fs::write(
        &config,
        format!("[data]\ninput = \"{url}\"\n\n[model]\ncomponents = 2\n\n[storage]\nendpoint = \"{endpoint}\"\nanonymous = true\n"),
    )
    .unwrap();
    fails(&run(&[]), 1, &[&url]);
    assert!(!out.exists());
    // An unknown key of [storage] is refused with the closest one.
    std::fs::write(&config, "[storage]\nendpiont = \"x\"\n").unwrap();
    fails(&run(&[]), 2, &["endpiont", "endpoint"]);
}
