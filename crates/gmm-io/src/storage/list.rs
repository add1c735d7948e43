//! What a URL names: one object, every Parquet object under a prefix (a
//! dataset's "directory", hidden and `_`-prefixed keys skipped), or the
//! objects a glob of keys matches.

use std::path::Path;
use std::sync::Arc;

use futures_util::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use url::Url;

use super::ObjectStorage;
use super::remote::{RemoteObject, base_of, block_on, object_error, store_of};
use crate::error::{IoError, Result};
use crate::format::InputFormat;

/// Where a glob's pattern begins in a URL's text: its first `*`, `?` or
/// `[` after the scheme.
fn glob_start(text: &str) -> Option<usize> {
    let after = text.find("://")? + 3;
    text[after..].find(['*', '?', '[']).map(|i| after + i)
}

fn listed(
    base: &str,
    store: &Arc<dyn ObjectStore>,
    meta: object_store::ObjectMeta,
) -> RemoteObject {
    RemoteObject {
        url: format!("{base}/{}", meta.location),
        store: store.clone(),
        size: meta.size,
        version: format!(
            "{} {}",
            meta.e_tag.as_deref().unwrap_or(""),
            meta.last_modified.timestamp_nanos_opt().unwrap_or(0)
        ),
        location: meta.location,
    }
}

/// Whether a key below a directory is data: no hidden or `_`-prefixed
/// component (`_SUCCESS`, `.crc` files, temporary directories), and a
/// Parquet file.
fn dataset_file(rest: &str) -> bool {
    !rest.split('/').any(|c| c.starts_with(['.', '_']))
        && matches!(
            InputFormat::from_path(Path::new(rest)),
            Ok(InputFormat::Parquet)
        )
}

/// The objects `text` names, sorted by key: one object; every Parquet
/// object under a prefix (a "directory"); or those a glob matches (a
/// directory it matches gives its Parquet objects). Also the URL where
/// partition directories begin (`None` for one object).
pub(crate) fn list(
    text: &str,
    storage: &ObjectStorage,
) -> Result<(Vec<RemoteObject>, Option<String>)> {
    if text.contains('?')
        && text
            .split_once("://")
            .is_some_and(|(s, _)| s.starts_with("http"))
    {
        return Err(IoError::read(
            text,
            "query strings (presigned or SAS URLs) are not supported; give the object's plain URL and the credentials through the environment",
        ));
    }
    let glob = glob_start(text);
    let literal = match glob {
        // The directory holding the first pattern.
        Some(g) => &text[..text[..g].rfind('/').map_or(g, |i| i + 1)],
        None => text,
    };
    let url =
        Url::parse(literal).map_err(|e| IoError::read(text, format!("not a valid URL ({e})")))?;
    let (store, path) = store_of(&url, storage)?;
    let base = base_of(&url, &path);
    let list_under = |prefix: &ObjectPath| -> Result<Vec<object_store::ObjectMeta>> {
        let prefix = (!prefix.as_ref().is_empty()).then_some(prefix);
        let mut all: Vec<object_store::ObjectMeta> =
            block_on(store.list(prefix).try_collect::<Vec<_>>())
                .map_err(|e| object_error(text, &e))?;
        // Part by part, as local files are sorted: `eu/` before `eu-west/`.
        all.sort_by(|a, b| a.location.parts().cmp(b.location.parts()));
        Ok(all)
    };
    if glob.is_some() {
        // The key's pattern: the literal directory's path, then the rest
        // as typed.
        let key_pattern = match path.as_ref() {
            "" => text[literal.len()..].to_string(),
            dir => format!("{dir}/{}", &text[literal.len()..]),
        };
        let pattern = glob::Pattern::new(&key_pattern)
            .map_err(|e| IoError::read(text, format!("bad glob pattern: {e}")))?;
        let opts = glob::MatchOptions {
            require_literal_separator: true,
            ..Default::default()
        };
        let mut out = Vec::new();
        for meta in list_under(&path)? {
            let key = meta.location.as_ref();
            let hit = pattern.matches_with(key, opts)
                || key.match_indices('/').any(|(i, _)| {
                    pattern.matches_with(&key[..i], opts) && dataset_file(&key[i + 1..])
                });
            if hit {
                out.push(listed(&base, &store, meta));
            }
        }
        if out.is_empty() {
            return Err(IoError::NoFilesMatch {
                pattern: text.to_string(),
            });
        }
        let root = format!("{base}/{}", path.as_ref());
        return Ok((out, Some(root.trim_end_matches('/').to_string())));
    }
    // One object, unless the URL ends in `/`. An empty object may be a
    // directory's marker (ADLS Gen2, some S3 writers): what lies under it
    // is then the table.
    let mut single = None;
    if !path.as_ref().is_empty() && !text.ends_with('/') {
        match block_on(store.head(&path)) {
            Ok(meta) if meta.size > 0 => return Ok((vec![listed(&base, &store, meta)], None)),
            Ok(meta) => single = Some(meta),
            Err(object_store::Error::NotFound { .. }) => {}
            // A store that cannot list (plain HTTP) says so here too.
            Err(e) => return Err(object_error(text, &e)),
        }
    }
    let prefix_len = path.as_ref().len();
    let files: Vec<RemoteObject> = list_under(&path)?
        .into_iter()
        .filter(|m| dataset_file(m.location.as_ref()[prefix_len..].trim_start_matches('/')))
        .map(|m| listed(&base, &store, m))
        .collect();
    if files.is_empty()
        && let Some(meta) = single
    {
        // An empty object after all: its reader says what is wrong.
        return Ok((vec![listed(&base, &store, meta)], None));
    }
    if files.is_empty() {
        // A name with a format's extension was meant as one object.
        let detail = if InputFormat::from_path(Path::new(path.as_ref())).is_ok() {
            "no such object; check the URL"
        } else {
            "no such object, and no .parquet objects under it as a directory (hidden and `_`-prefixed entries are skipped); check the URL"
        };
        return Err(IoError::NoSuchObject {
            url: text.into(),
            detail,
        });
    }
    let root = format!("{base}/{}", path.as_ref());
    Ok((files, Some(root.trim_end_matches('/').to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreScheme;

    #[test]
    fn keys_below_a_dataset_directory() {
        assert!(dataset_file("day=1/part-0.parquet"));
        assert!(!dataset_file("_SUCCESS"));
        assert!(!dataset_file("day=1/.part-0.parquet.crc"));
        assert!(!dataset_file("_tmp/part-0.parquet"));
        assert!(!dataset_file("day=1/notes.txt"));
    }

    #[test]
    fn the_base_of_a_url_is_what_precedes_its_key() {
        let base = |u: &str| {
            let url = Url::parse(u).unwrap();
            let (_, path) = ObjectStoreScheme::parse(&url).unwrap();
            base_of(&url, &path)
        };
        assert_eq!(base("s3://b/data/x.parquet"), "s3://b");
        assert_eq!(base("s3://b/"), "s3://b");
        assert_eq!(base("gs://b/a/b/c"), "gs://b");
        assert_eq!(
            base("https://acct.blob.core.windows.net/cont/dir/x.csv"),
            "https://acct.blob.core.windows.net/cont"
        );
        assert_eq!(
            base("https://example.com/files/x.csv"),
            "https://example.com"
        );
        // Percent-encoded keys: the URL's segments are counted, not matched.
        assert_eq!(
            base("https://acct.blob.core.windows.net/cont/my%20file.csv"),
            "https://acct.blob.core.windows.net/cont"
        );
        assert_eq!(base("s3://b/dir/my%20file.csv"), "s3://b");
        assert_eq!(
            base("https://acct.blob.core.windows.net/cont"),
            "https://acct.blob.core.windows.net/cont"
        );
        assert_eq!(glob_start("s3://b/d/day=*/x"), Some(13));
        assert_eq!(glob_start("s3://b/d/x.parquet"), None);
    }
}
