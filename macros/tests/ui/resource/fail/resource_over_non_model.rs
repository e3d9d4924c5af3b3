pub struct Plain {
    pub id: i64,
}

#[fw::resource(model = Plain, path = "/plain", actions(list), permissions(authenticated))]
pub struct PlainResource {
    pub id: i64,
}

fn main() {}
