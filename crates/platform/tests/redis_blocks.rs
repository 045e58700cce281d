//! The memo and the lock of `redis_blocks` against the local Redis (`PROMPTSALES_REDIS_URL`),
//! each test under a prefix of its own; two clients on one prefix play two processes.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use promptsales_platform::{
    redis::{KeySpace, Redis, RedisOptions},
    redis_blocks::{LLM_TTL, Lock, LockError, MCP_TTL, Memo, MemoError, input_hash},
};
use serde_json::{Value, json};

fn client(prefix: &str) -> Redis {
    Redis::new(&RedisOptions {
        prefix: prefix.to_owned(),
        timeout_ms: 2000,
        ..RedisOptions::default()
    })
    .expect("redis client")
}

fn prefix() -> String {
    format!("ps:test-{}:", uuid::Uuid::new_v4().simple())
}

async fn del(redis: &Redis, key: &str) {
    let _: () = redis.query("del", redis::cmd("DEL").arg(key)).await.expect("del");
}

#[tokio::test]
async fn should_compute_once_then_answer_from_redis_also_in_another_process() {
    let prefix = prefix();
    let (a, b) = (client(&prefix), client(&prefix));
    let calls = Arc::new(AtomicUsize::new(0));
    let args = json!({ "campaign": "c-1", "limit": 5 });
    let hash = input_hash(&args).expect("hash");
    let compute = || {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(json!({ "rows": [1, 2, 3] }))
        }
    };
    let memo = Memo::new(a.clone());
    let first: Value = memo
        .get_or_compute(KeySpace::Mcp, &["top_campaigns", &hash], MCP_TTL, compute)
        .await
        .expect("computed");
    let again: Value = memo
        .get_or_compute(KeySpace::Mcp, &["top_campaigns", &hash], MCP_TTL, compute)
        .await
        .expect("hit");
    let elsewhere: Value = Memo::new(b)
        .get_or_compute(KeySpace::Mcp, &["top_campaigns", &hash], MCP_TTL, compute)
        .await
        .expect("hit in another process");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(first, json!({ "rows": [1, 2, 3] }));
    assert_eq!((&again, &elsewhere), (&first, &first));
    let key = a.keys().key(KeySpace::Mcp, &["top_campaigns", &hash]);
    assert_eq!(key, format!("{prefix}mcp:v1:top_campaigns:{hash}"));
    let ttl: i64 = a.query("pttl", redis::cmd("PTTL").arg(&key)).await.expect("pttl");
    assert!(ttl > 290_000 && ttl <= 300_000, "five minutes: {ttl}");
    del(&a, &key).await;
}

#[tokio::test]
async fn should_share_one_computation_between_concurrent_callers_and_store_nothing_on_failure() {
    let redis = client(&prefix());
    let memo = Memo::new(redis.clone());
    let calls = Arc::new(AtomicUsize::new(0));
    let callers = (0..8).map(|_| {
        let (memo, calls) = (memo.clone(), calls.clone());
        tokio::spawn(async move {
            memo.get_or_compute(KeySpace::Llm, &["gpt-x", "h1"], LLM_TTL, || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(200)).await;
                Ok::<_, std::io::Error>("a slogan".to_owned())
            })
            .await
        })
    });
    for caller in callers.collect::<Vec<_>>() {
        let text: String = caller.await.expect("joined").expect("value");
        assert_eq!(text, "a slogan");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one model call for eight callers");
    let failed: Result<String, _> = memo
        .get_or_compute(KeySpace::Llm, &["gpt-x", "h2"], LLM_TTL, || async {
            Err(std::io::Error::other("quota exceeded"))
        })
        .await;
    assert!(matches!(failed, Err(MemoError::Compute(_))));
    let retried: String = memo
        .get_or_compute(KeySpace::Llm, &["gpt-x", "h2"], LLM_TTL, || async {
            Ok::<_, std::io::Error>("second try".to_owned())
        })
        .await
        .expect("computed again");
    assert_eq!(retried, "second try");
    for h in ["h1", "h2"] {
        del(&redis, &redis.keys().key(KeySpace::Llm, &["gpt-x", h])).await;
    }
}

#[tokio::test]
async fn should_compute_without_redis() {
    let down = Redis::new(&RedisOptions {
        url: Some("redis://127.0.0.1:1".into()),
        prefix: prefix(),
        ..RedisOptions::default()
    })
    .expect("client");
    let value: u32 = Memo::new(down)
        .get_or_compute(KeySpace::Emb, &["m", "h"], Duration::from_secs(1), || async {
            Ok::<_, std::io::Error>(7)
        })
        .await
        .expect("computed");
    assert_eq!(value, 7);
}

#[tokio::test]
async fn should_hold_a_lock_for_one_owner_at_a_time() {
    let prefix = prefix();
    let (a, b) = (client(&prefix), client(&prefix));
    let held = Lock::acquire(&a, "etl", Duration::from_secs(30)).await.expect("free");
    match Lock::acquire(&b, "etl", Duration::from_secs(30)).await {
        Err(LockError::Held { name, expires_in }) => {
            assert_eq!(name, "etl");
            assert!(expires_in > Duration::from_secs(25), "{expires_in:?}");
        }
        other => panic!("a second owner got the lock: {other:?}"),
    }
    held.extend(Duration::from_secs(60)).await.expect("still held");
    held.release().await.expect("released by its owner");
    let again = Lock::acquire(&b, "etl", Duration::from_secs(30))
        .await
        .expect("free again");
    again.release().await.expect("released");
}

#[tokio::test]
async fn should_let_an_expired_lock_be_taken_and_not_let_the_old_owner_release_it() {
    let prefix = prefix();
    let (a, b) = (client(&prefix), client(&prefix));
    let stale = Lock::acquire(&a, "etl", Duration::from_millis(100))
        .await
        .expect("free");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let current = Lock::acquire(&b, "etl", Duration::from_secs(30))
        .await
        .expect("expired, so free");
    assert!(matches!(
        stale.extend(Duration::from_secs(30)).await,
        Err(LockError::Lost(_))
    ));
    assert!(matches!(stale.release().await, Err(LockError::Lost(_))));
    assert!(
        matches!(
            Lock::acquire(&a, "etl", Duration::from_secs(1)).await,
            Err(LockError::Held { .. })
        ),
        "the old owner's release left the new owner's lock alone"
    );
    current.release().await.expect("released");
}
