//! JSON request bodies whose errors are problem+json like every other error: a JSON media
//! type is required, and no string in the body may carry bidirectional overrides or
//! control characters other than tab and line breaks.

use super::ApiError;
use crate::domain::hidden_character;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Largest JSON body accepted; uploads have their own limit.
const MAX_JSON_BYTES: usize = 256 * 1024;

pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        require_json(req.headers())?;
        let bytes: Bytes = axum::body::to_bytes(req.into_body(), MAX_JSON_BYTES).await.map_err(|e| {
            read_error(e).unwrap_or_else(|| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the JSON body is too large"))
        })?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")))?;
        refuse_hidden_characters(&value)?;
        // From the bytes again rather than the value: a value keeps the last of duplicate
        // keys, which the types' own deserializers refuse.
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::unprocessable("invalid_request", format!("the body does not fit the schema: {e}")))?;
        Ok(JsonBody(value))
    }
}

/// `application/json` or a `+json` type; anything else is 415.
fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json")) {
        return Ok(());
    }
    let shown = if media.is_empty() { "none".to_owned() } else { format!("{:?}", media.chars().take(64).collect::<String>()) };
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!("this route takes application/json; the request's Content-Type is {shown}"),
    ))
}

/// The answer for a body that could not be read for a reason other than its size: a client
/// too slow to send it.
pub(super) fn read_error(e: axum::Error) -> Option<ApiError> {
    let inner = e.into_inner();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(inner.as_ref());
    while let Some(err) = cause {
        if err.downcast_ref::<crate::server::TooSlow>().is_some() {
            return Some(ApiError::new(StatusCode::REQUEST_TIMEOUT, "body_timeout", err.to_string()));
        }
        cause = err.source();
    }
    None
}

fn refuse_hidden_characters(value: &Value) -> Result<(), ApiError> {
    let refuse = |c: char| {
        ApiError::unprocessable(
            "forbidden_character",
            format!("the body holds the character U+{:04X}, which text here may not contain", c as u32),
        )
    };
    match value {
        Value::String(s) => hidden_character(s).map_or(Ok(()), |c| Err(refuse(c))),
        Value::Array(items) => items.iter().try_for_each(refuse_hidden_characters),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| match hidden_character(k) {
            Some(c) => Err(refuse(c)),
            None => refuse_hidden_characters(v),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_overrides_and_controls_are_found_but_line_breaks_pass() {
        assert_eq!(hidden_character("Nguyễn Thị An"), None);
        assert_eq!(hidden_character("line one\nline two\r\n\tindented"), None);
        assert_eq!(hidden_character("abc\u{202E}fdp.exe"), Some('\u{202E}'));
        assert_eq!(hidden_character("\u{2066}x\u{2069}"), Some('\u{2066}'));
        assert_eq!(hidden_character("nul\0"), Some('\0'));
        assert_eq!(hidden_character("c1\u{0085}"), Some('\u{0085}'));
        let nested = serde_json::json!({"applicant": {"name": ["ok", "bad\u{202B}"]}});
        assert_eq!(refuse_hidden_characters(&nested).unwrap_err().code, "forbidden_character");
    }

    #[test]
    fn only_json_media_types_are_taken() {
        let mut headers = HeaderMap::new();
        assert_eq!(require_json(&headers).unwrap_err().status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        for (media, ok) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("application/jsonx", false),
        ] {
            headers.insert(header::CONTENT_TYPE, media.parse().unwrap());
            assert_eq!(require_json(&headers).is_ok(), ok, "{media}");
        }
    }
}
