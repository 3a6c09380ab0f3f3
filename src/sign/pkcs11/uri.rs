//! RFC 7512 `pkcs11:` URIs: which module, token and object hold a key.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    #[error("not a pkcs11: URI")]
    Scheme,
    #[error("{0:?}: bad percent-encoding")]
    Encoding(String),
    #[error("{0:?}: an attribute is written name=value")]
    Malformed(String),
    #[error("attribute {0} appears more than once")]
    Repeated(String),
    #[error("attribute {name}: {reason}")]
    Value { name: String, reason: String },
    #[error("pin-value would put the PIN where the configuration and logs show it: use the seal_pin setting (SOHOA_SEAL_PIN_FILE) or pin-source=file:PATH")]
    PinValue,
}

impl UriError {
    /// Stable machine code for APIs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            UriError::PinValue => "pkcs11_pin_value_refused",
            _ => "pkcs11_uri_invalid",
        }
    }
}

/// The `type=` attribute: which class of object the URI names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    Public,
    Private,
    Cert,
    SecretKey,
    Data,
}

/// A parsed `pkcs11:` URI. Textual values are percent-decoded; `id` is raw bytes. A URI never
/// holds a PIN: `pin-value` is refused at parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    pub token: Option<String>,
    pub manufacturer: Option<String>,
    pub serial: Option<String>,
    pub model: Option<String>,
    pub library_manufacturer: Option<String>,
    pub library_description: Option<String>,
    /// `major.minor`; a bare `3` is `3.0`.
    pub library_version: Option<(u8, u8)>,
    pub slot_description: Option<String>,
    pub slot_manufacturer: Option<String>,
    pub slot_id: Option<u64>,
    pub object: Option<String>,
    pub id: Option<Vec<u8>>,
    pub object_type: Option<ObjectType>,
    pub module_name: Option<String>,
    pub module_path: Option<PathBuf>,
    /// The file `pin-source=file:...` names.
    pub pin_source: Option<PathBuf>,
    /// Names of vendor-specific attributes, which sohoa does not interpret.
    pub vendor: Vec<String>,
    text: String,
}

impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Pkcs11Uri {
    /// Parses `pkcs11:path-attributes[?query-attributes]`: path attributes separated by `;`,
    /// query attributes by `&`, values percent-encoded.
    pub fn parse(text: &str) -> Result<Pkcs11Uri, UriError> {
        let rest = match text.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("pkcs11:") => &text[7..],
            _ => return Err(UriError::Scheme),
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = Pkcs11Uri { text: text.to_owned(), ..Pkcs11Uri::default() };
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr.split_once('=').ok_or_else(|| UriError::Malformed(attr.to_owned()))?;
            uri.set_path(name, &decode(value)?)?;
        }
        for attr in query.split('&').filter(|a| !a.is_empty()) {
            let (name, value) = attr.split_once('=').ok_or_else(|| UriError::Malformed(attr.to_owned()))?;
            // Refused before decoding, so that no error message carries the PIN.
            if name == "pin-value" {
                return Err(UriError::PinValue);
            }
            uri.set_query(name, &decode(value)?)?;
        }
        Ok(uri)
    }

    fn set_path(&mut self, name: &str, value: &[u8]) -> Result<(), UriError> {
        let text = || utf8(name, value);
        match name {
            "token" => once(name, &mut self.token, text()?),
            "manufacturer" => once(name, &mut self.manufacturer, text()?),
            "serial" => once(name, &mut self.serial, text()?),
            "model" => once(name, &mut self.model, text()?),
            "library-manufacturer" => once(name, &mut self.library_manufacturer, text()?),
            "library-description" => once(name, &mut self.library_description, text()?),
            "library-version" => once(name, &mut self.library_version, version(name, &text()?)?),
            "slot-description" => once(name, &mut self.slot_description, text()?),
            "slot-manufacturer" => once(name, &mut self.slot_manufacturer, text()?),
            "slot-id" => {
                let id = text()?.parse().map_err(|_| UriError::Value { name: name.into(), reason: "not a decimal number".into() })?;
                once(name, &mut self.slot_id, id)
            }
            "object" => once(name, &mut self.object, text()?),
            "id" => once(name, &mut self.id, value.to_vec()),
            "type" => {
                let kind = match text()?.as_str() {
                    "public" => ObjectType::Public,
                    "private" => ObjectType::Private,
                    "cert" => ObjectType::Cert,
                    "secret-key" => ObjectType::SecretKey,
                    "data" => ObjectType::Data,
                    other => return Err(UriError::Value { name: name.into(), reason: format!("unknown object type {other:?}") }),
                };
                once(name, &mut self.object_type, kind)
            }
            _ => self.vendor_attribute(name),
        }
    }

    fn set_query(&mut self, name: &str, value: &[u8]) -> Result<(), UriError> {
        match name {
            "pin-source" => {
                let source = utf8(name, value)?;
                // Only a file: a command (`|program`) would run with the service's rights.
                let path = source.strip_prefix("file://").or_else(|| source.strip_prefix("file:")).unwrap_or(&source);
                if !path.starts_with('/') {
                    return Err(UriError::Value { name: name.into(), reason: "give the PIN file as file:/absolute/path".into() });
                }
                once(name, &mut self.pin_source, PathBuf::from(path))
            }
            "module-name" => once(name, &mut self.module_name, utf8(name, value)?),
            "module-path" => once(name, &mut self.module_path, PathBuf::from(utf8(name, value)?)),
            _ => self.vendor_attribute(name),
        }
    }

    /// RFC 7512 §2.3 allows vendor-specific attributes; they are kept by name so that a signer
    /// can refuse what it cannot honour.
    fn vendor_attribute(&mut self, name: &str) -> Result<(), UriError> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(UriError::Malformed(name.to_owned()));
        }
        self.vendor.push(name.to_owned());
        Ok(())
    }
}

fn once<T>(name: &str, slot: &mut Option<T>, value: T) -> Result<(), UriError> {
    if slot.is_some() {
        return Err(UriError::Repeated(name.to_owned()));
    }
    *slot = Some(value);
    Ok(())
}

fn utf8(name: &str, value: &[u8]) -> Result<String, UriError> {
    String::from_utf8(value.to_vec()).map_err(|_| UriError::Value { name: name.into(), reason: "not UTF-8".into() })
}

fn version(name: &str, text: &str) -> Result<(u8, u8), UriError> {
    let bad = || UriError::Value { name: name.into(), reason: format!("{text:?} is not a version such as 1.23") };
    let (major, minor) = text.split_once('.').unwrap_or((text, "0"));
    let number =
        |s: &str| if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) { Err(bad()) } else { s.parse::<u8>().map_err(|_| bad()) };
    Ok((number(major)?, number(minor)?))
}

/// Percent-decoding into bytes (an `id` is binary).
fn decode(value: &str) -> Result<Vec<u8>, UriError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(|| UriError::Encoding(value.to_owned()))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The examples of RFC 7512 §3.3 (pin-value ones apart: sohoa refuses them).
    #[test]
    fn rfc_7512_examples_parse() {
        let empty = Pkcs11Uri::parse("pkcs11:").unwrap();
        assert_eq!((empty.token, empty.object, empty.vendor.len()), (None, None, 0));

        let u = Pkcs11Uri::parse("pkcs11:object=my-pubkey;type=public").unwrap();
        assert_eq!((u.object.as_deref(), u.object_type), (Some("my-pubkey"), Some(ObjectType::Public)));

        let u = Pkcs11Uri::parse("pkcs11:object=my-key;type=private?pin-source=file:/etc/token").unwrap();
        assert_eq!(u.pin_source, Some(PathBuf::from("/etc/token")));

        let u = Pkcs11Uri::parse(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;\
             object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=?pin-source=file:/etc/token_pin",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("The Software PKCS#11 Softtoken"));
        assert_eq!(u.manufacturer.as_deref(), Some("Snake Oil, Inc."));
        assert_eq!(u.model.as_deref(), Some("1.0"));
        assert_eq!(u.id, Some(vec![0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91]));
        assert_eq!(u.serial.as_deref(), Some(""), "an empty value matches only an empty field");
        assert_eq!(u.object_type, Some(ObjectType::Cert));

        let u = Pkcs11Uri::parse("pkcs11:object=my-sign-key;type=private?module-name=mypkcs11").unwrap();
        assert_eq!(u.module_name.as_deref(), Some("mypkcs11"));
        let u = Pkcs11Uri::parse("pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1").unwrap();
        assert_eq!(u.module_path, Some(PathBuf::from("/mnt/libmypkcs11.so.1")));

        let u = Pkcs11Uri::parse("pkcs11:slot-description=Sun%20Metaslot").unwrap();
        assert_eq!(u.slot_description.as_deref(), Some("Sun Metaslot"));
        let u = Pkcs11Uri::parse(
            "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;library-description=Soft%20Token%20Library;library-version=1.23",
        )
        .unwrap();
        assert_eq!(u.library_version, Some((1, 23)));
        assert_eq!(u.library_description.as_deref(), Some("Soft Token Library"));

        let u = Pkcs11Uri::parse(
            "pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;id=%01%02%03%Ba%dd%Ef%fe;object=my-certificate;type=cert",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("My token% created by Joe"));
        assert_eq!(u.library_version, Some((3, 0)));
        assert_eq!(u.id, Some(vec![1, 2, 3, 0xba, 0xdd, 0xef, 0xfe]));

        let u = Pkcs11Uri::parse("pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert").unwrap();
        assert_eq!(u.token.as_deref(), Some("A name with a substring %;"));
        let u =
            Pkcs11Uri::parse("pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;object=my-certificate;type=cert").unwrap();
        assert_eq!(u.token.as_deref(), Some("Name with a small A with acute: á"));

        let u = Pkcs11Uri::parse(
            "pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a?pin-source=file:/etc/token_pin&vendor-bbb=value-b",
        )
        .unwrap();
        assert_eq!(u.vendor, vec!["vendor-aaa".to_string(), "vendor-bbb".to_string()]);
        assert_eq!(
            u.to_string(),
            "pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a?pin-source=file:/etc/token_pin&vendor-bbb=value-b"
        );
    }

    #[test]
    fn the_seal_key_form_parses() {
        let u =
            Pkcs11Uri::parse("pkcs11:token=sohoa-test;object=seal;id=%01;slot-id=42?module-path=/usr/lib/softhsm/libsofthsm2.so").unwrap();
        assert_eq!((u.token.as_deref(), u.object.as_deref(), u.id.as_deref()), (Some("sohoa-test"), Some("seal"), Some(&[1u8][..])));
        assert_eq!(u.slot_id, Some(42));
        assert_eq!(u.module_path, Some(PathBuf::from("/usr/lib/softhsm/libsofthsm2.so")));
        assert_eq!(Pkcs11Uri::parse("PKCS11:object=seal").unwrap().object.as_deref(), Some("seal"));
    }

    #[test]
    fn bad_uris_are_refused_with_a_reason() {
        let pin = Pkcs11Uri::parse("pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin");
        assert_eq!(pin.unwrap_err(), UriError::PinValue);
        assert_eq!(Pkcs11Uri::parse("pkcs11:?pin-value=%zz1234").unwrap_err(), UriError::PinValue);
        assert_eq!(UriError::PinValue.code(), "pkcs11_pin_value_refused");
        for bad in [
            "file:/etc/key.pem",
            "pkcs1",
            "pkcs11:object=a;object=b",
            "pkcs11:token=%4",
            "pkcs11:token=%zz",
            "pkcs11:token",
            "pkcs11:slot-id=x",
            "pkcs11:type=pubkey",
            "pkcs11:library-version=1.",
            "pkcs11:library-version=300",
            "pkcs11:token=%FF",
            "pkcs11:?pin-source=|/bin/echo%201234",
            "pkcs11:?pin-source=relative/pin",
            "pkcs11:?pin-source=file:/a&pin-source=file:/b",
            "pkcs11:bad%20name=1",
        ] {
            let err = Pkcs11Uri::parse(bad).unwrap_err();
            assert_eq!(err.code(), "pkcs11_uri_invalid", "{bad}: {err}");
        }
    }
}
