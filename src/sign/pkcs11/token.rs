//! Finding the key's token: the module loaded once per process, the slot the URI matches,
//! the PIN file.

use super::{device, ObjectType, Pkcs11Error, Pkcs11Uri};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Largest PIN file read.
const MAX_PIN_BYTES: u64 = 4096;

/// What sohoa cannot honour in a URI, refused rather than ignored.
pub(super) fn check_supported(uri: &Pkcs11Uri) -> Result<(), String> {
    if let Some(name) = uri.vendor.first() {
        return Err(format!("attribute {name} is not one sohoa knows"));
    }
    if !matches!(uri.object_type, None | Some(ObjectType::Private)) {
        return Err("the URI must name a private key (type=private or no type)".into());
    }
    if uri.module_name.is_some() && uri.module_path.is_none() {
        return Err("module-name is not resolved: give module-path=/absolute/path/to/module.so".into());
    }
    Ok(())
}

/// The module at `path`, loaded and initialized once per process: C_Initialize may run only
/// once, and C_Finalize would end every session of the process.
pub(super) fn module(path: &Path) -> Result<Pkcs11, Pkcs11Error> {
    static MODULES: Mutex<Vec<(PathBuf, Pkcs11)>> = Mutex::new(Vec::new());
    let err = |reason: String| Pkcs11Error::Module { path: path.display().to_string(), reason };
    if !path.is_absolute() {
        return Err(err("module-path must be absolute".into()));
    }
    let mut modules = MODULES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, module)) = modules.iter().find(|(p, _)| p == path) {
        return Ok(module.clone());
    }
    let module = Pkcs11::new(path).map_err(|e| err(e.to_string()))?;
    match module.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(err(e.to_string())),
    }
    modules.push((path.to_owned(), module.clone()));
    Ok(module)
}

/// The one initialized token that matches the URI's token, slot and library attributes.
pub(super) fn find_slot(module: &Pkcs11, uri: &Pkcs11Uri) -> Result<Slot, Pkcs11Error> {
    let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have.trim_end());
    let library = module.get_library_info().map_err(device("reading the module"))?;
    let version = library.library_version();
    if !is(&uri.library_manufacturer, library.manufacturer_id())
        || !is(&uri.library_description, library.library_description())
        || uri.library_version.is_some_and(|v| v != (version.major(), version.minor()))
    {
        return Err(Pkcs11Error::TokenNotFound(uri.to_string()));
    }
    let mut found = Vec::new();
    for slot in module.get_slots_with_initialized_token().map_err(device("listing slots"))? {
        let token = module.get_token_info(slot).map_err(device("reading a token"))?;
        let info = module.get_slot_info(slot).map_err(device("reading a slot"))?;
        if is(&uri.token, token.label())
            && is(&uri.manufacturer, token.manufacturer_id())
            && is(&uri.model, token.model())
            && is(&uri.serial, token.serial_number())
            && is(&uri.slot_description, info.slot_description())
            && is(&uri.slot_manufacturer, info.manufacturer_id())
            && uri.slot_id.is_none_or(|id| id == slot.id())
        {
            found.push(slot);
        }
    }
    match found.as_slice() {
        [slot] => Ok(*slot),
        [] => Err(Pkcs11Error::TokenNotFound(uri.to_string())),
        _ => Err(Pkcs11Error::TokenAmbiguous(uri.to_string())),
    }
}

/// The first line of a PIN file.
pub(super) fn read_pin(path: &Path) -> Result<AuthPin, Pkcs11Error> {
    let err = |reason: String| Pkcs11Error::PinFile { path: path.display().to_string(), reason };
    let len = std::fs::metadata(path).map_err(|e| err(e.to_string()))?.len();
    if len > MAX_PIN_BYTES {
        return Err(err(format!("larger than {MAX_PIN_BYTES} bytes")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    Ok(AuthPin::from(text.lines().next().unwrap_or_default().to_owned()))
}
