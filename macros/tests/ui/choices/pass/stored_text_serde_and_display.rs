#![deny(warnings)]

use fw::Choices as _;

/// How far a dividend announcement has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, fw::Choices)]
pub enum DividendStatus {
    /// Announced by the issuer.
    Announced,
    /// Paid out.
    PaidOut,
    /// Withdrawn by the issuer.
    #[choice(rename = "cancelled_by_issuer")]
    Cancelled,
}

fn main() {
    assert_eq!(DividendStatus::ALL.len(), 3);
    assert_eq!(
        DividendStatus::VALUES,
        ["announced", "paid_out", "cancelled_by_issuer"]
    );
    assert_eq!(DividendStatus::PaidOut.as_str(), "paid_out");
    assert_eq!(
        DividendStatus::from_str("cancelled_by_issuer"),
        Some(DividendStatus::Cancelled)
    );
    assert_eq!(DividendStatus::from_str("Cancelled"), None);
    assert_eq!(DividendStatus::PaidOut.to_string(), "paid_out");
    assert_eq!(format!("{:>10}", DividendStatus::Announced), " announced");

    assert_eq!(
        <DividendStatus as fw::Field>::CHOICES,
        DividendStatus::VALUES
    );
    assert_eq!(
        <DividendStatus as fw::Field>::SQL_TYPE,
        fw::schema::SqlType::Text
    );
    assert_eq!(
        fw::Field::to_value(&DividendStatus::Announced),
        fw::Value::Text("announced".to_owned())
    );

    assert_eq!(
        serde_json::to_string(&DividendStatus::PaidOut).unwrap(),
        "\"paid_out\""
    );
    assert_eq!(
        serde_json::from_str::<DividendStatus>("\"cancelled_by_issuer\"").unwrap(),
        DividendStatus::Cancelled
    );
    let error = serde_json::from_str::<DividendStatus>("\"paid\"")
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "unknown variant `paid`, expected one of `announced`, `paid_out`, `cancelled_by_issuer` at line 1 column 6"
    );
    let error = serde_json::from_str::<DividendStatus>("3").unwrap_err().to_string();
    assert!(error.contains("one of `announced`, `paid_out`, `cancelled_by_issuer`"), "{error}");
}
