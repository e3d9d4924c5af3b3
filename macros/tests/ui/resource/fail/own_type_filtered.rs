#[derive(Debug, Clone, Copy, PartialEq, Eq, fw::Choices)]
pub enum Listing {
    Primary,
    Secondary,
}

impl From<i16> for Listing {
    fn from(code: i16) -> Listing {
        if code == 1 { Listing::Primary } else { Listing::Secondary }
    }
}

#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    pub listing: i16,
    #[field(version)]
    pub version: i64,
}

#[fw::resource(model = Security, path = "/securities", fields = all, actions(list), permissions(model), filter(listing))]
pub struct SecurityResource {
    pub listing: Listing,
}

fn main() {}
