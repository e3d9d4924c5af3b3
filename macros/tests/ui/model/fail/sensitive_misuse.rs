#[fw::model(unique(name, ward))]
pub struct Patient {
    #[field(primary_key, sensitive)]
    pub code: String,
    #[field(sensitive, redacted)]
    pub name: String,
    #[field(sensitive, unique)]
    pub tax_id: String,
    #[field(sensitive, index)]
    pub insurance_number: String,
    pub ward: String,
}

fn main() {}
