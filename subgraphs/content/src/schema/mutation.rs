//! Writes: a tenant asks for content for one of its campaigns. The input is checked against the
//! very validator MongoDB enforces (plus the cross-field rules), by the store, before anything is
//! written; a broken rule comes back as BAD_USER_INPUT naming the input field and the rule.

use async_graphql::{Context, Enum, ErrorExtensions, ID, InputObject, Object, Result, Value};
use promptsales_platform::{
    claims::Claims,
    gql::{ErrorCode, bad_input, error, internal},
};
use uuid::Uuid;

use super::{CampaignLog, CampaignLogStatus, ContentRequest, parse_id, store};
use crate::store::{
    LogMessage, LogReview, NewCampaignLog, NewContentRequest, Reviewed, StoreError, TargetAudience, Violation,
};

/// A request for content for one campaign.
#[derive(InputObject)]
pub struct NewContentRequestInput {
    /// The organization asking: only staff name it (a tenant's requests are its own
    /// organization's; naming another one is refused).
    pub organization_id: Option<ID>,
    /// The campaign the content is for (owned by the ads subgraph; not checked here, the campaign
    /// lives in another store).
    pub campaign_id: ID,
    /// What the campaign is about, in the customer's words (20–20000 characters).
    pub campaign_description: String,
    /// The audiences to produce content for (1–20).
    pub target_audiences: Vec<TargetAudienceInput>,
}

/// One audience to produce content for.
#[derive(InputObject)]
pub struct TargetAudienceInput {
    /// Audience name (1–120 characters).
    pub name: String,
    /// Youngest age targeted: 13 to 100 (no advertising to children).
    pub age_min: i32,
    /// Oldest age targeted: 13 to 100, not below `ageMin`.
    pub age_max: i32,
    /// 1–10 distinct BCP 47 language tags such as `es-MX`, `en-US` or `es-419`.
    pub locales: Vec<String>,
    /// Up to 30 distinct interests (1–60 characters each).
    #[graphql(default)]
    pub interests: Vec<String>,
    /// 1–50 distinct ISO 3166-1 alpha-2 country codes (`MX`, `US`).
    pub country_codes: Vec<String>,
}

/// Draft messages for one target population on one channel, for a person to review.
#[derive(InputObject)]
pub struct NewCampaignLogInput {
    /// The organization: only staff name it (a tenant's logs are its own organization's).
    pub organization_id: Option<ID>,
    /// The campaign the messages are for.
    pub campaign_id: ID,
    /// The content request the messages answer, if any.
    pub content_request_id: Option<ID>,
    /// Target population (1–120 characters), e.g. a target audience of the content request.
    pub population: String,
    /// Channel code (a PromptAds channel, e.g. `instagram`; lowercase letters, digits, `_`).
    pub channel_code: String,
    /// The messages in the order they are to be sent (1–1000).
    pub messages: Vec<NewLogMessageInput>,
}

/// One drafted message.
#[derive(InputObject)]
pub struct NewLogMessageInput {
    /// When it is to be sent (UTC).
    pub at: chrono::DateTime<chrono::Utc>,
    /// Language of the text, BCP 47 (`es-MX`, `en`).
    pub locale: String,
    /// The message (1–4000 characters).
    pub text: String,
}

/// A person's decision on drafted messages.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignLogDecision {
    /// The drafts may be sent.
    Approve,
    /// The drafts must not be sent.
    Reject,
}

/// A decision on a campaign log waiting for review.
#[derive(InputObject)]
pub struct ReviewCampaignLogInput {
    /// The campaign log (status `PENDING_APPROVAL`).
    pub id: ID,
    pub decision: CampaignLogDecision,
    /// Why (1–2000 characters); kept with the decision.
    pub note: Option<String>,
}

/// The organization a write is for: the tenant's own, or the one staff name.
fn organization_of(claims: &Claims, given: Option<Uuid>, what: &str) -> Result<Uuid> {
    match (claims.org, given) {
        (Some(own), None) => Ok(own),
        (Some(own), Some(other)) if other != own => Err(error(
            ErrorCode::Forbidden,
            format!("a tenant can only {what} for its own organization"),
        )),
        (_, Some(named)) => Ok(named),
        (None, None) => Err(bad_input(
            "input.organizationId",
            "required",
            "staff must name the organization",
        )),
    }
}

pub struct Mutation;

/// Changes to the content store.
#[Object]
impl Mutation {
    /// Asks for content for a campaign, on behalf of the calling portal user (the token's subject).
    /// Returns the new request, status `OPEN`. Nothing is written when a rule is broken.
    #[graphql(requires_scopes = "content:write")]
    async fn create_content_request(&self, ctx: &Context<'_>, input: NewContentRequestInput) -> Result<ContentRequest> {
        let claims = ctx.data::<Claims>()?;
        let requested_by = Uuid::parse_str(&claims.sub).map_err(|_| {
            error(
                ErrorCode::Forbidden,
                "only a portal user (a UUID subject) can request content",
            )
        })?;
        let given = input
            .organization_id
            .map(|o| parse_id("input.organizationId", &o))
            .transpose()?;
        let organization_id = organization_of(claims, given, "request content")?;
        let request = NewContentRequest {
            id: Uuid::new_v4(),
            organization_id,
            campaign_id: parse_id("input.campaignId", &input.campaign_id)?,
            requested_by,
            campaign_description: input.campaign_description,
            target_audiences: input
                .target_audiences
                .into_iter()
                .map(|a| TargetAudience {
                    name: a.name,
                    age_min: a.age_min,
                    age_max: a.age_max,
                    locales: a.locales,
                    interests: a.interests,
                    country_codes: a.country_codes,
                })
                .collect(),
        };
        match store(ctx).create_content_request(&request).await {
            Ok(created) => Ok(ContentRequest(created)),
            Err(StoreError::Invalid(violations)) => Err(invalid(&violations)),
            Err(e) => Err(internal(ctx, e)),
        }
    }

    /// Stores drafted messages for one population and channel as a campaign log with status
    /// `PENDING_APPROVAL`, for a person to review before anything is sent. Returns the new log.
    /// Nothing is written when a rule is broken.
    #[graphql(requires_scopes = "content:write")]
    async fn draft_campaign_log(&self, ctx: &Context<'_>, input: NewCampaignLogInput) -> Result<CampaignLog> {
        let claims = ctx.data::<Claims>()?;
        let given = input
            .organization_id
            .map(|o| parse_id("input.organizationId", &o))
            .transpose()?;
        let log = NewCampaignLog {
            id: Uuid::new_v4(),
            organization_id: organization_of(claims, given, "draft campaign logs")?,
            campaign_id: parse_id("input.campaignId", &input.campaign_id)?,
            content_request_id: input
                .content_request_id
                .map(|r| parse_id("input.contentRequestId", &r))
                .transpose()?,
            population: input.population,
            channel_code: input.channel_code,
            status: CampaignLogStatus::PendingApproval.as_str().to_owned(),
            messages: input
                .messages
                .into_iter()
                .map(|m| LogMessage {
                    at: m.at,
                    locale: m.locale,
                    text: m.text,
                })
                .collect(),
        };
        if log.messages.is_empty() {
            return Err(bad_input(
                "input.messages",
                "minItems",
                "a draft needs at least one message",
            ));
        }
        match store(ctx).create_campaign_log(&log).await {
            Ok(created) => Ok(CampaignLog(created)),
            Err(StoreError::Invalid(violations)) => Err(invalid(&violations)),
            Err(e) => Err(internal(ctx, e)),
        }
    }

    /// Approves or rejects drafted messages (a campaign log with status `PENDING_APPROVAL`), as
    /// the person the caller's token names: nothing drafted by an assistant is sent before this.
    /// Returns the decided log; deciding a log that is not pending is a `CONFLICT`.
    #[graphql(requires_scopes = "content:write")]
    async fn review_campaign_log(&self, ctx: &Context<'_>, input: ReviewCampaignLogInput) -> Result<CampaignLog> {
        review_campaign_log(ctx, input).await
    }
}

/// Records a person's decision on a draft: the log's status becomes `APPROVED` or `REJECTED`
/// with the reviewer (the caller's token subject), the time and the note. Only a log waiting for
/// review can be decided; deciding one twice is a `CONFLICT` that names its status.
pub(super) async fn review_campaign_log(ctx: &Context<'_>, input: ReviewCampaignLogInput) -> Result<CampaignLog> {
    let claims = ctx.data::<Claims>()?;
    let id = parse_id("input.id", &input.id)?;
    let note = match input.note.map(|n| n.trim().to_owned()) {
        Some(n) if n.is_empty() || n.chars().count() > 2000 => {
            return Err(bad_input("input.note", "length", "a note has 1 to 2000 characters"));
        }
        other => other,
    };
    let review = LogReview {
        id,
        status: match input.decision {
            CampaignLogDecision::Approve => CampaignLogStatus::Approved.as_str(),
            CampaignLogDecision::Reject => CampaignLogStatus::Rejected.as_str(),
        },
        reviewer: claims.sub.clone(),
        note,
    };
    match store(ctx).review_campaign_log(claims.org, &review).await {
        Ok(Reviewed::Done(log)) => Ok(CampaignLog(*log)),
        Ok(Reviewed::NotFound) => Err(error(ErrorCode::NotFound, format!("no campaign log {id}"))),
        Ok(Reviewed::NotPending(status)) => Err(error(
            ErrorCode::Conflict,
            format!("campaign log {id} is not waiting for review: its status is {status}"),
        )),
        Err(e) => Err(internal(ctx, e)),
    }
}

/// `target_audiences.0.age_min` → `input.targetAudiences[0].ageMin`.
fn input_path(document_path: &str) -> String {
    let mut out = String::from("input");
    for part in document_path.split('.').filter(|p| !p.is_empty()) {
        if part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
            continue;
        }
        out.push('.');
        let mut upper = false;
        for c in part.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// The first broken rule as the error (field and rule), every one of them in `violations`.
fn invalid(violations: &[Violation]) -> async_graphql::Error {
    let Some(first) = violations.first() else {
        return bad_input("input", "invalid", "the input was refused");
    };
    let all: Vec<Value> = violations
        .iter()
        .map(|v| {
            let mut entry = async_graphql::indexmap::IndexMap::new();
            entry.insert(async_graphql::Name::new("field"), Value::from(input_path(&v.path)));
            entry.insert(async_graphql::Name::new("rule"), Value::from(v.rule));
            entry.insert(async_graphql::Name::new("message"), Value::from(v.message.clone()));
            Value::Object(entry)
        })
        .collect();
    let field = input_path(&first.path);
    bad_input(&field, first.rule, format!("{field}: {}", first.message))
        .extend_with(move |_, e| e.set("violations", Value::List(all.clone())))
}

#[cfg(test)]
mod tests {
    use super::input_path;

    #[test]
    fn should_name_input_fields_as_the_client_wrote_them() {
        assert_eq!(input_path("campaign_description"), "input.campaignDescription");
        assert_eq!(
            input_path("target_audiences.0.country_codes.2"),
            "input.targetAudiences[0].countryCodes[2]"
        );
    }
}
