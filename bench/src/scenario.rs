//! The benchmark's scenarios: deterministic request sequences, the same for both
//! servers.

use chrono::Days;
use serde_json::json;

use crate::client::Request;
use crate::data::{DataSize, FIRST_EX_DATE, PERIOD_DAYS, Sequence, account_id, last_pay_date};

/// What a scenario exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `GET /dividends/{id}`.
    Retrieve,
    /// `GET /dividends?...`: a filtered, ordered first page.
    List,
    /// `GET /accounts/{id}/upcoming-dividends?from=...`: an account's payments
    /// from a date in the last months of the data.
    Upcoming,
    /// `POST /securities`: the example's API creates securities only; dividends
    /// come from the clearing firm's daily file and are read-only over HTTP.
    Create,
}

impl Scenario {
    /// Every scenario, in the order they run (writes last, so the reads see the
    /// seeded data only).
    pub const ALL: [Scenario; 4] = [
        Scenario::Retrieve,
        Scenario::List,
        Scenario::Upcoming,
        Scenario::Create,
    ];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Retrieve => "retrieve",
            Scenario::List => "list",
            Scenario::Upcoming => "upcoming",
            Scenario::Create => "create",
        }
    }

    /// The status a successful response has.
    pub fn expected_status(self) -> u16 {
        match self {
            Scenario::Create => 201,
            _ => 200,
        }
    }

    /// The `index`-th request of this scenario over data of `size`. The same
    /// index gives the same request for either server.
    pub fn request(self, size: DataSize, index: u64) -> Request {
        let mut random = Sequence::new(index.wrapping_mul(31).wrapping_add(self as u64));
        match self {
            Scenario::Retrieve => {
                let id = 1 + random.below(u64::from(size.dividends()));
                Request::get(format!("/dividends/{id}"))
            }
            Scenario::List => {
                let days = random.below(u64::from(size.dividends_per_security) * PERIOD_DAYS);
                let from = FIRST_EX_DATE + Days::new(days);
                if index.is_multiple_of(2) {
                    let security = 1 + random.below(u64::from(size.securities));
                    Request::get(format!(
                        "/dividends?security={security}&ex_date__gte={from}&ordering=ex_date"
                    ))
                } else {
                    Request::get(format!(
                        "/dividends?status=announced&ex_date__gte={from}&ordering=ex_date&page_size=20"
                    ))
                }
            }
            Scenario::Upcoming => {
                let account = account_id(random.below(u64::from(size.accounts)) as u32);
                // 28 to 90 days before the last pay date: every security has at
                // least two payments left, so no answer is empty, and an account
                // of 20 positions is paid 40 to 130 times, about a quarter's worth.
                let days_before_end = 2 * PERIOD_DAYS + random.below(63);
                let from = last_pay_date(size) - Days::new(days_before_end);
                Request::get(format!(
                    "/accounts/{account}/upcoming-dividends?from={from}"
                ))
            }
            Scenario::Create => Request::post_json(
                "/securities",
                &json!({
                    "symbol": format!("N{index:08}"),
                    "cusip": format!("N{index:08}"),
                    "name": format!("New Issuer {index} Corp."),
                }),
            ),
        }
    }
}
