#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    #[field(version)]
    pub version: i64,
}

/// Every form of `permissions(...)`.
#[fw::resource(model = Security, path = "/securities", actions(list, retrieve, create, update, partial_update, destroy), permissions(model), read_only(id))]
pub struct ModelPermissions {
    pub id: i64,
    pub symbol: String,
}

#[fw::resource(model = Security, path = "/listings", actions(list, retrieve), permissions(public), read_only(id))]
pub struct PublicListings {
    pub id: i64,
    pub symbol: String,
}

#[fw::resource(
    model = Security,
    path = "/watchlist",
    actions(list, retrieve, create),
    permissions(authenticated, create = add),
    read_only(id)
)]
pub struct SignedInOnly {
    pub id: i64,
    pub symbol: String,
}

#[fw::resource(
    model = Security,
    path = "/suggestions",
    actions(list, create, destroy),
    permissions(public, create = public, destroy = "purge_securities"),
    read_only(id)
)]
pub struct AnyoneMaySuggest {
    pub id: i64,
    pub symbol: String,
}

#[fw::resource(
    model = Security,
    path = "/admin/securities",
    actions(list, retrieve, create, update, partial_update, destroy),
    permissions(
        list = authenticated,
        retrieve = view,
        create = add,
        update = change,
        partial_update = change,
        destroy = "purge_securities"
    ),
    read_only(id)
)]
pub struct EachActionItsOwn {
    pub id: i64,
    pub symbol: String,
}

fn main() {
    use fw::{Access, Action, Resource as _};
    assert_eq!(
        ModelPermissions::SPEC.access(Action::PartialUpdate),
        Some(Access::Permission("change_security"))
    );
    assert_eq!(PublicListings::SPEC.access(Action::List), Some(Access::Public));
    assert_eq!(
        SignedInOnly::SPEC.access(Action::Create),
        Some(Access::Permission("add_security"))
    );
    assert_eq!(SignedInOnly::SPEC.access(Action::List), Some(Access::Authenticated));
    assert_eq!(AnyoneMaySuggest::SPEC.access(Action::Create), Some(Access::Public));
    assert_eq!(
        EachActionItsOwn::SPEC.access(Action::Destroy),
        Some(Access::Permission("purge_securities"))
    );
    assert_eq!(EachActionItsOwn::SPEC.access(Action::History), None);
}
