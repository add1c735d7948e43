//! Outputs that would land on inputs: a predictions file written over the
//! table it predicts, a run directory inside a Parquet dataset's directory
//! (whose next read would take the predictions for data), an input file
//! that a run directory's outputs would replace. Checked before any work.

use std::path::{Component, Path, PathBuf};

/// `p` made absolute and without `.`, `..` or symbolic links in the part
/// that exists (the rest, not yet created, is appended as written).
pub fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut existing = joined.clone();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                if part == ".." {
                    out.pop();
                } else if part != "." {
                    out.push(part);
                }
            }
            return out;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => {
                // Only `..` components left unresolved: keep them lexically.
                let mut out = PathBuf::new();
                for c in joined.components() {
                    match c {
                        Component::ParentDir => {
                            out.pop();
                        }
                        Component::CurDir => {}
                        other => out.push(other),
                    }
                }
                return out;
            }
        }
    }
}

/// [`check_output`] where the output or the input is a URL: only URLs can
/// overlap URLs, compared as text (a glob by its literal directory).
fn check_urls(output: &Output<'_>, out: &str, input: &str, both: bool) -> Result<(), String> {
    if !both {
        return Ok(());
    }
    let out = out.trim_end_matches('/');
    let literal = match input.find(['*', '?', '[']) {
        Some(g) => &input[..input[..g].rfind('/').unwrap_or(g)],
        None => input,
    };
    let input_dir = literal.trim_end_matches('/');
    let written: Vec<String> = match output {
        Output::File(_) => vec![out.to_string()],
        Output::Directory { names, .. } => names.iter().map(|n| format!("{out}/{n}")).collect(),
    };
    if written.iter().any(|w| w == input_dir) {
        return Err(format!(
            "{out} would replace the input {input}: write the output elsewhere"
        ));
    }
    if written
        .iter()
        .any(|w| w.starts_with(&format!("{input_dir}/")))
    {
        return Err(format!(
            "{out} is inside the input {input}; its objects would be read as data next time: write it elsewhere"
        ));
    }
    Ok(())
}

/// What an output is: one file, or a run directory holding files of the
/// names `names` (and files starting with `prefixes`).
pub enum Output<'a> {
    File(&'a Path),
    Directory {
        path: &'a Path,
        names: &'a [&'a str],
    },
}

/// Refuses an output that is an input, lies inside an input's directory
/// (a Parquet dataset, or where a glob looks), or would replace an input
/// file. `input` is as given: a file, a directory or a glob. The error
/// says which input and what to do.
pub fn check_output(output: Output<'_>, input: &str) -> Result<(), String> {
    let out_text = match &output {
        Output::File(p) | Output::Directory { path: p, .. } => p.to_string_lossy().into_owned(),
    };
    let (out_url, in_url) = (
        crate::storage::is_url(&out_text),
        crate::storage::is_url(input),
    );
    if out_url || in_url {
        return check_urls(&output, &out_text, input, out_url && in_url);
    }
    let out = match &output {
        Output::File(p) | Output::Directory { path: p, .. } => absolute(p),
    };
    let shown = match &output {
        Output::File(p) | Output::Directory { path: p, .. } => p.display().to_string(),
    };
    let input_path = Path::new(input);
    let mut files: Vec<PathBuf> = Vec::new();
    if input_path.is_dir() {
        let dir = absolute(input_path);
        if out.starts_with(&dir) {
            return Err(format!(
                "{shown} is inside the input directory {input}; its files would be read as data next time: write it elsewhere"
            ));
        }
    } else if input_path.exists() {
        files.push(absolute(input_path));
    } else if input.contains(['*', '?', '[']) {
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..Default::default()
        };
        if let Ok(pattern) = glob::Pattern::new(&absolute(input_path).to_string_lossy()) {
            let written: Vec<PathBuf> = match &output {
                Output::File(_) => vec![out.clone()],
                Output::Directory { names, .. } => names.iter().map(|n| out.join(n)).collect(),
            };
            if let Some(w) = written
                .iter()
                .find(|w| pattern.matches_path_with(w, options))
            {
                return Err(format!(
                    "{shown} would write {} where the input pattern {input} reads; write it elsewhere",
                    w.display()
                ));
            }
        }
        if let Ok(paths) = glob::glob(input) {
            files.extend(paths.flatten().map(|p| absolute(&p)));
        }
    }
    for f in &files {
        let clash = match &output {
            Output::File(_) => *f == out,
            Output::Directory { names, .. } => *f == out || names.iter().any(|n| out.join(n) == *f),
        };
        if clash {
            return Err(format!(
                "{shown} would write over the input {}; write it elsewhere",
                f.display()
            ));
        }
        if out.starts_with(f) && *f != out {
            return Err(format!(
                "{shown} lies under the input file {}; write it elsewhere",
                f.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_on_inputs_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.csv"), "x\n1\n").unwrap();
        std::fs::create_dir(d.join("set")).unwrap();
        std::fs::write(d.join("set/part-0.parquet"), "").unwrap();
        let a = d.join("a.csv");
        let a_text = a.to_str().unwrap();
        // The same file, also through `..` and a not-yet-existing path.
        assert!(check_output(Output::File(&a), a_text).is_err());
        let round = d.join("set/../a.csv");
        assert!(check_output(Output::File(&round), a_text).is_err());
        assert!(check_output(Output::File(&d.join("b.csv")), a_text).is_ok());
        // Inside a dataset directory.
        let set = d.join("set");
        let names = ["model.json", "predictions.parquet"];
        let run = d.join("set/run");
        let err = check_output(
            Output::Directory {
                path: &run,
                names: &names,
            },
            set.to_str().unwrap(),
        );
        assert!(err.unwrap_err().contains("inside the input directory"));
        let run = d.join("run");
        assert!(
            check_output(
                Output::Directory {
                    path: &run,
                    names: &names
                },
                set.to_str().unwrap()
            )
            .is_ok()
        );
        // A run directory whose outputs would replace the input.
        std::fs::create_dir(d.join("run")).unwrap();
        std::fs::write(d.join("run/predictions.parquet"), "").unwrap();
        let input = d.join("run/predictions.parquet");
        assert!(
            check_output(
                Output::Directory {
                    path: &run,
                    names: &names
                },
                input.to_str().unwrap()
            )
            .is_err()
        );
        // A glob that would read what is written.
        let pattern = format!("{}/*.parquet", d.display());
        let out = d.join("new.parquet");
        assert!(check_output(Output::File(&out), &pattern).is_err());
        assert!(check_output(Output::File(&d.join("new.csv")), &pattern).is_ok());
        // Under a file.
        assert!(check_output(Output::File(&d.join("a.csv/x")), a_text).is_err());
    }
}
