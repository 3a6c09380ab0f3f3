//! Entries of civil-status register pages (sổ hộ tịch), as a worker reports them with the
//! words of an `ocr` job whose payload asks for them (`OcrPayload.register`): one entry per
//! ruled row below the headings, its values by field and where the row lies on its page.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The fields an entry may hold, as the column headings name them; dates as YYYY-MM-DD.
pub const FIELDS: [&str; 6] = ["entry_number", "full_name", "date_of_birth", "date_of_death", "owner_id", "registration_date"];

/// A register row as an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The page (from 1) of the job's input.
    pub page: u32,
    /// The row, in the pixels of its page turned upright and deskewed (as the words of a scan).
    pub region: Region,
    /// `entry_number`, `full_name`, `date_of_birth` or `date_of_death`, `owner_id`,
    /// `registration_date`: the values the row holds.
    pub fields: BTreeMap<String, Cell>,
    /// Everything the row says, cell after cell.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    pub value: String,
    /// 0 to 1: the mean confidence of the words read, lower for a value that fails its
    /// field's rules.
    pub confidence: f32,
}
