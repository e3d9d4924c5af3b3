//! The benchmark's scenarios: deterministic request sequences, the same for both
//! servers.

use chrono::Days;
use serde_json::json;

use crate::client::Request;
use crate::data::{DataSize, FIRST_EX_DATE, Sequence, account_id};

/// What a scenario exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `GET /dividends/{id}`.
    Retrieve,
    /// `GET /dividends?...`: a filtered, ordered first page.
    List,
    /// `GET /accounts/{id}/upcoming-dividends`.
    Upcoming,
    /// `POST /dividends`.
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
                let days = random.below(u64::from(size.dividends_per_security) * 14);
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
                let account = random.below(u64::from(size.accounts)) as u32;
                Request::get(format!(
                    "/accounts/{}/upcoming-dividends",
                    account_id(account)
                ))
            }
            Scenario::Create => {
                let security = 1 + random.below(u64::from(size.securities));
                let ex_date = FIRST_EX_DATE + Days::new(random.below(3000));
                let rate = rust_decimal::Decimal::new(1 + random.below(900_000) as i64, 6);
                Request::post_json(
                    "/dividends",
                    &json!({
                        "announcement_id": format!("BN{index:012}"),
                        "security": security,
                        "declaration_date": (ex_date - Days::new(21)).to_string(),
                        "ex_date": ex_date.to_string(),
                        "record_date": (ex_date + Days::new(1)).to_string(),
                        "pay_date": (ex_date + Days::new(15)).to_string(),
                        "rate": rate.to_string(),
                        "currency": "USD",
                        "kind": "regular",
                        "status": "announced",
                    }),
                )
            }
        }
    }
}
