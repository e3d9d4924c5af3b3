// Code naming everything `#[model]`, `#[resource]` and `#[derive(Choices)]`
// generate for `Security`, `SecurityResource` and `Listing`. The tests that make
// one mistake in those declarations include it to pin that the mistake is
// reported once, and not again here.

use fw::Model as _;

async fn in_use(db: &fw::Db) -> fw::Result<()> {
    let new = NewSecurity {
        symbol: "ACME".to_owned(),
        listing: Listing::Primary,
    };
    let security = Security::insert(db, new).await?;
    let same = Security::get(db, security.id).await?;
    let primary = Security::query()
        .filter(Security::SYMBOL.eq("ACME"))
        .filter(Security::LISTING.eq(Listing::Primary))
        .all(db)
        .await?;
    let patch = SecurityPatch {
        listing: Some(Listing::Secondary),
        ..Default::default()
    };
    let patched = Security::patch(db, security.id, patch).await?;
    let shown = <SecurityResource as fw::Resource>::from_model(&patched);
    println!(
        "{same:?} {primary:?} {} {}",
        Listing::Secondary,
        serde_json::to_string(&shown).unwrap_or_default()
    );
    Ok(())
}

fn api() -> fw::Api {
    fw::Api::new("Securities", "1.0.0").resource::<SecurityResource>()
}

fn main() {
    let _ = (in_use, api);
}
