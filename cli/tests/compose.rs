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
