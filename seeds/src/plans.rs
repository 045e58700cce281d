//! PromptSales planning of each campaign: the plan (status follows the campaign: launched while it
//! runs, closed once finished), its sign-off steps (all approved, since the campaign ran), its
//! calendar of tasks (done when due in the past, open when due later) and their reminders.

use chrono::Duration;
use rand::Rng;

use crate::{
    campaigns::Campaign,
    central::Central,
    rng::{self, stream},
    rows::{Approval, CampaignPlan, ScheduledTask, TaskReminder},
    spec::Ctx,
};

#[derive(Default)]
pub struct Planning {
    pub plans: Vec<CampaignPlan>,
    pub approvals: Vec<Approval>,
    pub tasks: Vec<ScheduledTask>,
    pub reminders: Vec<TaskReminder>,
}

const COMMENTS: [&str; 5] = [
    "Approved. Keep the budget split as proposed.",
    "Aprobado, adelante con el lanzamiento.",
    "Looks good; watch the cost per sale in the first week.",
    "Aprobado con el calendario propuesto.",
    "OK from finance.",
];

pub fn generate(ctx: &Ctx, central: &Central, c: &Campaign, out: &mut Planning) {
    let mut r = stream(ctx.seed, "campaign-plan", c.index as u64);
    let org = &central.orgs[c.org];
    let plan_id = rng::uuid(&mut r);
    let created_at = c.created_at - Duration::days(r.random_range(3..15));
    out.plans.push(CampaignPlan {
        id: plan_id,
        campaign_id: c.id,
        organization_id: org.id,
        brand_id: central.brands[c.brand].id,
        product_id: c.product.map(|p| central.products[p].id),
        title: c.name.clone(),
        objective: Some(c.objective.to_owned()),
        target_summary: Some(c.description.clone()),
        planned_budget: c.budget,
        planned_start: c.starts_at,
        planned_end: c.ends_at,
        status: if c.active { "launched" } else { "closed" },
        created_by: c.created_by,
        created_at,
    });
    // Sign-off: a marketing lead, the owner or an admin, and PromptSales staff for big budgets.
    let mut approvers = vec![*rng::pick(&mut r, &org.approvers)];
    if org.approvers.len() > 1 {
        approvers.push(org.approvers[0]);
    }
    if c.budget > rust_decimal::Decimal::from(50_000) && !central.staff.is_empty() {
        approvers.push(*rng::pick(&mut r, &central.staff));
    }
    approvers.dedup();
    let mut requested = created_at + Duration::hours(r.random_range(2..48));
    for (step, approver) in approvers.into_iter().enumerate() {
        let decided = requested + Duration::minutes(r.random_range(30..60 * 72));
        out.approvals.push(Approval {
            id: rng::uuid(&mut r),
            campaign_plan_id: plan_id,
            organization_id: org.id,
            step: step as i16 + 1,
            approver_id: approver,
            decision: "approved",
            comment: r.random_bool(0.6).then(|| *rng::pick(&mut r, &COMMENTS)),
            requested_at: requested,
            decided_at: Some(decided),
            created_at: requested,
        });
        requested = decided;
    }
    // The calendar: creative and review before the start, launch at the start, weekly reports while
    // it runs (at most four), a final report and a follow-up after the end.
    let mut due = vec![
        (
            "Creative brief and assets",
            "creative",
            c.starts_at - Duration::days(10),
        ),
        (
            "Review creatives and targeting",
            "review",
            c.starts_at - Duration::days(4),
        ),
        ("Launch", "launch", c.starts_at),
    ];
    for w in 1..=4 {
        let at = c.starts_at + Duration::days(7 * w);
        if at < c.ends_at {
            due.push(("Weekly performance report", "report", at));
        }
    }
    due.push(("Final report", "report", c.ends_at + Duration::days(3)));
    due.push((
        "Follow-up with the customer",
        "follow_up",
        c.ends_at + Duration::days(10),
    ));
    let assignees: Vec<_> = org.marketers.iter().chain(org.approvers.iter()).copied().collect();
    for (title, kind, due_at) in due {
        let task_id = rng::uuid(&mut r);
        let past = due_at < ctx.now;
        let (status, completed_at) = if past {
            (
                "done",
                Some(
                    (due_at + Duration::hours(r.random_range(-48..24)))
                        .min(ctx.now)
                        .max(created_at),
                ),
            )
        } else if due_at < ctx.now + Duration::days(7) && r.random_bool(0.5) {
            ("in_progress", None)
        } else {
            ("pending", None)
        };
        out.tasks.push(ScheduledTask {
            id: task_id,
            campaign_plan_id: plan_id,
            organization_id: org.id,
            campaign_id: c.id,
            title: title.to_owned(),
            kind,
            due_at,
            assignee_id: Some(*rng::pick(&mut r, &assignees)),
            status,
            completed_at,
            created_at,
        });
        // One reminder a day before (e-mail), one an hour before (portal); sent once their time passed.
        for (before, channel) in [(Duration::days(1), "email"), (Duration::hours(1), "portal")] {
            let remind_at = due_at - before;
            out.reminders.push(TaskReminder {
                id: rng::uuid(&mut r),
                task_id,
                remind_at,
                channel,
                sent_at: (remind_at < ctx.now)
                    .then(|| (remind_at + Duration::seconds(r.random_range(1..90))).min(ctx.now)),
                created_at,
            });
        }
    }
}
