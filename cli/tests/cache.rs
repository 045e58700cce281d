//! `promptsales cache invalidate` against the local Redis (`PROMPTSALES_REDIS_URL`), under a key
//! prefix of its own: it drops exactly the entries tagged with the entity (or the type), through
//! the same tag sets the gateway writes.

use std::{process::Command, time::Duration};

use promptsales_platform::redis::{KeySpace, Redis, RedisOptions};

fn invalidate(prefix: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_promptsales"))
        .args(["cache", "invalidate", "--prefix", prefix])
        .args(args)
        .output()
        .expect("promptsales runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test]
async fn should_drop_the_entries_of_an_entity_and_then_of_a_type() {
    let prefix = format!("ps:test-{}:", uuid::Uuid::new_v4().simple());
    let redis = Redis::new(&RedisOptions {
        prefix: prefix.clone(),
        timeout_ms: 2000,
        ..RedisOptions::default()
    })
    .expect("client");
    let keys = redis.keys().clone();
    let tag = |parts: &[&str]| keys.key(KeySpace::Tag, parts);
    let ttl = Duration::from_secs(60);
    let (one, other) = (keys.key(KeySpace::Resp, &["one"]), keys.key(KeySpace::Resp, &["other"]));
    // `one` holds campaign c1; `other` holds campaigns, but not c1. Each also has a marker tag to
    // probe with: dropping a marker counts the entries still there.
    redis
        .set_tagged(
            &one,
            b"1",
            ttl,
            &[tag(&["Campaign"]), tag(&["Campaign", "c1"]), tag(&["M1"])],
        )
        .await
        .expect("store one");
    redis
        .set_tagged(
            &other,
            b"2",
            ttl,
            &[tag(&["Campaign"]), tag(&["Campaign", "c2"]), tag(&["M2"])],
        )
        .await
        .expect("store other");

    let said = invalidate(&prefix, &["--type", "Campaign", "--id", "c1"]);
    assert_eq!(said.trim(), "dropped 1 cached responses holding Campaign");
    assert_eq!(
        redis.drop_tagged(&[tag(&["M1"])]).await.expect("probe"),
        0,
        "one is gone"
    );

    let said = invalidate(&prefix, &["--type", "Campaign"]);
    assert_eq!(
        said.trim(),
        "dropped 1 cached responses holding Campaign",
        "other goes with its type"
    );
    assert_eq!(redis.drop_tagged(&[tag(&["M2"])]).await.expect("probe"), 0);
    // Every tag set went with the entries or was dropped here: nothing of the prefix is left.
    redis.drop_tagged(&[tag(&["Campaign", "c2"])]).await.expect("clean");
}
