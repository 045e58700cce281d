//! SQL Server: our own runner, since sqlx has no SQL Server driver. A file is a list of batches
//! separated by `GO` lines (as sqlcmd and SSMS read them); the whole file runs in one transaction
//! with XACT_ABORT on, and its version, checksum and duration go to `dbo.schema_migrations` in that
//! same transaction. An application lock keeps two migrators from interleaving.

use std::time::Instant;

use super::{Applied, Error, Result, embedded};
use crate::{
    config::StoreUrl,
    mssql::connect,
    store::{Backend, Store},
};

const ENSURE_TABLE: &str = "IF OBJECT_ID(N'dbo.schema_migrations', N'U') IS NULL
CREATE TABLE dbo.schema_migrations (
    version BIGINT NOT NULL CONSTRAINT schema_migrations_pkey PRIMARY KEY,
    description NVARCHAR(200) NOT NULL,
    checksum VARBINARY(32) NOT NULL,
    execution_ms INT NOT NULL,
    applied_at DATETIMEOFFSET(3) NOT NULL CONSTRAINT schema_migrations_applied_at_df DEFAULT SYSUTCDATETIME()
);";

/// Splits a T-SQL script into its batches at lines holding only `GO` (any case). Returns each
/// non-empty batch with the line number it starts on, for error messages.
pub fn split_batches(script: &str) -> Vec<(usize, String)> {
    let mut batches = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    let mut flush = |current: &mut String, start: usize| {
        if current.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with("--")
        }) {
            batches.push((start, std::mem::take(current)));
        }
        current.clear();
    };
    for (index, line) in script.lines().enumerate() {
        if line.trim().eq_ignore_ascii_case("go") {
            flush(&mut current, start);
            start = index + 2;
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    flush(&mut current, start);
    batches
}

pub(super) async fn run(store: Store, url: &StoreUrl) -> Result<(Vec<Applied>, usize)> {
    let database = url.database().expect("checked by StoreUrl::check_for");
    let mut master = connect(url, "master", "promptsales-migrate").await?;
    // The name is bound, and QUOTENAME makes it a safe identifier for the dynamic CREATE.
    master
        .execute(
            "IF DB_ID(@P1) IS NULL EXEC(N'CREATE DATABASE ' + QUOTENAME(@P1))",
            &[&database],
        )
        .await?;
    drop(master);

    let mut conn = connect(url, database, "promptsales-migrate").await?;
    conn.simple_query(ENSURE_TABLE).await?.into_results().await?;
    let lock: i32 = conn
        .query(
            "DECLARE @r INT; EXEC @r = sp_getapplock @Resource = N'promptsales:migrate', @LockMode = 'Exclusive', \
             @LockOwner = 'Session', @LockTimeout = 0; SELECT @r",
            &[],
        )
        .await?
        .into_row()
        .await?
        .and_then(|r| r.get::<i32, _>(0))
        .unwrap_or(-999);
    if lock < 0 {
        return Err(Error::Locked(store));
    }

    let recorded: Vec<(i64, Vec<u8>)> = conn
        .query(
            "SELECT version, checksum FROM dbo.schema_migrations ORDER BY version",
            &[],
        )
        .await?
        .into_first_result()
        .await?
        .into_iter()
        .map(|r| {
            (
                r.get::<i64, _>(0).unwrap_or_default(),
                r.get::<&[u8], _>(1).unwrap_or_default().to_vec(),
            )
        })
        .collect();
    let files = embedded(store, Backend::Mssql)?;
    for (version, checksum) in &recorded {
        match files.iter().find(|f| f.version == *version) {
            None => {
                return Err(Error::Unknown {
                    store,
                    version: *version,
                });
            }
            Some(f) if f.checksum.as_slice() != checksum.as_slice() => {
                return Err(Error::Edited {
                    store,
                    version: *version,
                });
            }
            Some(_) => {}
        }
    }

    let mut applied = Vec::new();
    for file in files.iter().filter(|f| !recorded.iter().any(|(v, _)| *v == f.version)) {
        let started = Instant::now();
        conn.simple_query("SET XACT_ABORT ON; BEGIN TRANSACTION;")
            .await?
            .into_results()
            .await?;
        for (index, (line, batch)) in split_batches(file.content).into_iter().enumerate() {
            let outcome = match conn.simple_query(batch).await {
                Ok(stream) => stream.into_results().await.map(drop),
                Err(e) => Err(e),
            };
            if let Err(source) = outcome {
                // XACT_ABORT has usually rolled back already; make sure before reporting.
                let _ = conn
                    .simple_query("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;")
                    .await
                    .map(drop);
                return Err(Error::Batch {
                    store,
                    version: file.version,
                    batch: index + 1,
                    line,
                    source,
                });
            }
        }
        let elapsed = started.elapsed();
        let millis = i32::try_from(elapsed.as_millis()).unwrap_or(i32::MAX);
        conn.execute(
            "INSERT INTO dbo.schema_migrations (version, description, checksum, execution_ms) VALUES (@P1, @P2, @P3, @P4)",
            &[&file.version, &file.description.as_str(), &file.checksum.as_slice(), &millis],
        )
        .await?;
        conn.simple_query("COMMIT TRANSACTION;").await?.into_results().await?;
        applied.push(Applied {
            version: file.version,
            description: file.description.clone(),
            elapsed,
        });
    }
    Ok((applied, recorded.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_split_batches_at_go_lines_and_keep_their_start_lines() {
        let script = "CREATE SCHEMA ads;\nGO\n-- only a comment\ngo\nCREATE TABLE ads.t (a INT);\nSELECT 1;\n  GO  \n";
        let batches = split_batches(script);
        assert_eq!(
            batches,
            vec![
                (1, "CREATE SCHEMA ads;\n".to_owned()),
                (5, "CREATE TABLE ads.t (a INT);\nSELECT 1;\n".to_owned())
            ]
        );
    }

    #[test]
    fn should_not_split_at_words_that_merely_contain_go() {
        let batches = split_batches("SELECT 'GO' AS go_col;\nGOTO done;\n");
        assert_eq!(batches.len(), 1);
    }
}
