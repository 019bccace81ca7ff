//! Bad input and usage: exit code 2, one message, no output; help for every subcommand.

mod common;
use common::*;

/// Every bad input: exit code 2, a one-line message naming the problem, and
/// no output written.
#[test]
fn bad_inputs_exit_2_with_a_clear_message_and_no_output() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let good = Mat::from_fn(6, 4, |i, j| (i + j) as f64 + 1.0);
    write_matrix(&dir.join("good.npy"), &Matrix::Dense(good.clone())).unwrap();
    let npy = std::fs::read(dir.join("good.npy")).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let with = |v: f64| {
        let mut m = good.clone();
        m.set(2, 1, v);
        m
    };
    for (name, m) in [
        ("nan.npy", with(f64::NAN)),
        ("inf.npy", with(f64::INFINITY)),
        ("neg.npy", with(-3.0)),
    ] {
        write_matrix(&dir.join(name), &Matrix::Dense(m)).unwrap();
    }
    let cases: Vec<(PathBuf, Vec<&str>, &str)> = vec![
        (
            write("truncated.npy", &npy[..npy.len() - 20]),
            vec![],
            "truncated",
        ),
        (
            write("corrupt.npy", b"this is not numpy at all, just text"),
            vec![],
            "not a valid .npy",
        ),
        (
            write("text.csv", b"1,2,3\n4,abc,6\n"),
            vec![],
            "'abc' is not a number",
        ),
        (write("ragged.csv", b"1,2,3\n4,5\n"), vec![], "expected 3"),
        (
            write(
                "range.mtx",
                b"%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1.0\n4 2 2.0\n",
            ),
            vec![],
            "out of range",
        ),
        (
            write(
                "count.mtx",
                b"%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 1.0\n2 2 2.0\n",
            ),
            vec![],
            "announces 3 entries",
        ),
        (write("empty.npy", b""), vec![], "empty"),
        (
            write("keys.npz", &zip_with("other", &npy)),
            vec![],
            "expected a scipy.sparse archive",
        ),
        (dir.join("nan.npy"), vec![], "non-finite"),
        (dir.join("inf.npy"), vec![], "non-finite"),
        (dir.join("neg.npy"), vec![], "negative"),
        (dir.join("missing.npy"), vec![], "no such file"),
        (dir.join("good.npy"), vec!["--rank", "0"], "rank"),
        (
            dir.join("good.npy"),
            vec!["--rank", "5", "--init", "nndsvd"],
            "too large",
        ),
        (
            dir.join("good.npy"),
            vec!["--solver", "cd", "--loss", "kl"],
            "does not support",
        ),
        (dir.join("good.npy"), vec!["--loss", "banana"], "banana"),
        (
            dir.join("good.npy"),
            vec!["--solver", "ccd"],
            "use solver auto, hals, anls, cd or mu",
        ),
        (
            dir.join("good.npy"),
            vec!["--extrapolate", "off"],
            "auto decides extrapolation",
        ),
    ];
    for (i, (input, extra, needle)) in cases.iter().enumerate() {
        let out_dir = dir.join(format!("out{i}"));
        let mut args = vec![
            "fit".to_string(),
            input.to_string_lossy().into_owned(),
            "--out".into(),
            out_dir.to_string_lossy().into_owned(),
            "-q".into(),
        ];
        if !extra.contains(&"--rank") {
            args.extend(["--rank".into(), "2".into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = nmfkit(&argv);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(2),
            "case {i} ({}): {err}",
            input.display()
        );
        assert!(
            err.contains(needle),
            "case {i}: message '{err}' should mention '{needle}'"
        );
        assert_eq!(
            err.trim().lines().count(),
            1,
            "case {i}: one line, no backtrace: {err}"
        );
        let leftovers = std::fs::read_dir(&out_dir).map(|r| r.count()).unwrap_or(0);
        assert_eq!(leftovers, 0, "case {i}: output written despite the error");
    }
    // The npz case must name the keys it expected.
    let o = nmfkit(&[
        "fit",
        &p(dir, "keys.npz"),
        "--rank",
        "2",
        "--out",
        &p(dir, "o"),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    // Usage errors from clap are exit code 2 as well.
    assert_eq!(nmfkit(&["fit"]).status.code(), Some(2));
}

#[test]
fn every_subcommand_has_help_and_json() {
    for sub in [
        "fit",
        "transform",
        "eval",
        "plot",
        "demo",
        "gen",
        "rank",
        "impute",
    ] {
        let o = ok(&[sub, "--help"]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("Example"), "{sub} --help has examples");
        assert!(text.contains("--quiet"), "{sub} has --quiet");
    }
    let o = ok(&["top", "--help"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Example"));
    let d = tempfile::tempdir().unwrap();
    let o = ok(&["gen", "swimmer", "--out", &p(d.path(), "s.npy"), "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["shape"], serde_json::json!([256, 1024]));
}
