//! `promptsales compose` through the binary: a supergraph from subgraph SDL files, and errors that
//! name the subgraph, type and field.

use std::{fs, path::Path, process::Output};

fn compose(dir: &Path, extra: &[&str]) -> Output {
    let config = dir.join("supergraph.yaml");
    let out = dir.join("supergraph.graphql");
    std::process::Command::new(env!("CARGO_BIN_EXE_promptsales"))
        .args([
            "compose",
            "--config",
            config.to_str().expect("utf8"),
            "--out",
            out.to_str().expect("utf8"),
        ])
        .args(extra)
        .output()
        .expect("run promptsales compose")
}

/// A composition folder: the pinned composer and two subgraph SDLs.
fn workspace(users_sdl: &str, reviews_sdl: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../supergraph");
    fs::copy(repo.join("compose.mjs"), dir.path().join("compose.mjs")).expect("copy composer");
    std::os::unix::fs::symlink(repo.join("node_modules"), dir.path().join("node_modules")).expect("link node_modules");
    fs::create_dir(dir.path().join("subgraphs")).expect("mkdir");
    fs::write(dir.path().join("subgraphs/users.graphql"), users_sdl).expect("write");
    fs::write(dir.path().join("subgraphs/reviews.graphql"), reviews_sdl).expect("write");
    fs::write(
        dir.path().join("supergraph.yaml"),
        "subgraphs:\n  users:\n    url: http://users/graphql\n    schema:\n      file: subgraphs/users.graphql\n  \
         reviews:\n    url: http://reviews/graphql\n    schema:\n      file: subgraphs/reviews.graphql\n",
    )
    .expect("write config");
    dir
}

const LINK: &str = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.5\", import: [\"@key\"])\n";

#[test]
fn should_compose_a_federation_v2_supergraph_and_detect_when_it_is_stale() {
    let users =
        format!("{LINK}type User @key(fields: \"id\") {{ id: ID! name: String! }}\ntype Query {{ me: User }}\n");
    let reviews = format!(
        "{LINK}type User @key(fields: \"id\") {{ id: ID! reviews: [String!]! }}\ntype Query {{ top: [String!]! }}\n"
    );
    let dir = workspace(&users, &reviews);
    let out = compose(dir.path(), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let supergraph = fs::read_to_string(dir.path().join("supergraph.graphql")).expect("written");
    assert!(
        supergraph.contains("https://specs.apollo.dev/join/v0.3"),
        "{supergraph}"
    );
    assert!(
        supergraph.contains("USERS @join__graph(name: \"users\", url: \"http://users/graphql\")"),
        "{supergraph}"
    );
    assert!(compose(dir.path(), &["--check"]).status.success());

    fs::write(
        dir.path().join("subgraphs/reviews.graphql"),
        reviews.replace("top", "best"),
    )
    .expect("edit");
    let stale = compose(dir.path(), &["--check"]);
    assert!(!stale.status.success());
    assert!(String::from_utf8_lossy(&stale.stderr).contains("supergraph.graphql is stale"));
}

#[test]
fn should_name_the_subgraphs_and_the_field_when_composition_fails() {
    let users =
        format!("{LINK}type User @key(fields: \"id\") {{ id: ID! name: String! }}\ntype Query {{ me: User }}\n");
    // `name` is defined by both subgraphs without @shareable, with different types.
    let reviews =
        format!("{LINK}type User @key(fields: \"id\") {{ id: ID! name: Int }}\ntype Query {{ top: [String!]! }}\n");
    let dir = workspace(&users, &reviews);
    let out = compose(dir.path(), &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("composition failed"), "{err}");
    assert!(err.contains("User.name"), "{err}");
    assert!(err.contains("users") && err.contains("reviews"), "{err}");
}

/// The repository's own composition: the SDL files exported from the four subgraph crates and the
/// supergraph composed from them are both current (`promptsales compose --export` fixes either).
#[test]
fn should_keep_the_checked_in_subgraph_sdls_and_supergraph_current() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptsales"))
        .args(["compose", "--check"])
        .current_dir(&repo)
        .output()
        .expect("run promptsales compose --check");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let supergraph = fs::read_to_string(repo.join("supergraph/supergraph.graphql")).expect("checked in");
    for graph in ["CONTENT", "ADS", "CRM", "SALES"] {
        assert!(
            supergraph.contains(&format!("{graph} @join__graph(")),
            "{graph} is in the supergraph"
        );
    }
}

/// `schema: { service: true }` asks the running subgraph for `_service { sdl }`, signed like the
/// gateway's calls, and composes exactly what the exported file holds.
#[tokio::test]
async fn should_compose_from_a_running_subgraphs_service_sdl() {
    use promptsales_platform::{Store, claims::ClaimsKey};
    let secret = "compose-test-claims-key-of-32-bytes!!";
    // PROMPTSALES_CLAIMS_KEY holds base64: these are the same 37 bytes.
    let secret_b64 = "Y29tcG9zZS10ZXN0LWNsYWltcy1rZXktb2YtMzItYnl0ZXMhIQ==";
    let db = promptsales_testkit::TestDb::migrated(Store::Ads).await;
    let app = promptsales_ads::app(
        promptsales_ads::AppState {
            store: std::sync::Arc::new(promptsales_ads::store::PgStore::from_pool(db.pool().clone())),
            claims_key: ClaimsKey::new(secret.as_bytes()).expect("key"),
        },
        &promptsales_ads::Config {
            port: 0,
            ads_url: None,
            dev_graphiql: false,
        },
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("port");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../supergraph");
    let dir = tempfile::tempdir().expect("temp dir");
    fs::copy(repo.join("compose.mjs"), dir.path().join("compose.mjs")).expect("copy composer");
    std::os::unix::fs::symlink(repo.join("node_modules"), dir.path().join("node_modules")).expect("link");
    let config = |schema: &str| format!("subgraphs:\n  ads:\n    url: http://{addr}/graphql\n    schema: {schema}\n");
    let run = |yaml: String, out: &str, key: Option<&str>| {
        let dir = dir.path().to_owned();
        let out = dir.join(out);
        let key = key.map(str::to_owned);
        async move {
            fs::write(dir.join("supergraph.yaml"), yaml).expect("write config");
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_promptsales"));
            command
                .args(["compose", "--config"])
                .arg(dir.join("supergraph.yaml"))
                .arg("--out")
                .arg(&out)
                .env_remove("PROMPTSALES_CLAIMS_KEY");
            if let Some(key) = key {
                command.env("PROMPTSALES_CLAIMS_KEY", key);
            }
            // The subgraph runs on this test's runtime: wait for the child off it.
            let output = tokio::task::spawn_blocking(move || command.output().expect("run compose"))
                .await
                .expect("join");
            (output, out)
        }
    };
    let exported = repo.join("subgraphs/ads.graphql");
    let (by_file, file_out) = run(
        config(&format!("{{ file: {} }}", exported.display())),
        "from-file.graphql",
        None,
    )
    .await;
    assert!(by_file.status.success(), "{}", String::from_utf8_lossy(&by_file.stderr));
    let (by_service, service_out) = run(config("{ service: true }"), "from-service.graphql", Some(secret_b64)).await;
    assert!(
        by_service.status.success(),
        "{}",
        String::from_utf8_lossy(&by_service.stderr)
    );
    assert_eq!(
        fs::read_to_string(service_out).expect("composed"),
        fs::read_to_string(file_out).expect("composed")
    );

    // Signed with another key, the subgraph refuses, and compose says which subgraph failed.
    let (refused, _) = run(
        config("{ service: true }"),
        "refused.graphql",
        Some("YW5vdGhlci1rZXktb2YtYXQtbGVhc3QtMzItYnl0ZXMtbG9uZyEh"),
    )
    .await;
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("subgraph ads"), "{err}");

    // Neither or both sources is a configuration error that says so.
    let (neither, _) = run(config("{}"), "neither.graphql", None).await;
    assert!(
        String::from_utf8_lossy(&neither.stderr).contains("either `file: <path>` or `service: true`"),
        "{}",
        String::from_utf8_lossy(&neither.stderr)
    );
    server.abort();
}
