//! The benchmark's scenarios: deterministic request sequences, the same for both
//! servers.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde_json::json;

use crate::client::Request;
use crate::data::{DataSize, FIRST_EX_DATE, PERIOD_DAYS, Sequence, account_id, last_pay_date};

/// The first declaration date of created dividends; later ones follow by index.
const FIRST_CREATED_DECLARATION: NaiveDate = match NaiveDate::from_ymd_opt(2026, 1, 2) {
    Some(date) => date,
    None => panic!("valid date"),
};

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
    /// `POST /dividends`: a new announcement, recorded in the change log.
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

    /// Every permission the scenarios need, each once: what the benchmark's
    /// user holds.
    pub fn permissions() -> Vec<&'static str> {
        let mut permissions: Vec<&'static str> = Vec::new();
        for scenario in Scenario::ALL {
            if !permissions.contains(&scenario.permission()) {
                permissions.push(scenario.permission());
            }
        }
        permissions
    }

    /// The permission the example requires for this scenario's requests (the
    /// baseline checks the same one).
    pub fn permission(self) -> &'static str {
        match self {
            Scenario::Retrieve | Scenario::List => "view_dividend",
            // What the answer is made of: `upcoming::ACCESS`.
            Scenario::Upcoming => "view_position",
            Scenario::Create => "add_dividend",
        }
    }

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
            Scenario::Create => {
                let security = 1 + random.below(u64::from(size.securities));
                let declaration_date = FIRST_CREATED_DECLARATION + Days::new(random.below(3 * 365));
                let ex_date = declaration_date + Days::new(18);
                // Cents, sometimes with a trailing zero, which the answer drops.
                let rate = Decimal::new(1 + random.below(400) as i64, 2);
                Request::post_json(
                    "/dividends",
                    &json!({
                        "announcement_id": format!("B{index:08}"),
                        "security": security,
                        "declaration_date": declaration_date,
                        "ex_date": ex_date,
                        "record_date": ex_date + Days::new(1),
                        "pay_date": ex_date + Days::new(12),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_benchmark_user_holds_what_the_example_requires_of_each_scenario() {
        for scenario in Scenario::ALL {
            assert!(Scenario::permissions().contains(&scenario.permission()));
        }
        assert_eq!(
            example_dividends::upcoming::ACCESS.permission(),
            Some(Scenario::Upcoming.permission())
        );
    }
}
