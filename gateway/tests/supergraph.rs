//! The checked-in fixture supergraph is what the pinned composer makes of the fixture subgraphs.

mod fixtures;

#[test]
fn should_keep_the_fixture_supergraph_composed_from_the_fixture_subgraphs() {
    let composed = fixtures::compose();
    if std::env::var_os("UPDATE_FIXTURE_SUPERGRAPH").is_some() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/supergraph.graphql");
        std::fs::write(path, &composed).expect("write the fixture supergraph");
        return;
    }
    assert!(
        composed == fixtures::SUPERGRAPH,
        "tests/fixtures/supergraph.graphql is stale: run \
         `UPDATE_FIXTURE_SUPERGRAPH=1 cargo test -p promptsales-gateway --test supergraph`"
    );
}
