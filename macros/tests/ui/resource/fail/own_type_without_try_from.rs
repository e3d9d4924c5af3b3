#[derive(Debug, Clone, Copy, PartialEq, Eq, fw::Choices)]
pub enum Listing {
    Primary,
    Secondary,
}

/// Shown from the stored code, but nothing says how to store one.
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

#[fw::resource(model = Security, path = "/securities", fields = all, actions(list, create), permissions(model))]
pub struct SecurityResource {
    pub listing: Listing,
}

fn main() {}
