//! One conformance suite for every adapter of the crm store: written once over
//! `Arc<dyn CrmStore>`, run against PostgreSQL always and against SQL Server when
//! `PROMPTSALES_MSSQL_URL` names a server (otherwise reported as ignored, never silently passed).

mod common;

use std::{collections::HashSet, sync::Arc};

use chrono::{DateTime, TimeZone, Utc};
use common::{
    fixture::{EMAIL, Fixture, NATIONAL_ID},
    load::{MssqlWriter, PgWriter, Writer},
};
use promptsales_crm::store::{CrmStore, CustomerFilter, MssqlStore, NameAfter, Page, PgStore, TimeAfter};
use promptsales_platform::{
    Store,
    crypto::{aad, normalize_email, normalize_national_id},
    migrate,
};
use promptsales_testkit::{TestDb, remote};
use rust_decimal::Decimal;
use uuid::Uuid;

#[tokio::test]
async fn postgres_store_conforms() {
    let db = TestDb::migrated(Store::Crm).await;
    let fixture = Fixture::new();
    let writer = PgWriter(db.pool().clone());
    writer.load(&fixture).await;
    suite(Arc::new(PgStore::from_pool(db.pool().clone())), &fixture, &writer).await;
}

#[tokio::test]
#[ignore = "needs a SQL Server: set PROMPTSALES_MSSQL_URL"]
async fn sql_server_store_conforms() {
    let url = remote::mssql_database();
    let _drop = DropMssql(url.clone());
    migrate::run(Store::Crm, &url)
        .await
        .expect("migrate the crm store on SQL Server");
    let fixture = Fixture::new();
    let writer = MssqlWriter(url.clone());
    writer.load(&fixture).await;
    let store = MssqlStore::connect(&url).await.expect("SQL Server pool");
    suite(Arc::new(store), &fixture, &writer).await;
}

/// Drops the random SQL Server database when the test ends, passed or failed (a thread with its
/// own runtime: Drop cannot await in the test's runtime).
struct DropMssql(promptsales_platform::StoreUrl);

impl Drop for DropMssql {
    fn drop(&mut self) {
        let url = self.0.clone();
        let done = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("clean-up runtime")
                .block_on(remote::drop_mssql(&url));
        });
        let _ = done.join();
    }
}

async fn suite(store: Arc<dyn CrmStore>, f: &Fixture, writer: &dyn Writer) {
    let s = store.as_ref();
    lists_customers_by_name_per_tenant(s, f).await;
    filters_customers_and_finds_them_by_blind_index(s, f).await;
    reads_customers_by_id_with_their_keys(s, f).await;
    pages_campaign_customers_per_campaign(s, f).await;
    pages_leads_and_counts_the_funnel(s, f).await;
    pages_interactions_and_purchases(s, f).await;
    totals_campaign_sales_per_channel_and_market(s, f).await;
    reads_leads_interactions_and_sales_by_id(s, f).await;
    feeds_every_change_to_the_etl(s, f).await;
    sees_a_refund_as_a_change(s, f, writer).await;
}

fn last_names(page: &Page<promptsales_crm::store::Customer>) -> Vec<&str> {
    page.items.iter().map(|c| c.last_name.as_str()).collect()
}

async fn lists_customers_by_name_per_tenant(s: &dyn CrmStore, f: &Fixture) {
    let all = CustomerFilter::default();
    let page = s.customers(Some(f.org_a), &all, None, 3).await.expect("customers");
    assert_eq!(last_names(&page), ["Díaz", "García López", "Ruiz"]);
    assert!(page.has_more);
    assert_eq!(page.total, 4, "live customers of A (Diego is deleted)");
    let last = &page.items[2];
    let after = NameAfter {
        last_name: last.last_name.clone(),
        first_name: last.first_name.clone(),
        id: last.id,
    };
    let page = s.customers(Some(f.org_a), &all, Some(after), 3).await.expect("page 2");
    assert_eq!(last_names(&page), ["Torres"]);
    assert!(!page.has_more);

    let staff = s.customers(None, &all, None, 10).await.expect("staff");
    assert_eq!(last_names(&staff), ["Díaz", "García López", "Gómez", "Ruiz", "Torres"]);
    assert_eq!(staff.total, 5);
    let b = s.customers(Some(f.org_b), &all, None, 10).await.expect("tenant B");
    assert_eq!(last_names(&b), ["Gómez"]);
}

async fn filters_customers_and_finds_them_by_blind_index(s: &dyn CrmStore, f: &Fixture) {
    let a = Some(f.org_a);
    let check = async |filter: CustomerFilter, tenant: Option<Uuid>, expected: &[&str]| {
        let page = s.customers(tenant, &filter, None, 10).await.expect("filtered");
        assert_eq!(last_names(&page), expected, "{filter:?}");
        assert_eq!(page.total, expected.len() as i64, "{filter:?}");
    };
    let country = |c: &str| CustomerFilter {
        country_code: Some(c.into()),
        ..Default::default()
    };
    check(country("MX"), a, &["Díaz", "García López"]).await;
    check(
        CustomerFilter {
            city: Some("GUADALAJARA".into()),
            ..Default::default()
        },
        a,
        &["García López"],
    )
    .await;
    check(
        CustomerFilter {
            segment: Some("vip".into()),
            ..Default::default()
        },
        a,
        &["Díaz"],
    )
    .await;
    let words = |w: &[&str]| CustomerFilter {
        name_words: w.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    };
    check(words(&["garc", "ANA"]), a, &["García López"]).await;
    check(words(&["ana", "torres"]), a, &[]).await;
    check(words(&["100%"]), a, &[]).await;
    check(
        CustomerFilter {
            segment: Some("new".into()),
            ..country("US")
        },
        a,
        &["Torres"],
    )
    .await;

    let by_email = CustomerFilter {
        email_bidx: Some(
            f.keyring
                .blind_index(EMAIL, &normalize_email(" ANA.garcia@EXAMPLE.com "))
                .to_vec(),
        ),
        ..Default::default()
    };
    check(by_email.clone(), a, &["García López"]).await;
    check(by_email.clone(), Some(f.org_b), &["Gómez"]).await;
    check(by_email, None, &["García López", "Gómez"]).await;
    let by_national_id = CustomerFilter {
        national_id_bidx: Some(
            f.keyring
                .blind_index(NATIONAL_ID, &normalize_national_id("gala800101-mjcrpn01"))
                .to_vec(),
        ),
        ..Default::default()
    };
    check(by_national_id.clone(), a, &["García López"]).await;
    check(by_national_id, Some(f.org_b), &[]).await;
}

async fn reads_customers_by_id_with_their_keys(s: &dyn CrmStore, f: &Fixture) {
    let (ana, diego, elena, fernando) = (
        f.person("Ana"),
        f.person("Diego"),
        f.person("Elena"),
        f.person("Fernando"),
    );
    let ids = [ana.id, diego.id, fernando.id, Uuid::new_v4()];
    let found = s.customers_by_id(Some(f.org_a), &ids).await.expect("by id");
    assert_eq!(
        found.len(),
        2,
        "Ana and the tombstoned Diego; Fernando is another tenant's"
    );
    assert!(found[&diego.id].deleted_at.is_some());
    assert_eq!(s.customers_by_id(None, &ids).await.expect("staff").len(), 3);

    let keys = s
        .customer_keys(Some(f.org_a), &[ana.id, elena.id, fernando.id])
        .await
        .expect("keys");
    assert_eq!(keys.len(), 1, "Elena was erased (no key), Fernando is another tenant's");
    let key = f.keyring.unwrap(&keys[&ana.id]).expect("unwraps");
    let sealed = found[&ana.id].email_enc.as_deref().expect("sealed e-mail");
    let clear = key.open(sealed, &aad(EMAIL, ana.id)).expect("opens");
    assert_eq!(clear.as_slice(), ana.pii.expect("pii").1.as_bytes());
    let elena_row = &s.customers_by_id(None, &[elena.id]).await.expect("elena")[&elena.id];
    assert!(elena_row.email_enc.is_none() && elena_row.erased_at.is_some());
}

async fn pages_campaign_customers_per_campaign(s: &dyn CrmStore, f: &Fixture) {
    let (ana, bruno, carla) = (f.person("Ana").id, f.person("Bruno").id, f.person("Carla").id);
    let pages = s
        .campaign_customers(Some(f.org_a), &[f.c1, f.c2, f.c3], None, 2)
        .await
        .expect("links");
    let c1 = &pages[&f.c1];
    let ids: Vec<Uuid> = c1.items.iter().map(|l| l.customer_id).collect();
    assert_eq!(ids, [carla, bruno], "most recently linked first");
    assert!(c1.has_more);
    assert_eq!(c1.total, 3, "the unlinked Diego does not count");
    assert_eq!(pages[&f.c2].items.len(), 1);
    assert_eq!(pages[&f.c2].total, 1);
    assert!(!pages.contains_key(&f.c3), "C3 belongs to organization B");

    let last = &c1.items[1];
    let after = TimeAfter {
        at: last.linked_at,
        id: last.customer_id,
    };
    let next = s
        .campaign_customers(Some(f.org_a), &[f.c1], Some(after), 2)
        .await
        .expect("page 2");
    let ids: Vec<Uuid> = next[&f.c1].items.iter().map(|l| l.customer_id).collect();
    assert_eq!(ids, [ana]);
    assert!(!next[&f.c1].has_more);
    assert_eq!(next[&f.c1].total, 3);

    let staff = s.campaign_customers(None, &[f.c3], None, 5).await.expect("staff");
    assert_eq!(staff[&f.c3].items[0].customer_id, f.person("Fernando").id);
}

async fn pages_leads_and_counts_the_funnel(s: &dyn CrmStore, f: &Fixture) {
    let leads = s
        .campaign_leads(Some(f.org_a), &[f.c1], None, None, 10)
        .await
        .expect("leads");
    let statuses: Vec<&str> = leads[&f.c1].items.iter().map(|l| l.status.as_str()).collect();
    assert_eq!(
        statuses,
        ["lost", "new", "qualified", "converted"],
        "newest first, deleted left out"
    );
    let converted = s
        .campaign_leads(Some(f.org_a), &[f.c1, f.c2], Some("converted"), None, 10)
        .await
        .expect("converted");
    assert_eq!(converted[&f.c1].total, 1);
    assert_eq!(converted[&f.c1].items[0].customer_id, f.person("Ana").id);
    assert!(!converted.contains_key(&f.c2));

    let funnels = s.campaign_funnels(None, &[f.c1, f.c2, f.c3]).await.expect("funnels");
    let c1 = &funnels[&f.c1];
    assert_eq!(
        (c1.customers_linked, c1.customers_reached, c1.leads, c1.converted_leads),
        (3, 2, 4, 1)
    );
    let c2 = &funnels[&f.c2];
    assert_eq!((c2.customers_linked, c2.customers_reached, c2.leads), (1, 0, 0));
    assert_eq!(funnels[&f.c3].customers_reached, 1);
    let tenant_b = s.campaign_funnels(Some(f.org_b), &[f.c1]).await.expect("B");
    assert!(tenant_b.is_empty());
}

async fn pages_interactions_and_purchases(s: &dyn CrmStore, f: &Fixture) {
    let ana = f.person("Ana").id;
    let by_campaign = s
        .campaign_interactions(Some(f.org_a), &[f.c1], None, 10)
        .await
        .expect("campaign interactions");
    let kinds: Vec<&str> = by_campaign[&f.c1].items.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(kinds, ["message", "click", "view"]);

    let first = s
        .customer_interactions(Some(f.org_a), &[ana], None, 2)
        .await
        .expect("customer interactions");
    let page = &first[&ana];
    let kinds: Vec<&str> = page.items.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(kinds, ["visit", "click"]);
    assert!(page.has_more);
    assert_eq!(page.total, 3);
    let last = &page.items[1];
    let after = TimeAfter {
        at: last.occurred_at,
        id: last.id,
    };
    let rest = s
        .customer_interactions(Some(f.org_a), &[ana], Some(after), 2)
        .await
        .expect("page 2");
    assert_eq!(rest[&ana].items.len(), 1);
    assert_eq!(rest[&ana].items[0].kind, "view");

    let purchases = s
        .customer_sales(Some(f.org_a), &[ana, f.person("Bruno").id], None, 10)
        .await
        .expect("purchases");
    let amounts: Vec<Decimal> = purchases[&ana].items.iter().map(|s| s.amount_usd).collect();
    assert_eq!(
        amounts,
        [Decimal::new(2_000, 2), Decimal::new(20_000, 2)],
        "newest first"
    );
    assert_eq!(purchases[&f.person("Bruno").id].total, 1, "the refund does not count");
    let empty = s.customer_sales(Some(f.org_b), &[ana], None, 10).await.expect("B");
    assert!(empty.is_empty());
}

async fn totals_campaign_sales_per_channel_and_market(s: &dyn CrmStore, f: &Fixture) {
    let sales = s.campaign_sales(Some(f.org_a), &[f.c1, f.c3]).await.expect("sales");
    assert!(!sales.contains_key(&f.c3));
    let mut cells: Vec<(Uuid, Uuid, i64, i64, Decimal)> = sales[&f.c1]
        .iter()
        .map(|c| (c.channel_id, c.market_id, c.sales_count, c.quantity, c.amount_usd))
        .collect();
    cells.sort();
    let mut expected = vec![
        (f.social, f.mx, 1, 2, Decimal::new(20_000, 2)),
        (f.email_channel, f.mx, 1, 1, Decimal::new(5_050, 2)),
        (f.social, f.us, 1, 3, Decimal::new(3_000, 2)),
    ];
    expected.sort();
    assert_eq!(cells, expected);
    let staff = s.campaign_sales(None, &[f.c3]).await.expect("staff");
    assert_eq!(staff[&f.c3][0].amount_usd, Decimal::new(7_000, 2));
}

async fn reads_leads_interactions_and_sales_by_id(s: &dyn CrmStore, f: &Fixture) {
    let lead_ids: Vec<Uuid> = f.leads.iter().map(|l| l.id).collect();
    let leads = s.leads_by_id(Some(f.org_a), &lead_ids).await.expect("leads");
    assert_eq!(leads.len(), 5, "tombstones included");
    assert!(s.leads_by_id(Some(f.org_b), &lead_ids).await.expect("B").is_empty());
    let interaction_ids: Vec<Uuid> = f.interactions.iter().map(|i| i.id).collect();
    let interactions = s
        .interactions_by_id(None, &interaction_ids)
        .await
        .expect("interactions");
    assert_eq!(interactions.len(), 5);
    let sale_ids: Vec<Uuid> = f.sales.iter().map(|s| s.id).collect();
    let sales = s.sales_by_id(Some(f.org_a), &sale_ids).await.expect("sales");
    assert_eq!(sales.len(), 5, "organization B's sale left out");
    let mxn = sales
        .values()
        .find(|s| s.original_currency == "MXN")
        .expect("the MXN sale");
    assert_eq!(
        (mxn.original_amount, mxn.fx_rate_to_usd, mxn.amount_usd),
        (Decimal::new(60_000, 2), Decimal::new(5, 2), Decimal::new(3_000, 2))
    );
    assert!(s.sales_by_id(None, &[]).await.expect("empty").is_empty());
}

/// Pages through a `…_updated_since` feed, checking the keyset order, and returns every row.
async fn drain<T>(
    page: impl AsyncFn(Option<TimeAfter>) -> Page<T>,
    key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
) -> (Vec<T>, i64) {
    let mut out: Vec<T> = Vec::new();
    let mut after = None;
    loop {
        let p = page(after).await;
        let total = p.total;
        for item in p.items {
            if let Some(prev) = out.last() {
                assert!(key(prev) < key(&item), "oldest change first, no repeats");
            }
            out.push(item);
        }
        if !p.has_more {
            return (out, total);
        }
        let (at, id) = key(out.last().expect("a full page has items"));
        after = Some(TimeAfter { at, id });
    }
}

fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single().expect("valid")
}

async fn feeds_every_change_to_the_etl(s: &dyn CrmStore, f: &Fixture) {
    let since = epoch();
    let (customers, total) = drain(
        async |a| s.customers_updated_since(None, since, a, 2).await.expect("customers"),
        |c| (c.updated_at, c.id),
    )
    .await;
    assert_eq!(
        (customers.len(), total),
        (6, 6),
        "deleted and erased customers included"
    );
    let ids: HashSet<Uuid> = customers.iter().map(|c| c.id).collect();
    assert_eq!(ids, f.people.iter().map(|p| p.id).collect());
    let (b, _) = drain(
        async |a| s.customers_updated_since(Some(f.org_b), since, a, 2).await.expect("B"),
        |c| (c.updated_at, c.id),
    )
    .await;
    assert_eq!(b.len(), 1);

    let (leads, _) = drain(
        async |a| s.leads_updated_since(None, since, a, 2).await.expect("leads"),
        |l| (l.updated_at, l.id),
    )
    .await;
    assert_eq!(leads.len(), 5);
    assert_eq!(leads.iter().filter(|l| l.deleted_at.is_some()).count(), 1);
    let (interactions, _) = drain(
        async |a| {
            s.interactions_updated_since(Some(f.org_a), since, a, 2)
                .await
                .expect("interactions")
        },
        |i| (i.updated_at, i.id),
    )
    .await;
    assert_eq!(interactions.len(), 5);
    let (sales, total) = drain(
        async |a| s.sales_updated_since(None, since, a, 4).await.expect("sales"),
        |s| (s.updated_at, s.id),
    )
    .await;
    assert_eq!((sales.len(), total), (6, 6));

    // Links page on a three-part key.
    let mut links = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .campaign_customers_updated_since(None, since, after, 4)
            .await
            .expect("links");
        assert_eq!(page.total, 6);
        links.extend(page.items);
        if !page.has_more {
            break;
        }
        let l = links.last().expect("items");
        after = Some(promptsales_crm::store::LinkAfter {
            at: l.updated_at,
            campaign_id: l.campaign_id,
            customer_id: l.customer_id,
        });
    }
    let pairs: HashSet<(Uuid, Uuid)> = links.iter().map(|l| (l.campaign_id, l.customer_id)).collect();
    assert_eq!(pairs.len(), 6, "every link once, the unlinked one included");
    assert!(links.iter().any(|l| l.deleted_at.is_some()));

    let latest = sales.iter().map(|s| s.updated_at).max().expect("sales");
    let none = s.sales_updated_since(None, latest, None, 10).await.expect("after all");
    assert!(none.items.is_empty() && none.total == 0);
}

async fn sees_a_refund_as_a_change(s: &dyn CrmStore, f: &Fixture, writer: &dyn Writer) {
    let all = s.sales_updated_since(None, epoch(), None, 100).await.expect("sales");
    let checkpoint = all.items.iter().map(|s| s.updated_at).max().expect("sales");
    // SQL Server keeps milliseconds: make sure the refund lands in a later one.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let refunded = f
        .sales
        .iter()
        .find(|s| s.channel == f.email_channel)
        .expect("Bruno's e-mail sale")
        .id;
    writer.refund(refunded).await;
    let changes = s
        .sales_updated_since(None, checkpoint, None, 10)
        .await
        .expect("changes");
    assert_eq!(changes.items.len(), 1);
    assert_eq!(changes.items[0].id, refunded);
    assert!(changes.items[0].deleted_at.is_some());
    let totals = s.campaign_sales(None, &[f.c1]).await.expect("totals");
    let sum: Decimal = totals[&f.c1].iter().map(|c| c.amount_usd).sum();
    assert_eq!(sum, Decimal::new(23_000, 2), "the refund leaves the totals");
}
