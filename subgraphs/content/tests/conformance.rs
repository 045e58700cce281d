//! The store contract, written once over `Arc<dyn ContentStore>` and run against every adapter:
//! PostgreSQL (the jsonb twin) always; MongoDB when `PROMPTSALES_MONGO_URL` names a server (the
//! `mongodb::…` tests are ignored otherwise, so a run without one reports them as skipped).

mod support;

use std::{collections::HashSet, sync::Arc};

use chrono::{DateTime, Utc};
use promptsales_content::store::{
    After, ContentStore, LogMessage, LogReview, NewCampaignLog, NewContentRequest, Page, RequestFilter, Reviewed,
    StoreError, TargetAudience, document::hex,
};
use sha2::{Digest, Sha256};
use support::Fixture;
use uuid::Uuid;

type Store = Arc<dyn ContentStore>;

fn ids<T>(items: &[T], id: impl Fn(&T) -> Uuid) -> Vec<Uuid> {
    items.iter().map(id).collect()
}

async fn should_list_a_tenants_images_and_the_stock_library_newest_first(store: Store, f: &Fixture) {
    let [a1, a2, a3] = f.images_a;
    let [s1, s2] = f.stock;
    let page = store.images(Some(f.org_a), None, None, 10).await.expect("images");
    assert_eq!(ids(&page.items, |i| i.id), [a3, a2, a1, s2, s1]);
    assert_eq!((page.total, page.has_more), (5, false));
    assert!(
        page.items[3].organization_id.is_none(),
        "stock images have no organization"
    );
    let page = store.images(Some(f.org_b), None, None, 10).await.expect("images");
    assert_eq!(ids(&page.items, |i| i.id), [f.image_b, s2, s1]);
    let page = store.images(None, None, None, 10).await.expect("images");
    assert_eq!(ids(&page.items, |i| i.id), [f.image_b, a3, a2, a1, s2, s1]);
}

async fn should_page_images_without_gaps_or_repeats(store: Store, _f: &Fixture) {
    let all = store.images(None, None, None, 100).await.expect("images").items;
    let mut seen = Vec::new();
    let mut after: Option<After<DateTime<Utc>>> = None;
    loop {
        let page = store.images(None, None, after.clone(), 4).await.expect("images");
        assert_eq!(page.total, 6);
        seen.extend(ids(&page.items, |i| i.id));
        let Some(last) = page.items.last() else { break };
        after = Some(After {
            key: last.created_at,
            id: last.id,
        });
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen, ids(&all, |i| i.id));
    let empty = store.images(None, None, None, 0).await.expect("images");
    assert!(empty.items.is_empty() && empty.has_more);
}

async fn should_filter_images_by_hashtag(store: Store, f: &Fixture) {
    let [a1, _, a3] = f.images_a;
    let page = store
        .images(Some(f.org_a), Some("summer"), None, 10)
        .await
        .expect("images");
    assert_eq!(ids(&page.items, |i| i.id), [a3, a1, f.stock[0]]);
    assert_eq!(page.total, 3);
    let page = store
        .images(Some(f.org_a), Some("promo"), None, 10)
        .await
        .expect("images");
    assert!(page.items.is_empty(), "another tenant's hashtag reveals nothing");
    let page = store.images(None, Some("promo"), None, 10).await.expect("images");
    assert_eq!(ids(&page.items, |i| i.id), [f.image_b]);
}

async fn should_find_images_by_id_within_what_the_tenant_sees(store: Store, f: &Fixture) {
    let wanted = [f.images_a[0], f.image_b, f.stock[0], f.image_a_deleted, Uuid::new_v4()];
    let found = store.images_by_id(Some(f.org_a), &wanted).await.expect("images");
    let keys: HashSet<Uuid> = found.keys().copied().collect();
    assert_eq!(keys, HashSet::from([f.images_a[0], f.stock[0]]));
    let image = &found[&f.stock[0]];
    assert_eq!(image.hashtags, ["summer", "beach", "sunset"]);
    assert_eq!(image.file.content_type, "image/png");
    assert!(image.usage_rights.expires_at.is_some());
    assert!(found[&f.images_a[0]].usage_rights.expires_at.is_none());
    let found = store.images_by_id(None, &wanted).await.expect("images");
    assert_eq!(found.len(), 3, "staff see every live image");
}

async fn should_serve_image_bytes_whose_hash_is_the_recorded_one(store: Store, f: &Fixture) {
    let a1 = f.images_a[0];
    let blob = store.image_blob(Some(f.org_a), a1).await.expect("blob").expect("bytes");
    assert_eq!(blob.content_type, "image/png");
    assert_eq!(blob.data, f.bytes_of(a1));
    assert_eq!(blob.sha256, hex(&Sha256::digest(&blob.data)));
    let meta = store.images_by_id(None, &[a1]).await.expect("image");
    assert_eq!(meta[&a1].file.sha256, blob.sha256);
    assert!(
        store
            .image_blob(Some(f.org_a), f.stock[0])
            .await
            .expect("blob")
            .is_some()
    );
    for hidden in [f.image_b, f.image_a_deleted, f.stock[1], Uuid::new_v4()] {
        assert!(store.image_blob(Some(f.org_a), hidden).await.expect("blob").is_none());
    }
}

async fn should_list_hashtags_most_used_first(store: Store, f: &Fixture) {
    let (coffee, beach) = (f.hashtag("coffee"), f.hashtag("beach"));
    let tie = if coffee < beach {
        ["coffee", "beach"]
    } else {
        ["beach", "coffee"]
    };
    let expected = ["summer", tie[0], tie[1], "students"];
    let page = store.hashtags(None, None, 10).await.expect("hashtags");
    let tags: Vec<&str> = page.items.iter().map(|h| h.tag.as_str()).collect();
    assert_eq!(tags, expected);
    assert_eq!(page.total, 4, "deleted hashtags are left out");
    assert_eq!(page.items[0].usage_count, 40);
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store.hashtags(None, after, 1).await.expect("hashtags");
        paged.extend(page.items.iter().map(|h| h.tag.clone()));
        after = page.items.last().map(|h| After {
            key: h.usage_count,
            id: h.id,
        });
        if !page.has_more {
            break;
        }
    }
    assert_eq!(paged, expected);
    let season = store.hashtags(Some("season"), None, 10).await.expect("hashtags");
    let tags: Vec<&str> = season.items.iter().map(|h| h.tag.as_str()).collect();
    assert_eq!(tags, ["summer", "beach"]);
}

async fn should_find_hashtags_by_id_and_by_tag(store: Store, f: &Fixture) {
    let tags = ["summer".to_owned(), "sunset".to_owned(), "retro".to_owned()];
    let found = store.hashtags_by_tag(&tags).await.expect("hashtags");
    assert_eq!(found.keys().collect::<Vec<_>>(), ["summer"]);
    assert_eq!(found["summer"].category, "season");
    let found = store
        .hashtags_by_id(&[f.hashtag("students"), f.hashtag("retro")])
        .await
        .expect("hashtags");
    assert_eq!(found.len(), 1);
    assert_eq!(found[&f.hashtag("students")].tag, "students");
}

async fn should_list_content_requests_with_filters(store: Store, f: &Fixture) {
    let [r1, r2] = f.requests_a;
    let all = RequestFilter::default();
    let page = store
        .content_requests(Some(f.org_a), &all, None, 10)
        .await
        .expect("requests");
    assert_eq!(ids(&page.items, |r| r.id), [r2, r1]);
    assert_eq!(page.total, 2);
    let request = &page.items[1];
    assert_eq!(request.status, "open");
    assert_eq!(request.target_audiences.len(), 2);
    assert_eq!(request.target_audiences[1].age_max, 45);
    let filter = RequestFilter {
        status: Some("in_progress".into()),
        ..RequestFilter::default()
    };
    let page = store
        .content_requests(Some(f.org_a), &filter, None, 10)
        .await
        .expect("requests");
    assert_eq!(ids(&page.items, |r| r.id), [r2]);
    let filter = RequestFilter {
        campaign_id: Some(f.campaign_b),
        ..RequestFilter::default()
    };
    let page = store
        .content_requests(Some(f.org_a), &filter, None, 10)
        .await
        .expect("requests");
    assert!(page.items.is_empty());
    let page = store.content_requests(None, &filter, None, 10).await.expect("requests");
    assert_eq!(ids(&page.items, |r| r.id), [f.request_b]);
    let page = store.content_requests(None, &all, None, 2).await.expect("requests");
    let last = page.items.last().expect("a request");
    let after = After {
        key: last.created_at,
        id: last.id,
    };
    let rest = store
        .content_requests(None, &all, Some(after), 2)
        .await
        .expect("requests");
    assert_eq!((page.has_more, rest.has_more, rest.items.len()), (true, false, 1));
}

async fn should_find_content_requests_and_logs_by_id_and_campaign(store: Store, f: &Fixture) {
    let [r1, r2] = f.requests_a;
    let found = store
        .content_requests_by_id(Some(f.org_a), &[r1, f.request_b, f.request_a_deleted])
        .await
        .expect("requests");
    assert_eq!(found.keys().copied().collect::<Vec<_>>(), [r1]);
    let by_campaign = store
        .content_requests_by_campaign(Some(f.org_a), &[f.campaign_a, f.campaign_b])
        .await
        .expect("requests");
    assert_eq!(ids(&by_campaign[&f.campaign_a], |r| r.id), [r2, r1]);
    assert!(!by_campaign.contains_key(&f.campaign_b));
    let logs = store
        .campaign_logs_by_campaign(Some(f.org_a), &[f.campaign_a, f.campaign_b])
        .await
        .expect("logs");
    assert_eq!(ids(&logs[&f.campaign_a], |l| l.id), [f.logs_a[1], f.logs_a[0]]);
    assert!(!logs.contains_key(&f.campaign_b));
    let students = &logs[&f.campaign_a][1];
    assert_eq!(
        (students.population.as_str(), students.channel_code.as_str()),
        ("Students", "instagram")
    );
    let texts: Vec<&str> = students.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["¡Hola!", "Last call"]);
    assert!(students.messages[0].at < students.messages[1].at);
    let found = store
        .campaign_logs_by_id(None, &[f.log_b, f.log_a_deleted])
        .await
        .expect("logs");
    assert_eq!(found.keys().copied().collect::<Vec<_>>(), [f.log_b]);
}

async fn should_list_campaign_logs_newest_first(store: Store, f: &Fixture) {
    let page = store.campaign_logs(Some(f.org_a), None, None, 10).await.expect("logs");
    assert_eq!(page.total, 2);
    let page = store
        .campaign_logs(None, Some(f.campaign_b), None, 10)
        .await
        .expect("logs");
    assert_eq!(ids(&page.items, |l| l.id), [f.log_b]);
    let page = store.campaign_logs(None, None, None, 1).await.expect("logs");
    assert!(page.has_more);
    assert_eq!(page.total, 3);
}

async fn should_find_images_generated_for_requests_and_campaigns(store: Store, f: &Fixture) {
    let [a1, a2, _] = f.images_a;
    let [r1, r2] = f.requests_a;
    let by_request = store.images_by_request(Some(f.org_a), &[r1, r2]).await.expect("images");
    assert_eq!(
        ids(&by_request[&r1], |i| i.id),
        [a2, a1],
        "newest first, deleted images left out"
    );
    assert_eq!(ids(&by_request[&r2], |i| i.id), [a2]);
    let by_campaign = store
        .images_by_campaign(Some(f.org_a), &[f.campaign_a, f.campaign_b])
        .await
        .expect("images");
    assert_eq!(
        ids(&by_campaign[&f.campaign_a], |i| i.id),
        [a2, a1],
        "each image once; a deleted request's images left out"
    );
    assert!(!by_campaign.contains_key(&f.campaign_b));
    let other = store
        .images_by_campaign(Some(f.org_b), &[f.campaign_a])
        .await
        .expect("images");
    assert!(other.is_empty());
}

async fn should_list_integrations_without_their_credentials(store: Store, f: &Fixture) {
    let page = store.integrations(Some(f.org_a), None, 10).await.expect("integrations");
    let names: Vec<&str> = page.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        ["Webhook", "mailchimp"],
        "ordered by bytes, as MongoDB orders strings"
    );
    assert_eq!(page.total, 2);
    let mailchimp = &page.items[1];
    assert!(mailchimp.has_credentials);
    assert_eq!(mailchimp.credentials_key_id.as_deref(), Some("kek-2025"));
    assert!(!page.items[0].has_credentials && page.items[0].credentials_key_id.is_none());
    let first = store.integrations(Some(f.org_a), None, 1).await.expect("integrations");
    let after = first.items.last().map(|i| After {
        key: i.name.clone(),
        id: i.id,
    });
    let second = store.integrations(Some(f.org_a), after, 1).await.expect("integrations");
    assert_eq!(ids(&second.items, |i| i.id), [f.integrations_a[0]]);
    assert!(first.has_more && !second.has_more);
    let found = store
        .integrations_by_id(
            Some(f.org_a),
            &[f.integration_b, f.integrations_a[0], f.integration_a_deleted],
        )
        .await
        .expect("integrations");
    assert_eq!(found.keys().copied().collect::<Vec<_>>(), [f.integrations_a[0]]);
}

/// Reads a whole feed page by page and checks its order, then that `since` is exclusive.
async fn check_feed<T: Clone>(
    read: impl AsyncFn(DateTime<Utc>, Option<After<DateTime<Utc>>>, usize) -> Page<T>,
    key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
    expected: usize,
) -> Vec<T> {
    let all = read(DateTime::UNIX_EPOCH, None, 1000).await.items;
    assert_eq!(all.len(), expected);
    let keys: Vec<_> = all.iter().map(&key).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "oldest change first, then id");
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = read(DateTime::UNIX_EPOCH, after, 2).await;
        assert_eq!(page.total as usize, expected);
        paged.extend(page.items.iter().map(&key));
        after = page.items.last().map(|i| {
            let (at, id) = key(i);
            After { key: at, id }
        });
        if !page.has_more {
            break;
        }
    }
    assert_eq!(paged, keys);
    let since = keys[1].0;
    let later = read(since, None, 1000).await;
    let want = keys.iter().filter(|(at, _)| *at > since).count();
    assert_eq!(later.items.len(), want);
    assert_eq!(later.total as usize, want);
    all
}

async fn should_feed_changes_since_a_time_with_tombstones(store: Store, f: &Fixture) {
    let s = store.clone();
    let images = check_feed(
        async |since, after, first| s.images_updated_since(None, since, after, first).await.expect("feed"),
        |i| (i.updated_at, i.id),
        7,
    )
    .await;
    assert!(
        images
            .iter()
            .any(|i| i.id == f.image_a_deleted && i.deleted_at.is_some())
    );
    let tenant = store
        .images_updated_since(Some(f.org_a), DateTime::UNIX_EPOCH, None, 100)
        .await
        .expect("feed");
    assert_eq!(
        tenant.items.len(),
        6,
        "a tenant's feed: its own images and the stock library"
    );
    let s = store.clone();
    let requests = check_feed(
        async |since, after, first| {
            s.content_requests_updated_since(None, since, after, first)
                .await
                .expect("feed")
        },
        |r| (r.updated_at, r.id),
        4,
    )
    .await;
    assert!(
        requests
            .iter()
            .any(|r| r.id == f.request_a_deleted && r.deleted_at.is_some())
    );
    let s = store.clone();
    check_feed(
        async |since, after, first| {
            s.campaign_logs_updated_since(None, since, after, first)
                .await
                .expect("feed")
        },
        |l| (l.updated_at, l.id),
        4,
    )
    .await;
    let tenant = store
        .campaign_logs_updated_since(Some(f.org_b), DateTime::UNIX_EPOCH, None, 100)
        .await
        .expect("feed");
    assert_eq!(ids(&tenant.items, |l| l.id), [f.log_b]);
}

fn new_request(f: &Fixture) -> NewContentRequest {
    NewContentRequest {
        id: Uuid::new_v4(),
        organization_id: f.org_a,
        campaign_id: f.campaign_a,
        requested_by: Uuid::new_v4(),
        campaign_description: "Autumn menu launch with $5 pumpkin lattes; warm, cosy cafés.".into(),
        target_audiences: vec![TargetAudience {
            name: "Commuters".into(),
            age_min: 25,
            age_max: 40,
            locales: vec!["en-US".into(), "es-419".into()],
            interests: vec!["$coffee".into()],
            country_codes: vec!["US".into()],
        }],
    }
}

async fn should_create_a_content_request_stamped_by_the_store(store: Store, f: &Fixture) {
    let before = Utc::now() - chrono::Duration::seconds(5);
    let request = new_request(f);
    let created = store.create_content_request(&request).await.expect("created");
    assert_eq!(created.id, request.id);
    assert_eq!(created.status, "open");
    assert_eq!(created.campaign_description, request.campaign_description);
    assert_eq!(
        created.target_audiences, request.target_audiences,
        "`$` strings are stored as written"
    );
    assert!(created.created_at >= before && created.updated_at >= created.created_at);
    assert!(created.deleted_at.is_none());
    let found = store
        .content_requests_by_id(Some(f.org_a), &[request.id])
        .await
        .expect("read");
    assert_eq!(found[&request.id].requested_by, request.requested_by);
    let feed = store
        .content_requests_updated_since(None, before, None, 100)
        .await
        .expect("feed");
    assert!(
        ids(&feed.items, |r| r.id).contains(&request.id),
        "the ETL sees the new request"
    );
}

async fn should_refuse_an_invalid_content_request_and_write_nothing(store: Store, f: &Fixture) {
    let count = |s: Store| async move {
        s.content_requests(None, &RequestFilter::default(), None, 1)
            .await
            .expect("count")
            .total
    };
    let before = count(store.clone()).await;
    let mut request = new_request(f);
    request.campaign_description = "Too short".into();
    request.target_audiences[0].age_min = 50;
    request.target_audiences[0].country_codes = vec!["usa".into()];
    let Err(StoreError::Invalid(violations)) = store.create_content_request(&request).await else {
        panic!("an invalid request must be refused")
    };
    let found: Vec<(&str, &str)> = violations.iter().map(|v| (v.path.as_str(), v.rule)).collect();
    assert_eq!(
        found,
        [
            ("campaign_description", "minLength"),
            ("target_audiences.0.country_codes.0", "maxLength"),
            ("target_audiences.0.country_codes.0", "pattern"),
            ("target_audiences.0.age_min", "atMostAgeMax"),
        ]
    );
    request.target_audiences.clear();
    assert!(matches!(
        store.create_content_request(&request).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(count(store.clone()).await, before);
}

fn new_draft(f: &Fixture) -> NewCampaignLog {
    NewCampaignLog {
        id: Uuid::new_v4(),
        organization_id: f.org_a,
        campaign_id: f.campaign_a,
        content_request_id: Some(f.requests_a[0]),
        population: "Commuters".into(),
        channel_code: "instagram".into(),
        status: "pending_approval".into(),
        messages: ["Meet the $5 latte", "Warm up your commute", "Order now"]
            .iter()
            .enumerate()
            .map(|(i, text)| LogMessage {
                at: Utc::now() + chrono::Duration::days(i as i64 + 1),
                locale: "en-US".into(),
                text: (*text).into(),
            })
            .collect(),
    }
}

async fn should_store_a_draft_and_record_one_decision_on_it(store: Store, f: &Fixture) {
    let draft = new_draft(f);
    let created = store.create_campaign_log(&draft).await.expect("draft stored");
    assert_eq!(created.status, "pending_approval");
    assert_eq!(created.content_request_id, Some(f.requests_a[0]));
    assert_eq!(created.messages.len(), 3);
    assert_eq!(
        created.messages[0].text, "Meet the $5 latte",
        "`$` texts are stored as written"
    );
    assert!(created.reviewed_by.is_none() && created.reviewed_at.is_none());

    let review = |status: &'static str, note: Option<&str>| LogReview {
        id: draft.id,
        status,
        reviewer: "$reviewer@example".into(),
        note: note.map(str::to_owned),
    };
    // Another tenant cannot see it, so cannot decide it.
    assert!(matches!(
        store
            .review_campaign_log(Some(f.org_b), &review("approved", None))
            .await
            .expect("review"),
        Reviewed::NotFound
    ));
    let Reviewed::Done(decided) = store
        .review_campaign_log(Some(f.org_a), &review("rejected", Some("$5 is last year's price")))
        .await
        .expect("review")
    else {
        panic!("a pending draft is decided")
    };
    assert_eq!(decided.status, "rejected");
    assert_eq!(decided.reviewed_by.as_deref(), Some("$reviewer@example"));
    assert_eq!(decided.review_note.as_deref(), Some("$5 is last year's price"));
    let at = decided.reviewed_at.expect("a decision time");
    assert!(at >= created.created_at && decided.updated_at >= at);

    // Decided once: a second decision, even by staff, is refused and changes nothing.
    let second = store
        .review_campaign_log(None, &review("approved", None))
        .await
        .expect("review");
    assert!(
        matches!(second, Reviewed::NotPending(ref s) if s == "rejected"),
        "{second:?}"
    );
    let found = store
        .campaign_logs_by_id(Some(f.org_a), &[draft.id])
        .await
        .expect("read");
    assert_eq!(found[&draft.id].status, "rejected");
    // A log that was sent, not drafted, is not for review; an unknown id is not found.
    let sent = LogReview {
        id: f.logs_a[0],
        ..review("approved", None)
    };
    let sent = store.review_campaign_log(None, &sent).await.expect("review");
    assert!(matches!(sent, Reviewed::NotPending(ref s) if s == "sent"), "{sent:?}");
    let unknown = LogReview {
        id: Uuid::new_v4(),
        ..review("approved", None)
    };
    let unknown = store.review_campaign_log(None, &unknown).await.expect("review");
    assert!(matches!(unknown, Reviewed::NotFound), "{unknown:?}");
}

async fn should_let_one_of_two_simultaneous_reviewers_win(store: Store, f: &Fixture) {
    let draft = new_draft(f);
    store.create_campaign_log(&draft).await.expect("draft stored");
    let decide = |status: &'static str| {
        let store = store.clone();
        let review = LogReview {
            id: draft.id,
            status,
            reviewer: format!("reviewer-{status}"),
            note: None,
        };
        async move { store.review_campaign_log(None, &review).await.expect("review") }
    };
    let (a, b) = tokio::join!(decide("approved"), decide("rejected"));
    let won: Vec<&str> = [&a, &b]
        .iter()
        .filter_map(|r| match r {
            Reviewed::Done(log) => Some(log.status.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(won.len(), 1, "exactly one decision: {a:?} {b:?}");
    let found = store.campaign_logs_by_id(None, &[draft.id]).await.expect("read");
    assert_eq!(found[&draft.id].status, won[0]);
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let (_db, store, fixture) = super::support::postgres().await;
                    super::$name(store, &fixture).await;
                }
            )*
        }

        mod mongodb {
            $(
                #[tokio::test]
                #[ignore = "needs a MongoDB: set PROMPTSALES_MONGO_URL"]
                async fn $name() {
                    let (_db, store, fixture) = super::support::mongodb().await;
                    super::$name(store, &fixture).await;
                }
            )*
        }
    };
}

conformance!(
    should_list_a_tenants_images_and_the_stock_library_newest_first,
    should_page_images_without_gaps_or_repeats,
    should_filter_images_by_hashtag,
    should_find_images_by_id_within_what_the_tenant_sees,
    should_serve_image_bytes_whose_hash_is_the_recorded_one,
    should_list_hashtags_most_used_first,
    should_find_hashtags_by_id_and_by_tag,
    should_list_content_requests_with_filters,
    should_find_content_requests_and_logs_by_id_and_campaign,
    should_list_campaign_logs_newest_first,
    should_find_images_generated_for_requests_and_campaigns,
    should_list_integrations_without_their_credentials,
    should_feed_changes_since_a_time_with_tombstones,
    should_create_a_content_request_stamped_by_the_store,
    should_refuse_an_invalid_content_request_and_write_nothing,
    should_store_a_draft_and_record_one_decision_on_it,
    should_let_one_of_two_simultaneous_reviewers_win,
);
