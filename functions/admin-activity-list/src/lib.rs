//! GET /admin/activity?actor=&action=&from=&to=&limit=&cursor= (`stats:read`
//! as a platform role): the admin activity log, newest first, in pages with
//! `next_cursor`.

use lambda_http::{Body, Request, Response};
use shared::http::{caller, correlation_id, limit_param, query_param, respond};
use shared::kernel::PageRequest;
use shared::reporting::activity::{self, ActivityFilter, ActivityLog};

pub async fn handle(
    log: &impl ActivityLog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let filter = ActivityFilter::parse(
            query_param(&req, "actor"),
            query_param(&req, "action"),
            query_param(&req, "from"),
            query_param(&req, "to"),
        )?;
        let limit = limit_param(&req, 50, 100)?;
        let cursor = query_param(&req, "cursor");
        let page = PageRequest {
            limit,
            cursor: cursor.as_deref(),
        };
        activity::list(log, &caller, &filter, page).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryEventLog;
    use shared::identity::events::AdminActivity;
    use shared::ports::EventLog;
    use shared::testing::{body, refusal, request, with_queries, with_role};
    use shared::{CorrelationId, EventEnvelope};

    const FIXTURE: &str = include_str!("../../../events/admin-activity-list/get-activity.json");

    async fn log_of(actors: &[&str]) -> MemoryEventLog {
        let log = MemoryEventLog::default();
        for (i, actor) in actors.iter().enumerate() {
            let mut event = EventEnvelope::of(
                &AdminActivity::CompanyCreated {
                    company_id: shared::identity::CompanyId::generate(),
                    name: format!("Company {i}"),
                    actor: (*actor).to_owned(),
                },
                CorrelationId::generate(),
            )
            .unwrap();
            event.occurred_at = "2027-01-10T09:00:00Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
                + chrono::Duration::minutes(i as i64);
            log.record("booking-platform.identity", &event)
                .await
                .unwrap();
        }
        let ping = EventEnvelope::of(
            &shared::events::Ping::Diagnostic {
                note: "not an activity".into(),
            },
            CorrelationId::generate(),
        )
        .unwrap();
        log.record("booking-platform.platform", &ping)
            .await
            .unwrap();
        log
    }

    #[tokio::test]
    async fn the_log_pages_newest_first_and_filters_by_actor() {
        let log = log_of(&["ann", "bob", "ann"]).await;
        let res = handle(&log, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        let json = body(&res);
        let names: Vec<_> = json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].clone())
            .collect();
        assert_eq!(names, vec!["Company 2", "Company 1"]);
        assert_eq!(json["items"][0]["action"], "company_created");
        assert_eq!(json["items"][0]["actor"], "ann");
        let next = json["next_cursor"].as_str().unwrap().to_owned();
        let res = handle(
            &log,
            with_queries(FIXTURE, &[("limit", "2"), ("cursor", &next)]),
        )
        .await
        .unwrap();
        assert_eq!(body(&res)["items"].as_array().unwrap().len(), 1);
        let res = handle(&log, with_queries(FIXTURE, &[("actor", "ann")]))
            .await
            .unwrap();
        assert_eq!(body(&res)["items"].as_array().unwrap().len(), 2);
        let res = handle(
            &log,
            with_queries(FIXTURE, &[("action", "slots_generated")]),
        )
        .await
        .unwrap();
        assert_eq!(body(&res)["items"].as_array().unwrap().len(), 0);
    }

    #[tokio::test]
    async fn bad_filters_and_customers_are_refused() {
        let log = log_of(&["ann"]).await;
        for (pairs, code) in [
            (vec![("action", "drop-table")], "INVALID_ACTION"),
            (vec![("from", "yesterday")], "INVALID_TIME"),
            (
                vec![
                    ("from", "2027-01-02T00:00:00Z"),
                    ("to", "2027-01-01T00:00:00Z"),
                ],
                "INVALID_RANGE",
            ),
            (vec![("limit", "0")], "INVALID_LIMIT"),
        ] {
            let res = handle(&log, with_queries(FIXTURE, &pairs)).await.unwrap();
            assert_eq!(refusal(&res), (400, code.to_owned()), "{pairs:?}");
        }
        let res = handle(&log, with_role(FIXTURE, "USER")).await.unwrap();
        assert_eq!(refusal(&res).0, 403);
    }
}
