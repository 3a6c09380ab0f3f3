//! Chain of custody from scan to seal, the service's side: a worker's recognition accepted
//! against the stored scan. What a worker reports and how the searchable copy is assembled
//! from it are shared with the workers (`sohoa_protocol::custody`) and named here as well.

mod accept;

pub use accept::{accept, AcceptError, ScanResult, StoredPdf, WorkerIdentity};
pub use sohoa_protocol::custody::{
    assemble, text_of, CustodyError, EngineInfo, Orientation, OrientationMethod, PageText, Reading, Recognition, ShownBox, ShownPage,
    TextPolicy, TextSource, Word, SERVICE_POLICY,
};
