//! The migration files compiled into the binary, so a deployed image migrates with what it was
//! built from and never reads a stray file at run time.

use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

use super::{Error, Result};
use crate::store::{Backend, Store};

static SQL: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../sql");

/// One migration file: `NNNN_description.ext`.
#[derive(Debug, Clone)]
pub struct MigrationFile {
    pub version: i64,
    pub description: String,
    pub path: String,
    pub content: &'static str,
    pub checksum: [u8; 32],
}

fn folder(store: Store, backend: Backend) -> (String, &'static str) {
    let dialect = match backend {
        Backend::Postgres => "postgres",
        Backend::Mssql => "mssql",
        Backend::Mongo => "mongodb",
    };
    let ext = if backend == Backend::Mongo { "json" } else { "sql" };
    (format!("{}/{dialect}", store.name()), ext)
}

/// The migrations of `store` for `backend`, in version order. Files in sub-folders (such as the
/// MongoDB sample documents) are not migrations.
pub fn embedded(store: Store, backend: Backend) -> Result<Vec<MigrationFile>> {
    let (dir, ext) = folder(store, backend);
    let Some(dir) = SQL.get_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for file in dir.files() {
        let path = file.path().display().to_string();
        if file.path().extension().and_then(|e| e.to_str()) != Some(ext) {
            continue;
        }
        let bad = |reason: &str| Error::BadFile {
            file: format!("sql/{path}"),
            reason: reason.to_owned(),
        };
        let stem = file
            .path()
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| bad("file name is not UTF-8"))?;
        let (version, description) = stem
            .split_once('_')
            .ok_or_else(|| bad("name must be NNNN_description (version, underscore, words)"))?;
        let version: i64 = version
            .parse()
            .map_err(|_| bad("name must start with a version number"))?;
        let content = file.contents_utf8().ok_or_else(|| bad("content is not UTF-8"))?;
        files.push(MigrationFile {
            version,
            description: description.replace('_', " "),
            path: format!("sql/{path}"),
            content,
            checksum: Sha256::digest(content.as_bytes()).into(),
        });
    }
    files.sort_by_key(|f| f.version);
    if let Some(w) = files.windows(2).find(|w| w[0].version == w[1].version) {
        return Err(Error::BadFile {
            file: w[1].path.clone(),
            reason: format!("version {} is used twice", w[1].version),
        });
    }
    Ok(files)
}
