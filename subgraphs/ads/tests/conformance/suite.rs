//! The checks of the conformance suite, each over any adapter with the fixture loaded.

use std::{collections::HashSet, sync::Arc};

use chrono::{DateTime, Duration, TimeZone, Utc};
use promptsales_ads::store::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::common::fixture::{Fixture, STATUSES, channel_id, market_id};

type S = Arc<dyn AdsStore>;

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal literal")
}

fn epoch() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

/// A valid campaign for organization A, with fresh ids.
pub fn valid_input(fx: &Fixture) -> NewCampaign {
    let start = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).single().expect("valid time");
    NewCampaign {
        id: Uuid::new_v4(),
        brand_id: fx.brand_a1,
        product_id: Some(fx.product_a1),
        name: "Summer launch".into(),
        description: Some("New flavours for the summer.".into()),
        objective: "awareness".into(),
        budget: dec("25000.00"),
        currency: "USD".into(),
        starts_at: start,
        ends_at: start + Duration::days(30),
        idempotency_key: None,
        created_by: Some(Uuid::new_v4()),
        channels: vec![
            NewChannel {
                code: "instagram".into(),
                budget_share: dec("0.6"),
            },
            NewChannel {
                code: "email".into(),
                budget_share: dec("0.4"),
            },
        ],
        markets: vec!["MX".into(), "US".into()],
        ads: vec![
            NewAd {
                id: Uuid::new_v4(),
                name: "Hero".into(),
                format: "image".into(),
                headline: Some("Summer is here".into()),
                body: None,
                call_to_action: Some("Shop now".into()),
                landing_url: Some("https://example.com/summer".into()),
                content_image_id: Some(Uuid::new_v4()),
            },
            NewAd {
                id: Uuid::new_v4(),
                name: "Copy".into(),
                format: "text".into(),
                headline: Some("Cool down".into()),
                body: Some("Three new flavours.".into()),
                call_to_action: None,
                landing_url: None,
                content_image_id: None,
            },
        ],
    }
}

/// The same request again, as a retry sends it: new ids, same content.
fn retry_of(input: &NewCampaign) -> NewCampaign {
    let mut again = input.clone();
    again.id = Uuid::new_v4();
    for ad in &mut again.ads {
        ad.id = Uuid::new_v4();
    }
    again
}

/// How many campaigns (tombstones included), channel links and market links the store holds.
async fn census(store: &S) -> (i64, i64, i64) {
    let campaigns = store
        .campaigns_updated_since(None, epoch(), None, 1)
        .await
        .expect("campaigns");
    let channels = store
        .campaign_channels_updated_since(None, epoch(), None, 1)
        .await
        .expect("channel links");
    let markets = store
        .campaign_markets_updated_since(None, epoch(), None, 1)
        .await
        .expect("market links");
    (campaigns.total, channels.total, markets.total)
}

pub async fn should_list_campaigns_newest_first_in_keyset_pages(store: &S, fx: &Fixture) {
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .campaigns(Some(fx.org_a), &CampaignFilter::default(), after, 25)
            .await
            .expect("page");
        assert_eq!(page.total, 60, "the deleted campaign is not counted");
        assert!(page.items.len() <= 25);
        seen.extend(page.items.iter().map(|c| c.id));
        if !page.has_more {
            break;
        }
        let last = page.items.last().expect("a full page");
        after = Some(ByStart {
            starts_at: last.starts_at,
            id: last.id,
        });
    }
    let expected: Vec<Uuid> = fx.live_a().iter().map(|c| c.id).collect();
    assert_eq!(seen, expected);
    let empty = store
        .campaigns(Some(fx.org_a), &CampaignFilter::default(), None, 0)
        .await
        .expect("empty page");
    assert!(empty.items.is_empty() && empty.has_more && empty.total == 60);
}

pub async fn should_filter_campaigns_by_each_criterion(store: &S, fx: &Fixture) {
    let live = fx.live_a();
    let check = |filter: CampaignFilter, expected: Vec<Uuid>| async move {
        let page = store.campaigns(Some(fx.org_a), &filter, None, 100).await.expect("page");
        let got: Vec<Uuid> = page.items.iter().map(|c| c.id).collect();
        assert_eq!(got, expected, "{filter:?}");
        assert_eq!(page.total, expected.len() as i64, "{filter:?}");
    };
    let ids = |keep: &dyn Fn(usize) -> bool| -> Vec<Uuid> {
        live.iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(_, c)| c.id)
            .collect()
    };
    check(
        CampaignFilter {
            status: Some("paused".into()),
            ..Default::default()
        },
        ids(&|i| STATUSES[i % 6] == "paused"),
    )
    .await;
    check(
        CampaignFilter {
            brand_id: Some(fx.brand_a2),
            ..Default::default()
        },
        ids(&|i| i % 2 == 1),
    )
    .await;
    check(
        CampaignFilter {
            channel: Some("instagram".into()),
            ..Default::default()
        },
        ids(&|i| i % 2 == 0),
    )
    .await;
    check(
        CampaignFilter {
            market: Some("US".into()),
            ..Default::default()
        },
        ids(&|i| i % 3 == 0),
    )
    .await;
    check(
        CampaignFilter {
            started_after: Some(live[10].starts_at),
            started_before: Some(live[5].starts_at),
            ..Default::default()
        },
        ids(&|i| (6..=10).contains(&i)),
    )
    .await;
    check(
        CampaignFilter {
            search: Some("spring sale".into()),
            ..Default::default()
        },
        ids(&|i| i % 5 == 0),
    )
    .await;
    // LIKE wildcards in the text match literally: "A_1" would otherwise match "A01".
    check(
        CampaignFilter {
            search: Some("A_1".into()),
            ..Default::default()
        },
        vec![],
    )
    .await;
    check(
        CampaignFilter {
            status: Some("active".into()),
            channel: Some("instagram".into()),
            market: Some("US".into()),
            ..Default::default()
        },
        ids(&|i| i % 6 == 0),
    )
    .await;
}

pub async fn should_show_each_tenant_only_its_own_rows(store: &S, fx: &Fixture) {
    let all = CampaignFilter::default();
    let b = store.campaigns(Some(fx.org_b), &all, None, 100).await.expect("B");
    assert_eq!(b.total, 3);
    assert!(b.items.iter().all(|c| c.organization_id == fx.org_b));
    let staff = store.campaigns(None, &all, None, 100).await.expect("staff");
    assert_eq!(staff.total, 63);

    let b0 = fx.campaigns[61].id;
    let found = store
        .campaigns_by_id(Some(fx.org_b), &[fx.report, b0])
        .await
        .expect("by id");
    assert_eq!(found.keys().copied().collect::<Vec<_>>(), vec![b0]);
    let tenant = Some(fx.org_b);
    assert!(
        store
            .ads_of_campaigns(tenant, &[fx.report])
            .await
            .expect("ads")
            .is_empty()
    );
    assert!(store.ads_by_id(tenant, &[fx.positive_ad]).await.expect("ad").is_empty());
    assert!(
        store
            .channels_of_campaigns(tenant, &[fx.report])
            .await
            .expect("channels")
            .is_empty()
    );
    assert!(
        store
            .markets_of_campaigns(tenant, &[fx.report])
            .await
            .expect("markets")
            .is_empty()
    );
    assert!(
        store
            .placements_of_ads(tenant, &[fx.positive_ad])
            .await
            .expect("placements")
            .is_empty()
    );
    assert!(
        store
            .campaigns_by_brand(tenant, &[fx.brand_a1])
            .await
            .expect("brand")
            .is_empty()
    );
    let range = DayRange::default();
    assert!(
        store
            .results_totals(tenant, &[fx.report], range)
            .await
            .expect("totals")
            .is_empty()
    );
    assert!(
        store
            .results_daily(tenant, &[fx.report], range)
            .await
            .expect("daily")
            .is_empty()
    );
    let since = epoch();
    assert_eq!(
        store
            .campaigns_updated_since(tenant, since, None, 1)
            .await
            .expect("etl")
            .total,
        3
    );
    assert_eq!(
        store
            .ad_results_updated_since(tenant, since, None, 1)
            .await
            .expect("etl")
            .total,
        0
    );
    assert_eq!(
        store
            .sentiment_samples_updated_since(tenant, since, None, 1)
            .await
            .expect("etl")
            .total,
        28
    );
    let negative = store
        .negative_sentiment_ads(tenant, fx.turn_day, None, 10)
        .await
        .expect("negative");
    assert_eq!(
        negative.items.iter().map(|n| n.ad_id).collect::<Vec<_>>(),
        vec![fx.negative_ad_b]
    );
}

pub async fn should_load_relations_of_many_campaigns_at_once(store: &S, fx: &Fixture) {
    let live = fx.live_a();
    let ids: Vec<Uuid> = live.iter().map(|c| c.id).collect();
    let a = Some(fx.org_a);
    let channels = store.channels_of_campaigns(a, &ids).await.expect("channels");
    let markets = store.markets_of_campaigns(a, &ids).await.expect("markets");
    let ads = store.ads_of_campaigns(a, &ids).await.expect("ads");
    for c in &live {
        let links: Vec<(String, Decimal)> = channels[&c.id]
            .iter()
            .map(|l| (l.channel.code.clone(), l.budget_share))
            .collect();
        let expected: Vec<(String, Decimal)> = c.channels.iter().map(|(code, s)| ((*code).to_owned(), *s)).collect();
        assert_eq!(links, expected, "largest share first");
        let codes: Vec<&str> = markets[&c.id].iter().map(|m| m.market.code.as_str()).collect();
        assert_eq!(codes, c.markets, "by code");
        let names: Vec<(&str, &str)> = ads[&c.id]
            .iter()
            .map(|a| (a.name.as_str(), a.format.as_str()))
            .collect();
        assert_eq!(names, [("Ad 1", "image"), ("Ad 2", "text")]);
        assert_eq!(ads[&c.id].iter().map(|a| a.id).collect::<Vec<_>>(), c.ads);
    }
    let deleted = fx.campaigns.iter().find(|c| c.deleted).expect("a deleted campaign");
    assert!(store.ads_by_id(a, &deleted.ads).await.expect("ads").is_empty());

    let placements = store
        .placements_of_ads(a, &[fx.positive_ad, fx.negative_ad])
        .await
        .expect("placements");
    let p = &placements[&fx.positive_ad][0];
    assert_eq!(
        (p.channel_id, p.influencer_id, p.cost_model.as_str()),
        (channel_id("instagram"), Some(fx.influencers[0].0), "cpm")
    );
    assert_eq!(p.unit_cost, dec("4.5"));
    let p = &placements[&fx.negative_ad][0];
    assert_eq!((p.channel_id, p.influencer_id), (channel_id("email"), None));

    let by_brand = store
        .campaigns_by_brand(a, &[fx.brand_a1, fx.brand_a2])
        .await
        .expect("brand");
    let even: Vec<Uuid> = live.iter().step_by(2).map(|c| c.id).collect();
    assert_eq!(by_brand[&fx.brand_a1].iter().map(|c| c.id).collect::<Vec<_>>(), even);
    assert_eq!(by_brand[&fx.brand_a2].len(), 30);
    let by_product = store.campaigns_by_product(a, &[fx.product_a1]).await.expect("product");
    assert_eq!(
        by_product[&fx.product_a1].iter().map(|c| c.id).collect::<Vec<_>>(),
        even
    );
}

pub async fn should_serve_the_reference_data(store: &S, fx: &Fixture) {
    let channels = store.channels().await.expect("channels");
    assert_eq!(
        channels.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(),
        ["creators", "email", "facebook", "google", "instagram"]
    );
    let markets = store.markets().await.expect("markets");
    assert_eq!(
        markets.iter().map(|m| m.code.as_str()).collect::<Vec<_>>(),
        ["CO", "MX", "US"]
    );
    assert_eq!(markets[1].timezone, "America/Mexico_City");
    let by_id = store
        .channels_by_id(&[channel_id("email"), Uuid::nil()])
        .await
        .expect("channels by id");
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[&channel_id("email")].kind, "email");
    let by_id = store.markets_by_id(&[market_id("US")]).await.expect("markets by id");
    assert_eq!(by_id[&market_id("US")].region, "NA");

    let first = store.influencers(None, None, 2).await.expect("influencers");
    assert_eq!(first.total, 4);
    assert!(first.has_more);
    assert_eq!(
        first.items.iter().map(|i| i.followers).collect::<Vec<_>>(),
        [40_000, 12_000]
    );
    let last = first.items.last().expect("two");
    let second = store
        .influencers(
            None,
            Some(ByFollowers {
                followers: last.followers,
                id: last.id,
            }),
            2,
        )
        .await
        .expect("second page");
    assert!(!second.has_more);
    assert_eq!(
        second.items.iter().map(|i| i.followers).collect::<Vec<_>>(),
        [5_000, 900]
    );
    let on_instagram = store.influencers(Some("instagram"), None, 10).await.expect("instagram");
    assert_eq!(on_instagram.total, 3);
    let one = store.influencers_by_id(&[fx.influencers[3].0]).await.expect("by id");
    assert_eq!(one[&fx.influencers[3].0].channel_id, channel_id("creators"));
}

/// Sums of the fixture's live result rows of `campaign` that `keep`.
fn expected_totals(fx: &Fixture, campaign: Uuid, keep: impl Fn(&crate::common::fixture::FxResult) -> bool) -> Totals {
    let mut t = Totals::default();
    for r in fx
        .results
        .iter()
        .filter(|r| r.campaign == campaign && !r.deleted && keep(r))
    {
        t.views += r.views;
        t.interactions += r.interactions;
        t.likes += r.likes;
        t.sales += r.sales;
        t.reach += r.reach;
        t.exposure_hours += r.exposure_hours;
        t.cost += r.cost;
        t.revenue += r.revenue;
    }
    t
}

pub async fn should_report_results_aggregated_by_the_store(store: &S, fx: &Fixture) {
    let a = Some(fx.org_a);
    let second = fx.campaigns[1].id;
    let quiet = fx.campaigns[2].id;
    let all = DayRange::default();
    let totals = store
        .results_totals(a, &[fx.report, second, quiet], all)
        .await
        .expect("totals");
    assert_eq!(totals[&fx.report], expected_totals(fx, fx.report, |_| true));
    assert_eq!(totals[&second], expected_totals(fx, second, |_| true));
    assert!(!totals.contains_key(&quiet), "no results, no entry");

    let from = fx.day0 + Duration::days(2);
    let to = fx.day0 + Duration::days(4);
    let range = DayRange {
        from: Some(from),
        to: Some(to),
    };
    let totals = store.results_totals(a, &[fx.report], range).await.expect("range");
    assert_eq!(
        totals[&fx.report],
        expected_totals(fx, fx.report, |r| r.day >= from && r.day <= to)
    );

    let daily = store.results_daily(a, &[fx.report], all).await.expect("daily");
    let days = &daily[&fx.report];
    assert_eq!(days.len(), 10);
    for (d, day) in days.iter().enumerate() {
        assert_eq!(day.day, fx.day0 + Duration::days(d as i64), "oldest first");
        assert_eq!(day.totals, expected_totals(fx, fx.report, |r| r.day == day.day));
    }
    let by_channel = store.results_by_channel(a, &[fx.report], all).await.expect("channels");
    let rows = &by_channel[&fx.report];
    assert_eq!(rows.len(), 2);
    for row in rows {
        let code = if row.channel_id == channel_id("instagram") {
            "instagram"
        } else {
            "email"
        };
        assert_eq!(row.totals, expected_totals(fx, fx.report, |r| r.channel == code));
    }
    assert!(rows[0].totals.cost >= rows[1].totals.cost, "highest cost first");
    let by_market = store.results_by_market(a, &[fx.report], range).await.expect("markets");
    let rows = &by_market[&fx.report];
    assert_eq!(rows.len(), 2);
    for row in rows {
        let code = if row.market_id == market_id("MX") { "MX" } else { "US" };
        assert_eq!(
            row.totals,
            expected_totals(fx, fx.report, |r| r.market == code && r.day >= from && r.day <= to)
        );
    }
}

pub async fn should_find_ads_whose_sentiment_turned_negative(store: &S, fx: &Fixture) {
    let page = store
        .negative_sentiment_ads(Some(fx.org_a), fx.turn_day, None, 10)
        .await
        .expect("negative ads");
    assert_eq!(page.total, 1);
    let n = &page.items[0];
    // Since the turn: 14 days of 5 positive, 10 neutral and 30 negative mentions, except four
    // days with 12 negative (type misleading): (70 − 348) / 558.
    assert_eq!(
        (
            n.ad_id,
            n.campaign_id,
            n.positive_since,
            n.neutral_since,
            n.negative_since
        ),
        (fx.negative_ad, fx.report, 70, 140, 348)
    );
    assert_eq!(n.polarity_since, dec("-0.4982"));
    assert_eq!(n.polarity_before, Some(dec("0.5556")));
    assert_eq!(n.dominant_negative_type.as_deref(), Some("quality"));
    assert_eq!(n.reactions_before, Some(dec("8")));
    assert_eq!(n.reactions_since, dec("2"));
    assert_eq!(n.reaction_drop, Some(dec("0.75")));

    // Staff see both organizations' ads; tied polarities page by ad id without loss.
    let first = store
        .negative_sentiment_ads(None, fx.turn_day, None, 1)
        .await
        .expect("first page");
    assert_eq!((first.total, first.items.len(), first.has_more), (2, 1, true));
    let last = &first.items[0];
    let second = store
        .negative_sentiment_ads(
            None,
            fx.turn_day,
            Some(ByPolarity {
                polarity: last.polarity_since,
                ad_id: last.ad_id,
            }),
            1,
        )
        .await
        .expect("second page");
    assert!(!second.has_more);
    let both: HashSet<Uuid> = first.items.iter().chain(&second.items).map(|n| n.ad_id).collect();
    assert_eq!(both, HashSet::from([fx.negative_ad, fx.negative_ad_b]));
    let b = second
        .items
        .iter()
        .chain(&first.items)
        .find(|n| n.ad_id == fx.negative_ad_b)
        .expect("B");
    assert_eq!(b.dominant_negative_type.as_deref(), Some("price"));

    // Over the whole period the ad is still net positive: nothing to report.
    let whole = store
        .negative_sentiment_ads(None, fx.day0, None, 10)
        .await
        .expect("whole period");
    assert_eq!(whole.total, 0);
}

pub async fn should_report_negative_sentiment_per_brand_against_the_previous_period(store: &S, fx: &Fixture) {
    let (from, to) = (fx.turn_day, fx.turn_day + Duration::days(6));
    let rows = store
        .negative_sentiment_report(Some(fx.org_a), fx.brand_a1, from, to)
        .await
        .expect("report");
    // The week from the turn: 7 days of 5 positive and 10 neutral mentions; 30 negative ones
    // (quality) except two days of 12 (misleading). Reactions fell from 8 to 2 a day.
    assert_eq!(
        rows,
        vec![NegativeSentimentRow {
            ad_id: fx.negative_ad,
            campaign_id: fx.report,
            channel_id: channel_id("instagram"),
            influencer_ids: vec![],
            negative_type: Some("quality".into()),
            positive_mentions: 35,
            neutral_mentions: 70,
            negative_mentions: 174,
            polarity: dec("-0.4982"),
            reactions_previous: dec("8"),
            reactions_current: dec("2"),
            reaction_drop_pct: dec("75"),
        }]
    );
    // Per brand and tenant: B's ad is B's brand's; organization A cannot see it.
    let b = store
        .negative_sentiment_report(None, fx.brand_b1, from, to)
        .await
        .expect("B");
    assert_eq!(b.iter().map(|r| r.ad_id).collect::<Vec<_>>(), vec![fx.negative_ad_b]);
    assert_eq!(b[0].negative_type.as_deref(), Some("price"));
    assert!(
        store
            .negative_sentiment_report(Some(fx.org_a), fx.brand_b1, from, to)
            .await
            .expect("A asking for B")
            .is_empty()
    );
    // The week before the turn is still positive; the first four weeks have nothing before them
    // to compare with.
    let before = store
        .negative_sentiment_report(None, fx.brand_a1, from - Duration::days(7), from - Duration::days(1))
        .await
        .expect("before");
    assert!(before.is_empty());
    let whole = store
        .negative_sentiment_report(None, fx.brand_a1, fx.day0, fx.day0 + Duration::days(27))
        .await
        .expect("whole");
    assert!(whole.is_empty());
}

pub async fn should_create_a_campaign_with_its_channels_markets_and_ads_in_one_call(store: &S, fx: &Fixture) {
    let input = valid_input(fx);
    // Staff: the organization is the brand's.
    let created = store.create_campaign(None, &input).await.expect("created");
    assert!(!created.replayed);
    let c = &created.campaign;
    assert_eq!(c.id, input.id);
    assert_eq!(
        (c.organization_id, c.brand_id, c.product_id),
        (fx.org_a, fx.brand_a1, Some(fx.product_a1))
    );
    assert_eq!(
        (c.status.as_str(), c.version, c.objective.as_str()),
        ("draft", 1, "awareness")
    );
    assert_eq!((c.budget, c.currency.as_str()), (dec("25000"), "USD"));
    assert_eq!((c.starts_at, c.ends_at), (input.starts_at, input.ends_at));
    assert_eq!(c.created_by, input.created_by);
    let a = Some(fx.org_a);
    let channels = store.channels_of_campaigns(a, &[c.id]).await.expect("channels");
    let links: Vec<(&str, Decimal)> = channels[&c.id]
        .iter()
        .map(|l| (l.channel.code.as_str(), l.budget_share))
        .collect();
    assert_eq!(links, [("instagram", dec("0.6")), ("email", dec("0.4"))]);
    let markets = store.markets_of_campaigns(a, &[c.id]).await.expect("markets");
    assert_eq!(markets[&c.id].len(), 2);
    let ads = store.ads_of_campaigns(a, &[c.id]).await.expect("ads");
    let ads = &ads[&c.id];
    assert_eq!(ads.len(), 2);
    assert_eq!((ads[0].name.as_str(), ads[0].status.as_str()), ("Copy", "draft"));
    assert_eq!(ads[1].content_image_id, input.ads[0].content_image_id);

    // A tenant creates in its own organization.
    let mine = store.create_campaign(a, &valid_input(fx)).await.expect("tenant create");
    assert_eq!(mine.campaign.organization_id, fx.org_a);
}

pub async fn should_return_the_same_campaign_when_a_create_is_retried_with_its_key(store: &S, fx: &Fixture) {
    let mut input = valid_input(fx);
    input.idempotency_key = Some(format!("create-{}", Uuid::new_v4()));
    let first = store.create_campaign(Some(fx.org_a), &input).await.expect("created");
    let before = census(store).await;
    let again = store
        .create_campaign(Some(fx.org_a), &retry_of(&input))
        .await
        .expect("replayed");
    assert!(again.replayed);
    assert_eq!(again.campaign.id, first.campaign.id);
    assert_eq!(census(store).await, before, "nothing new written");
    // Staff retrying the same request is the same request too.
    let staff = store
        .create_campaign(None, &retry_of(&input))
        .await
        .expect("staff replay");
    assert_eq!(staff.campaign.id, first.campaign.id);

    let mut different = retry_of(&input);
    different.budget = dec("30000");
    let err = store
        .create_campaign(Some(fx.org_a), &different)
        .await
        .expect_err("a different request");
    assert!(matches!(err, WriteError::Conflict(_)), "{err:?}");
    let mut fewer_ads = retry_of(&input);
    fewer_ads.ads.pop();
    let err = store
        .create_campaign(Some(fx.org_a), &fewer_ads)
        .await
        .expect_err("other ads");
    assert!(matches!(err, WriteError::Conflict(_)), "{err:?}");
    assert_eq!(census(store).await, before, "refused requests write nothing");
    // Keys belong to one organization: another tenant using the same key makes its own campaign
    // (neither a conflict that would say the key is taken nor a replay of the other's), and
    // retrying it replays its own.
    let mut theirs = retry_of(&input);
    theirs.brand_id = fx.brand_b1;
    theirs.product_id = None;
    let created = store
        .create_campaign(Some(fx.org_b), &theirs)
        .await
        .expect("their own campaign");
    assert!(!created.replayed);
    assert_ne!(created.campaign.id, first.campaign.id);
    assert_eq!(created.campaign.organization_id, fx.org_b);
    let replayed = store
        .create_campaign(Some(fx.org_b), &retry_of(&theirs))
        .await
        .expect("their replay");
    assert!(replayed.replayed);
    assert_eq!(replayed.campaign.id, created.campaign.id);
}

pub async fn should_refuse_invalid_campaigns_naming_field_and_rule_and_write_nothing(store: &S, fx: &Fixture) {
    type Change = Box<dyn Fn(&mut NewCampaign)>;
    let cases: Vec<(&str, &str, Change)> = vec![
        ("budget", "positive", Box::new(|i| i.budget = dec("-5"))),
        ("budget", "positive", Box::new(|i| i.budget = Decimal::ZERO)),
        ("budget", "scale", Box::new(|i| i.budget = dec("10.125"))),
        (
            "endsAt",
            "after_start",
            Box::new(|i| i.ends_at = i.starts_at - Duration::days(1)),
        ),
        ("endsAt", "after_start", Box::new(|i| i.ends_at = i.starts_at)),
        (
            "channels",
            "unknown_code",
            Box::new(|i| i.channels[1].code = "tiktok".into()),
        ),
        ("channels", "min_items", Box::new(|i| i.channels.clear())),
        (
            "channels",
            "budget_share_sum",
            Box::new(|i| i.channels[1].budget_share = dec("0.5")),
        ),
        (
            "channels",
            "duplicate_code",
            Box::new(|i| i.channels[1].code = "instagram".into()),
        ),
        (
            "channels.budgetShare",
            "range",
            Box::new(|i| i.channels[0].budget_share = dec("1.5")),
        ),
        ("markets", "unknown_code", Box::new(|i| i.markets.push("ZZ".into()))),
        ("ads.format", "enum", Box::new(|i| i.ads[0].format = "banner".into())),
        ("ads.headline", "required_for_text", Box::new(|i| i.ads[1].body = None)),
        (
            "ads.landingUrl",
            "url",
            Box::new(|i| i.ads[0].landing_url = Some("ftp://example.com".into())),
        ),
        ("ads.name", "required", Box::new(|i| i.ads[0].name = String::new())),
        ("name", "required", Box::new(|i| i.name = "  ".into())),
        ("name", "max_length", Box::new(|i| i.name = "x".repeat(201))),
        ("objective", "enum", Box::new(|i| i.objective = "fame".into())),
        ("currency", "format", Box::new(|i| i.currency = "usd".into())),
        ("brandId", "not_found", Box::new(|i| i.brand_id = Uuid::new_v4())),
        (
            "productId",
            "not_found",
            Box::new(|i| i.product_id = Some(Uuid::new_v4())),
        ),
        (
            "idempotencyKey",
            "format",
            Box::new(|i| i.idempotency_key = Some("has space".into())),
        ),
    ];
    let before = census(store).await;
    for (field, rule, change) in cases {
        let mut input = valid_input(fx);
        change(&mut input);
        let err = store.create_campaign(Some(fx.org_a), &input).await.expect_err(field);
        match err {
            WriteError::Invalid(i) => {
                assert_eq!((i.field.as_str(), i.rule.as_str()), (field, rule), "{}", i.message);
                assert!(!i.message.is_empty());
            }
            other => panic!("{field}/{rule}: expected invalid input, got {other:?}"),
        }
        let ads: Vec<Uuid> = input.ads.iter().map(|a| a.id).collect();
        assert!(
            store.ads_by_id(None, &ads).await.expect("ads").is_empty(),
            "{field}/{rule}: no ad written"
        );
        assert!(
            store
                .campaigns_by_id(None, &[input.id])
                .await
                .expect("campaign")
                .is_empty(),
            "{field}/{rule}: no campaign written"
        );
    }
    // Another organization's brand is not found for this tenant.
    let mut theirs = valid_input(fx);
    theirs.brand_id = fx.brand_b1;
    theirs.product_id = Some(fx.product_b1);
    let err = store
        .create_campaign(Some(fx.org_a), &theirs)
        .await
        .expect_err("their brand");
    assert!(
        matches!(&err, WriteError::Invalid(i) if i.field == "brandId"),
        "{err:?}"
    );
    // A product of another brand.
    let mut wrong = valid_input(fx);
    wrong.brand_id = fx.brand_a2;
    let err = store
        .create_campaign(Some(fx.org_a), &wrong)
        .await
        .expect_err("not the brand's");
    assert!(
        matches!(&err, WriteError::Invalid(i) if i.field == "productId"),
        "{err:?}"
    );
    assert_eq!(census(store).await, before, "nothing written at all");
}

pub async fn should_change_status_only_along_allowed_transitions(store: &S, fx: &Fixture) {
    // One fixture campaign per (from, to) pair: each status has ten campaigns at version 1.
    let a = Some(fx.org_a);
    for from in STATUSES {
        let candidates: Vec<Uuid> = fx.live_a().iter().filter(|c| c.status == from).map(|c| c.id).collect();
        for (k, to) in STATUSES.into_iter().enumerate() {
            let allowed = STATUS_TRANSITIONS.contains(&(from, to));
            let outcome = store.update_campaign_status(a, candidates[k], to, 1).await;
            match outcome {
                Ok(c) => {
                    assert!(allowed, "{from} -> {to} must be refused");
                    assert_eq!((c.status.as_str(), c.version), (to, 2));
                }
                Err(WriteError::Invalid(i)) => {
                    assert!(!allowed, "{from} -> {to} must be allowed: {}", i.message);
                    assert_eq!((i.field.as_str(), i.rule.as_str()), ("status", "transition"));
                }
                Err(other) => panic!("{from} -> {to}: {other:?}"),
            }
        }
    }
    let err = store
        .update_campaign_status(a, fx.report, "bogus", 1)
        .await
        .expect_err("unknown status");
    assert!(
        matches!(&err, WriteError::Invalid(i) if i.field == "status" && i.rule == "enum"),
        "{err:?}"
    );
    let err = store
        .update_campaign_status(Some(fx.org_b), fx.campaigns[3].id, "active", 1)
        .await
        .expect_err("another tenant's");
    assert!(matches!(err, WriteError::NotFound), "{err:?}");
    let err = store
        .update_campaign_status(None, Uuid::new_v4(), "active", 1)
        .await
        .expect_err("no such campaign");
    assert!(matches!(err, WriteError::NotFound), "{err:?}");
}

pub async fn should_refuse_a_status_change_at_a_stale_version(store: &S, fx: &Fixture) {
    let created = store.create_campaign(None, &valid_input(fx)).await.expect("created");
    let id = created.campaign.id;
    let scheduled = store
        .update_campaign_status(None, id, "scheduled", 1)
        .await
        .expect("scheduled");
    assert_eq!(scheduled.version, 2);
    let err = store
        .update_campaign_status(None, id, "active", 1)
        .await
        .expect_err("stale version");
    assert!(matches!(err, WriteError::Conflict(_)), "{err:?}");
    let still = store.campaigns_by_id(None, &[id]).await.expect("read")[&id].clone();
    assert_eq!(
        (still.status.as_str(), still.version),
        ("scheduled", 2),
        "nothing changed"
    );
    let mut version = 2;
    for to in ["active", "paused", "active", "finished"] {
        let c = store.update_campaign_status(None, id, to, version).await.expect(to);
        version += 1;
        assert_eq!((c.status.as_str(), c.version), (to, version));
    }
}

pub async fn should_feed_every_change_to_the_etl_with_tombstones(store: &S, fx: &Fixture) {
    // Campaigns: all 64 rows, the deleted one included, oldest change first, each once.
    let mut rows: Vec<Campaign> = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .campaigns_updated_since(None, epoch(), after, 17)
            .await
            .expect("page");
        assert_eq!(page.total, 64);
        rows.extend(page.items.iter().cloned());
        let Some(last) = page.items.last().filter(|_| page.has_more) else {
            break;
        };
        after = Some(ByUpdate {
            updated_at: last.updated_at,
            key: last.id,
        });
    }
    assert_eq!(rows.len(), 64);
    assert_eq!(rows.iter().map(|c| c.id).collect::<HashSet<_>>().len(), 64);
    assert!(rows.windows(2).all(|w| w[0].updated_at <= w[1].updated_at));
    assert!(rows.iter().any(|c| c.deleted_at.is_some()), "tombstones included");

    let mut results: Vec<AdResult> = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .ad_results_updated_since(None, epoch(), after, 17)
            .await
            .expect("page");
        results.extend(page.items.iter().cloned());
        let Some(last) = page.items.last().filter(|_| page.has_more) else {
            break;
        };
        after = Some(ByUpdate {
            updated_at: last.updated_at,
            key: last.key(),
        });
    }
    assert_eq!(results.len(), fx.results.len());
    assert_eq!(
        results.iter().map(AdResult::key).collect::<HashSet<_>>().len(),
        fx.results.len()
    );
    assert_eq!(results.iter().filter(|r| r.deleted_at.is_some()).count(), 1);

    let mut samples: Vec<SentimentSample> = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .sentiment_samples_updated_since(None, epoch(), after, 17)
            .await
            .expect("page");
        samples.extend(page.items.iter().cloned());
        let Some(last) = page.items.last().filter(|_| page.has_more) else {
            break;
        };
        after = Some(ByUpdate {
            updated_at: last.updated_at,
            key: last.key(),
        });
    }
    assert_eq!(samples.len(), fx.sentiment_rows);
    assert_eq!(
        samples.iter().map(SentimentSample::key).collect::<HashSet<_>>().len(),
        fx.sentiment_rows
    );

    let links: usize = fx.campaigns.iter().map(|c| c.channels.len()).sum();
    let mut seen = HashSet::new();
    let mut after = None;
    loop {
        let page = store
            .campaign_channels_updated_since(None, epoch(), after, 17)
            .await
            .expect("page");
        seen.extend(page.items.iter().map(|l| (l.campaign_id, l.channel.id)));
        let Some(last) = page.items.last().filter(|_| page.has_more) else {
            break;
        };
        after = Some(ByUpdate {
            updated_at: last.link_updated_at,
            key: (last.campaign_id, last.channel.id),
        });
    }
    assert_eq!(seen.len(), links);
    let markets: usize = fx.campaigns.iter().map(|c| c.markets.len()).sum();
    let mut seen = HashSet::new();
    let mut after = None;
    loop {
        let page = store
            .campaign_markets_updated_since(None, epoch(), after, 17)
            .await
            .expect("page");
        seen.extend(page.items.iter().map(|l| (l.campaign_id, l.market.id)));
        let Some(last) = page.items.last().filter(|_| page.has_more) else {
            break;
        };
        after = Some(ByUpdate {
            updated_at: last.link_updated_at,
            key: (last.campaign_id, last.market.id),
        });
    }
    assert_eq!(seen.len(), markets);

    // After the watermark, only what changed since.
    let watermark = rows.last().expect("rows").updated_at;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let changed = store
        .update_campaign_status(None, fx.campaigns[2].id, "active", 1)
        .await
        .expect("scheduled -> active");
    let page = store
        .campaigns_updated_since(None, watermark, None, 100)
        .await
        .expect("since");
    assert_eq!(page.items.iter().map(|c| c.id).collect::<Vec<_>>(), vec![changed.id]);
    assert_eq!(page.total, 1);
}

pub async fn should_resolve_facts_by_their_natural_keys(store: &S, fx: &Fixture) {
    let live: Vec<_> = fx.results.iter().filter(|r| r.campaign == fx.report).collect();
    let key = |r: &crate::common::fixture::FxResult| AdResultKey {
        ad_id: r.ad,
        channel_id: channel_id(r.channel),
        market_id: market_id(r.market),
        day: r.day,
    };
    let deleted = live.iter().find(|r| r.deleted).expect("a retracted row");
    let present = [key(live[0]), key(live[7])];
    let missing = AdResultKey {
        day: fx.day0 - Duration::days(1),
        ..present[0]
    };
    let found = store
        .ad_results_by_key(Some(fx.org_a), &[present[0], present[1], missing, key(deleted)])
        .await
        .expect("results");
    assert_eq!(found.len(), 2, "missing and retracted rows resolve to nothing");
    assert_eq!(found[&present[1]].views, live[7].views);
    assert_eq!(found[&present[1]].cost, live[7].cost);
    assert!(
        store
            .ad_results_by_key(Some(fx.org_b), &present)
            .await
            .expect("B")
            .is_empty()
    );

    let sample = SentimentKey {
        ad_id: fx.negative_ad,
        channel_id: channel_id("instagram"),
        day: fx.turn_day,
    };
    let found = store
        .sentiment_by_key(
            None,
            &[
                sample,
                SentimentKey {
                    day: fx.day0 - Duration::days(1),
                    ..sample
                },
            ],
        )
        .await
        .expect("samples");
    assert_eq!(found.len(), 1);
    let s = &found[&sample];
    assert_eq!(
        (s.positive_count, s.negative_count, s.negative_type.as_deref()),
        (5, 30, Some("quality"))
    );
    assert_eq!(s.polarity, dec("-0.555"));
}
