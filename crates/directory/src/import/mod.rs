//! Bulk invitations from CSV.

mod csv;
mod model;
mod runner;

pub use csv::{CsvError, CsvFormat, InviteCsv, ParsedRow};
pub use model::*;
pub use runner::{ImportError, Importer, result_header, result_record};
